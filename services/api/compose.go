package main

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// composer builds the mobile objects from the domain services' batch APIs. Every method costs a
// fixed number of service invocations whatever the number of objects; the count is written
// beside each method, and independent calls run in parallel.
type composer struct {
	accounts      *userapi.Client
	publish       *publishapi.Client
	publicBaseURL string // base of the gateway's own URLs (default images)
	mediaBaseURL  string // base of play and cover URLs: the gateway's /media route, or a CDN
}

// users returns the User objects for ids as seen by viewer; unknown ids are absent.
// Invocations: 2, in parallel (user: profiles; publish: work counts).
func (c *composer) users(ctx context.Context, viewer int64, ids []int64) (map[int64]User, error) {
	var profiles map[int64]userapi.Profile
	var workCounts map[int64]int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { profiles, err = c.accounts.Profiles(gctx, ids); return err })
	g.Go(func() (err error) { workCounts, err = c.publish.WorkCounts(gctx, ids); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[int64]User, len(profiles))
	for id, p := range profiles {
		out[id] = c.user(p, workCounts[id])
	}
	return out, nil
}

// user renders a profile and the counters known so far.
func (c *composer) user(p userapi.Profile, workCount int64) User {
	return User{
		ID:              p.ID,
		Name:            p.Name,
		Signature:       p.Signature,
		Avatar:          c.imageURL(p.Avatar, defaultAvatarPath),
		BackgroundImage: c.imageURL(p.BackgroundImage, defaultBackgroundPath),
		WorkCount:       workCount,
	}
}

// videos renders videos with their authors. Invocations: those of users (2, in parallel).
func (c *composer) videos(ctx context.Context, viewer int64, vs []publishapi.Video) ([]Video, error) {
	authorIDs := make([]int64, 0, len(vs))
	seen := map[int64]bool{}
	for _, v := range vs {
		if !seen[v.AuthorID] {
			seen[v.AuthorID] = true
			authorIDs = append(authorIDs, v.AuthorID)
		}
	}
	authors := map[int64]User{}
	if len(authorIDs) > 0 {
		var err error
		if authors, err = c.users(ctx, viewer, authorIDs); err != nil {
			return nil, err
		}
	}
	out := make([]Video, 0, len(vs))
	for _, v := range vs {
		out = append(out, c.video(v, authors[v.AuthorID]))
	}
	return out, nil
}

// feedVideos renders a feed page. The feed's projection already carries each author's profile
// and work count, so the page costs no further invocation.
func (c *composer) feedVideos(entries []feedapi.Entry) []Video {
	out := make([]Video, 0, len(entries))
	for _, e := range entries {
		out = append(out, c.video(e.Video, c.user(e.Author, e.AuthorWorkCount)))
	}
	return out
}

func (c *composer) video(v publishapi.Video, author User) Video {
	return Video{
		ID:       v.ID,
		Author:   author,
		PlayURL:  c.mediaBaseURL + "/" + v.PlayKey,
		CoverURL: c.mediaBaseURL + "/" + v.CoverKey,
		Title:    v.Title,
	}
}

// imageURL makes an absolute URL of a stored image path, or of the default when it is empty.
// Paths that are already absolute (a CDN in front of object storage) pass through.
func (c *composer) imageURL(path, def string) string {
	switch {
	case path == "":
		return c.publicBaseURL + def
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
		return path
	default:
		return c.mediaBaseURL + "/" + strings.TrimPrefix(path, "/")
	}
}

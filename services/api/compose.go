package main

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/counters"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/ids"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// composer builds the mobile objects: profiles from the user service, and every counter from the
// read models their owners publish in the state store (counters). Every method costs a fixed
// number of service invocations whatever the number of objects; the count is written beside
// each method, and independent calls run in parallel.
type composer struct {
	accounts      *userapi.Client
	entries       *videoEntries
	counters      *counters.Reader
	publicBaseURL string // base of the gateway's own URLs (default images)
	mediaBaseURL  string // base of play and cover URLs: the gateway's /media route, or a CDN
}

// facts is what the domain services know about a set of users and videos.
type facts struct {
	profiles map[int64]userapi.Profile
	counters.Counts
}

// gather fetches the profiles of users, and the counters of users (work, like and follow counts,
// whether the viewer follows them) and of videos (like and comment counts, whether the viewer
// likes them). Invocations: 1 (user), beside one bulk read of the state store; with the state
// store down, up to 4 more (the counters' owners: favorite, comment, relation, publish).
func (c *composer) gather(ctx context.Context, viewer int64, userIDs, videoIDs []int64) (facts, error) {
	var f facts
	g, gctx := errgroup.WithContext(ctx)
	if len(userIDs) > 0 {
		g.Go(func() (err error) { f.profiles, err = c.accounts.Profiles(gctx, userIDs); return err })
	}
	g.Go(func() (err error) {
		f.Counts, err = c.counters.Read(gctx, counters.Request{Viewer: viewer, VideoIDs: videoIDs, UserIDs: userIDs})
		return err
	})
	return f, g.Wait()
}

// users returns the User objects for ids as seen by viewer; unknown ids are absent.
// Invocations: 1 (user), as gather.
func (c *composer) users(ctx context.Context, viewer int64, ids []int64) (map[int64]User, error) {
	f, err := c.gather(ctx, viewer, ids, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]User, len(f.profiles))
	for id, p := range f.profiles {
		out[id] = c.user(p, f.Authors[id])
	}
	return out, nil
}

// user renders a profile with its counters, as the viewer the counts were read for sees it.
func (c *composer) user(p userapi.Profile, counts counters.AuthorCounts) User {
	return User{
		ID:              p.ID,
		Name:            p.Name,
		Signature:       p.Signature,
		Avatar:          c.imageURL(p.Avatar, defaultAvatarPath),
		BackgroundImage: c.imageURL(p.BackgroundImage, defaultBackgroundPath),
		WorkCount:       counts.WorkCount,
		FavoriteCount:   counts.FavoriteCount,
		TotalFavorited:  counts.TotalFavorited,
		FollowCount:     counts.FollowCount,
		FollowerCount:   counts.FollowerCount,
		IsFollow:        counts.FollowedByViewer,
	}
}

// videosByID renders the videos videoIDs names, in their order; an id nobody knows is left out.
// Invocations: as videoEntries.get (0 when the gateway has every entry), beside one bulk read.
func (c *composer) videosByID(ctx context.Context, viewer int64, videoIDs []int64) ([]Video, error) {
	entries, err := c.entries.get(ctx, videoIDs)
	if err != nil {
		return nil, err
	}
	return c.videos(ctx, viewer, entries)
}

// videos renders entries (the video and its author's profile, kept by the gateway) with their
// counters, in the given order. Invocations: none, beside one bulk read of the state store; with
// it down, up to 4 (the counters' owners).
func (c *composer) videos(ctx context.Context, viewer int64, entries []feedapi.Entry) ([]Video, error) {
	counts, err := c.counters.Read(ctx, counters.Request{
		Viewer:   viewer,
		VideoIDs: ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.ID }),
		UserIDs:  ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.AuthorID }),
	})
	if err != nil {
		return nil, err
	}
	out := make([]Video, 0, len(entries))
	for _, e := range entries {
		id := e.Video.AuthorID
		author := c.user(e.Author, counts.Authors[id])
		out = append(out, c.video(e.Video, author, counts.Videos[e.Video.ID]))
	}
	return out, nil
}

func (c *composer) video(v publishapi.Video, author User, counts counters.VideoCounts) Video {
	return Video{
		ID:            v.ID,
		Author:        author,
		PlayURL:       c.mediaBaseURL + "/" + v.PlayKey,
		CoverURL:      c.mediaBaseURL + "/" + v.CoverKey,
		Title:         v.Title,
		FavoriteCount: counts.Likes,
		CommentCount:  counts.Comments,
		IsFavorite:    counts.LikedByViewer,
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

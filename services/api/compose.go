package main

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/ids"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// composer builds the mobile objects from the domain services' batch APIs. Every method costs a
// fixed number of service invocations whatever the number of objects; the count is written
// beside each method, and independent calls run in parallel.
type composer struct {
	accounts      *userapi.Client
	publish       *publishapi.Client
	favorites     *favoriteapi.Client
	comments      *commentapi.Client
	relations     *relationapi.Client
	publicBaseURL string // base of the gateway's own URLs (default images)
	mediaBaseURL  string // base of play and cover URLs: the gateway's /media route, or a CDN
}

// facts is what the domain services know about a set of users and videos.
type facts struct {
	profiles      map[int64]userapi.Profile
	workCounts    map[int64]int64
	likes         favoriteapi.SummaryReply
	follows       map[int64]relationapi.UserFollows
	commentCounts map[int64]int64
}

// gather fetches profiles, work counts, like and follow counts of users (and whether the viewer
// follows them), and like and comment counts of videos.
// Invocations: up to 5, in parallel (user, publish, favorite, comment, relation).
func (c *composer) gather(ctx context.Context, viewer int64, userIDs, videoIDs []int64) (facts, error) {
	var f facts
	g, gctx := errgroup.WithContext(ctx)
	if len(userIDs) > 0 {
		g.Go(func() (err error) { f.profiles, err = c.accounts.Profiles(gctx, userIDs); return err })
		g.Go(func() (err error) { f.workCounts, err = c.publish.WorkCounts(gctx, userIDs); return err })
		g.Go(func() (err error) { f.follows, err = c.relations.Summary(gctx, viewer, userIDs); return err })
	}
	if len(userIDs)+len(videoIDs) > 0 {
		g.Go(func() (err error) {
			f.likes, err = c.favorites.Summary(gctx, favoriteapi.SummaryRequest{Viewer: viewer, VideoIDs: videoIDs, UserIDs: userIDs})
			return err
		})
	}
	if len(videoIDs) > 0 {
		g.Go(func() (err error) { f.commentCounts, err = c.comments.Counts(gctx, videoIDs); return err })
	}
	return f, g.Wait()
}

// userCounts are a user's counters from their owners, in the shape the feed reports them.
func (f facts) userCounts(id int64) feedapi.AuthorCounts {
	return feedapi.AuthorCounts{UserLikes: f.likes.Users[id], UserFollows: f.follows[id]}
}

// users returns the User objects for ids as seen by viewer; unknown ids are absent.
// Invocations: 4, in parallel (user, publish, favorite, relation).
func (c *composer) users(ctx context.Context, viewer int64, ids []int64) (map[int64]User, error) {
	f, err := c.gather(ctx, viewer, ids, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]User, len(f.profiles))
	for id, p := range f.profiles {
		out[id] = c.user(p, f.workCounts[id], f.userCounts(id))
	}
	return out, nil
}

// user renders a profile with its counters, as the viewer the counts were read for sees it.
func (c *composer) user(p userapi.Profile, workCount int64, counts feedapi.AuthorCounts) User {
	return User{
		ID:              p.ID,
		Name:            p.Name,
		Signature:       p.Signature,
		Avatar:          c.imageURL(p.Avatar, defaultAvatarPath),
		BackgroundImage: c.imageURL(p.BackgroundImage, defaultBackgroundPath),
		WorkCount:       workCount,
		FavoriteCount:   counts.FavoriteCount,
		TotalFavorited:  counts.TotalFavorited,
		FollowCount:     counts.FollowCount,
		FollowerCount:   counts.FollowerCount,
		IsFollow:        counts.FollowedByViewer,
	}
}

// videos renders videos with their authors, in the given order.
// Invocations: 5, in parallel (user, publish, favorite, comment, relation).
func (c *composer) videos(ctx context.Context, viewer int64, vs []publishapi.Video) ([]Video, error) {
	videoIDs := ids.Distinct(vs, func(v publishapi.Video) int64 { return v.ID })
	authorIDs := ids.Distinct(vs, func(v publishapi.Video) int64 { return v.AuthorID })
	f, err := c.gather(ctx, viewer, authorIDs, videoIDs)
	if err != nil {
		return nil, err
	}
	out := make([]Video, 0, len(vs))
	for _, v := range vs {
		author := c.user(f.profiles[v.AuthorID], f.workCounts[v.AuthorID], f.userCounts(v.AuthorID))
		out = append(out, c.video(v, author, f.likes.Videos[v.ID], f.commentCounts[v.ID]))
	}
	return out, nil
}

// feedVideos renders a feed page. The feed's reply already carries each author's profile and
// work count, and every counter: no further invocation.
func (c *composer) feedVideos(entries []feedapi.Entry, counts feedapi.Counts) []Video {
	out := make([]Video, 0, len(entries))
	for _, e := range entries {
		author := c.user(e.Author, e.AuthorWorkCount, counts.Authors[e.Video.AuthorID])
		v := counts.Videos[e.Video.ID]
		out = append(out, c.video(e.Video, author, favoriteapi.VideoLikes{Count: v.Likes, LikedByView: v.LikedByViewer}, v.Comments))
	}
	return out
}

func (c *composer) video(v publishapi.Video, author User, likes favoriteapi.VideoLikes, comments int64) Video {
	return Video{
		ID:            v.ID,
		Author:        author,
		PlayURL:       c.mediaBaseURL + "/" + v.PlayKey,
		CoverURL:      c.mediaBaseURL + "/" + v.CoverKey,
		Title:         v.Title,
		FavoriteCount: likes.Count,
		CommentCount:  comments,
		IsFavorite:    likes.LikedByView,
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

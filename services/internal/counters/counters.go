// Package counters reads the counters of videos and users that their owners publish as read
// models in the shared state store: like counts and the viewer's likes (favorite), comment counts
// (comment), follow counts and whom the viewer follows (relation), work counts (publish). One bulk
// read of a few counters buckets answers a whole page; with the state store down, the owners are
// asked instead (they answer from PostgreSQL).
//
// The keys and their decoding belong to the owners' API packages; this package only gathers
// them, so that the gateway reads them one way for every User and Video it renders.
package counters

import (
	"context"
	"encoding/json"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
)

// Request names the counters wanted: of videos, and of users (work counts included).
type Request struct {
	Viewer   int64
	VideoIDs []int64
	UserIDs  []int64
}

// Counts are the counters read. Every requested id is present.
type Counts struct {
	feedapi.Counts
	Works map[int64]int64
}

// Keys names the state keys holding the counters req asks for.
func Keys(req Request) []string {
	keys := req.likes().Keys()
	keys = append(keys, lww.BucketKeys(commentapi.CommentCountsBucket, req.VideoIDs)...)
	for _, prefix := range []string{relationapi.FollowCountBucket, relationapi.FollowerCountBucket} {
		keys = append(keys, lww.BucketKeys(prefix, req.UserIDs)...)
	}
	keys = append(keys, lww.BucketKeys(publishapi.WorkCountBucket, req.UserIDs)...)
	if req.Viewer > 0 {
		keys = append(keys, relationapi.FollowsShardKeys(req.Viewer, req.UserIDs)...)
	}
	return keys
}

// likes is the part of req the favorite service's read model answers.
func (req Request) likes() favoriteapi.SummaryRequest {
	return favoriteapi.SummaryRequest{Viewer: req.Viewer, VideoIDs: req.VideoIDs, UserIDs: req.UserIDs}
}

// Decode reads the counters req asks for out of a bulk read of (at least) Keys(req).
func Decode(raw map[string]json.RawMessage, req Request) (Counts, error) {
	counts := newCounts(req)
	likes, err := favoriteapi.DecodeSummary(raw, req.likes())
	if err != nil {
		return counts, err
	}
	buckets := lww.NewBuckets(raw)
	followedByViewer := func(id int64) bool {
		if req.Viewer <= 0 {
			return false
		}
		shard := buckets.Set(relationapi.FollowsShardKey(req.Viewer, id))
		return shard.Has(id)
	}
	for _, id := range req.VideoIDs {
		counts.Videos[id] = feedapi.VideoCounts{
			Likes:         likes.Videos[id].Count,
			Comments:      buckets.Count(commentapi.CommentCountsBucket, id),
			LikedByViewer: likes.Videos[id].LikedByView,
		}
	}
	for _, id := range req.UserIDs {
		counts.Authors[id] = feedapi.AuthorCounts{
			UserLikes: likes.Users[id],
			UserFollows: relationapi.UserFollows{
				FollowCount:      buckets.Count(relationapi.FollowCountBucket, id),
				FollowerCount:    buckets.Count(relationapi.FollowerCountBucket, id),
				FollowedByViewer: followedByViewer(id),
			},
		}
		counts.Works[id] = buckets.Count(publishapi.WorkCountBucket, id)
	}
	return counts, buckets.Err()
}

func newCounts(req Request) Counts {
	c := Counts{Counts: feedapi.Counts{
		Videos:  make(map[int64]feedapi.VideoCounts, len(req.VideoIDs)),
		Authors: make(map[int64]feedapi.AuthorCounts, len(req.UserIDs)),
	}}
	c.Works = make(map[int64]int64, len(req.UserIDs))
	return c
}

// Owners are the services that own the counters, asked when the state store is down.
type Owners struct {
	Favorites *favoriteapi.Client
	Comments  *commentapi.Client
	Relations *relationapi.Client
	Publish   *publishapi.Client // only for work counts
}

// Reader reads counters from the state store, or from their owners when it is down.
type Reader struct {
	State  hotmodel.Store
	Owners Owners
}

// Read answers req with one bulk read of the state store, or with the owners' answers when the
// state store cannot be read.
func (r *Reader) Read(ctx context.Context, req Request) (Counts, error) {
	if len(req.VideoIDs)+len(req.UserIDs) == 0 {
		return newCounts(req), nil
	}
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, r.State, Keys(req))
	cancel()
	if err == nil {
		return Decode(raw, req)
	}
	logging.FromContext(ctx).Warn("state store unavailable, asking the counters' owners", zap.Error(err))
	return r.FromOwners(ctx, req)
}

// FromOwners asks the counters' owners, in parallel. Invocations: up to 4 (favorite, comment,
// relation, publish for work counts).
func (r *Reader) FromOwners(ctx context.Context, req Request) (Counts, error) {
	counts := newCounts(req)
	var likes favoriteapi.SummaryReply
	var comments, works map[int64]int64
	var follows map[int64]relationapi.UserFollows
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		likes, err = r.Owners.Favorites.Summary(gctx, req.likes())
		return err
	})
	if len(req.VideoIDs) > 0 {
		g.Go(func() (err error) { comments, err = r.Owners.Comments.Counts(gctx, req.VideoIDs); return err })
	}
	if len(req.UserIDs) > 0 {
		g.Go(func() (err error) {
			follows, err = r.Owners.Relations.Summary(gctx, req.Viewer, req.UserIDs)
			return err
		})
		g.Go(func() (err error) { works, err = r.Owners.Publish.WorkCounts(gctx, req.UserIDs); return err })
	}
	if err := g.Wait(); err != nil {
		return counts, err
	}
	for _, id := range req.VideoIDs {
		v := likes.Videos[id]
		counts.Videos[id] = feedapi.VideoCounts{Likes: v.Count, Comments: comments[id], LikedByViewer: v.LikedByView}
	}
	for _, id := range req.UserIDs {
		counts.Authors[id] = feedapi.AuthorCounts{UserLikes: likes.Users[id], UserFollows: follows[id]}
		counts.Works[id] = works[id]
	}
	return counts, nil
}

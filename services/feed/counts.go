package main

import (
	"context"
	"encoding/json"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/ids"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/relationapi"
)

// counterKeys names the state keys holding the counters of entries, the viewer's likes and whom
// the viewer follows.
func counterKeys(entries []feedapi.Entry, viewer int64) []string {
	videoIDs, authorIDs := idsOf(entries)
	keys := lww.BucketKeys(favoriteapi.VideoLikesBucket, videoIDs)
	keys = append(keys, lww.BucketKeys(commentapi.CommentCountsBucket, videoIDs)...)
	keys = append(keys, lww.BucketKeys(favoriteapi.UserLikedBucket, authorIDs)...)
	keys = append(keys, lww.BucketKeys(favoriteapi.UserReceivedBucket, authorIDs)...)
	keys = append(keys, lww.BucketKeys(relationapi.FollowCountBucket, authorIDs)...)
	keys = append(keys, lww.BucketKeys(relationapi.FollowerCountBucket, authorIDs)...)
	if viewer > 0 {
		keys = append(keys, favoriteapi.UserLikesKey(viewer), relationapi.FollowsKey(viewer))
	}
	return keys
}

// counts reads the counters of a page's videos and authors, the viewer's likes and follows,
// from the read models the favorite, comment and relation services publish in the state store:
// one bulk read of a few bucket keys. When the state store is down (known already, or found now) it asks those
// services instead, which answer from PostgreSQL.
func (t *timeline) counts(ctx context.Context, entries []feedapi.Entry, viewer int64, stateDown bool) (feedapi.Counts, error) {
	if len(entries) == 0 {
		return countsFrom(nil, nil, viewer)
	}
	if !stateDown {
		readCtx, cancel := context.WithTimeout(ctx, cacheTimeout)
		defer cancel()
		raw, err := lww.GetMany[json.RawMessage](readCtx, t.state, counterKeys(entries, viewer))
		if err == nil {
			return countsFrom(raw, entries, viewer)
		}
		logging.FromContext(ctx).Warn("state store unavailable, asking the counters' owners", zap.Error(err))
	}
	videoIDs, authorIDs := idsOf(entries)
	return t.countsFromOwners(ctx, videoIDs, authorIDs, viewer)
}

// countsFrom decodes the counters of entries from a bulk read of counterKeys.
func countsFrom(raw map[string]json.RawMessage, entries []feedapi.Entry, viewer int64) (feedapi.Counts, error) {
	videoIDs, authorIDs := idsOf(entries)
	counts := feedapi.Counts{Videos: make(map[int64]feedapi.VideoCounts, len(videoIDs)), Authors: make(map[int64]feedapi.AuthorCounts, len(authorIDs))}
	buckets := lww.NewBuckets(raw)
	var viewerLikes, viewerFollows lww.Set
	if viewer > 0 {
		viewerLikes = buckets.Set(favoriteapi.UserLikesKey(viewer))
		viewerFollows = buckets.Set(relationapi.FollowsKey(viewer))
	}
	for _, id := range videoIDs {
		counts.Videos[id] = feedapi.VideoCounts{
			Likes:         buckets.Count(favoriteapi.VideoLikesBucket, id),
			Comments:      buckets.Count(commentapi.CommentCountsBucket, id),
			LikedByViewer: viewerLikes.Has(id),
		}
	}
	for _, id := range authorIDs {
		counts.Authors[id] = feedapi.AuthorCounts{
			UserLikes: favoriteapi.UserLikes{
				FavoriteCount:  buckets.Count(favoriteapi.UserLikedBucket, id),
				TotalFavorited: buckets.Count(favoriteapi.UserReceivedBucket, id),
			},
			UserFollows: relationapi.UserFollows{
				FollowCount:      buckets.Count(relationapi.FollowCountBucket, id),
				FollowerCount:    buckets.Count(relationapi.FollowerCountBucket, id),
				FollowedByViewer: viewerFollows.Has(id),
			},
		}
	}
	return counts, buckets.Err()
}

// countsFromOwners asks the favorite, comment and relation services for the counters, in parallel.
func (t *timeline) countsFromOwners(ctx context.Context, videoIDs, authorIDs []int64, viewer int64) (feedapi.Counts, error) {
	counts := feedapi.Counts{Videos: map[int64]feedapi.VideoCounts{}, Authors: map[int64]feedapi.AuthorCounts{}}
	var likes favoriteapi.SummaryReply
	var comments map[int64]int64
	var follows map[int64]relationapi.UserFollows
	var g errgroup.Group
	g.Go(func() (err error) {
		likes, err = t.favorites.Summary(ctx, favoriteapi.SummaryRequest{Viewer: viewer, VideoIDs: videoIDs, UserIDs: authorIDs})
		return err
	})
	g.Go(func() (err error) {
		comments, err = t.comments.Counts(ctx, videoIDs)
		return err
	})
	g.Go(func() (err error) {
		follows, err = t.relations.Summary(ctx, viewer, authorIDs)
		return err
	})
	if err := g.Wait(); err != nil {
		return counts, err
	}
	for _, id := range videoIDs {
		counts.Videos[id] = feedapi.VideoCounts{Likes: likes.Videos[id].Count, Comments: comments[id], LikedByViewer: likes.Videos[id].LikedByView}
	}
	for _, id := range authorIDs {
		counts.Authors[id] = feedapi.AuthorCounts{UserLikes: likes.Users[id], UserFollows: follows[id]}
	}
	return counts, nil
}

func idsOf(entries []feedapi.Entry) (videoIDs, authorIDs []int64) {
	videoIDs = ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.ID })
	authorIDs = ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.AuthorID })
	return videoIDs, authorIDs
}

package main

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// The hot read model; every value is bounded, however many likes a video or a user has:
//
//	likes-of-<user>-<bucket> the videos of one bucket (lww.BucketSize ids) the user likes: the
//	                         authority on "does u like v", and is_favorite for a page
//	likes-<bucket>           favorite_count of videos   (favoriteapi.Tally, see tally.go)
//	liked-<bucket>           favorite_count of users    (favoriteapi.Tally)
//	received-<bucket>        total_favorited of users   (favoriteapi.Tally)
//	recent-<user>            the user's newest recentSize changes: the favorite list
//
// The keys have no TTL: together with the broker they are the truth until the consumer has
// persisted a change, so they are not a cache that may forget. Should the store lose them all,
// they are rebuilt from PostgreSQL (restore). The state store is shared by the services, so every
// key starts with the owner's name; all but recent-<user> are the published read model
// (favoriteapi).
func recentKey(user int64) string { return "favorite:recent-" + strconv.FormatInt(user, 10) }

// likes is the favorite service's logic.
type likes struct {
	hot     hotmodel.Store
	sdk     dapr.Client
	store   *store
	authors *publishapi.Authors
}

// newLikes is the favorite service's logic on the hot model hot. Every compare-and-swap here
// reads its key first (hotmodel keeps no memory of its own writes): after the state store lost
// its data, Dapr's Redis store writes a missing key whatever ETag comes with the write and numbers
// its versions from 1 again, so a shard, window or tally written from such a memory would put back
// facts the emptied tallies do not count, or replace what the restore wrote since (a liked video
// showing is_favorite false while the tallies count it).
func newLikes(hot hotmodel.Store, sdk dapr.Client, st *store, authors *publishapi.Authors) *likes {
	return &likes{hot: hot, sdk: sdk, store: st, authors: authors}
}

// apply handles one like or unlike: the change is announced first (the broker holds it before
// anything is visible, so nothing visible can be lost), then applied to the hot read model, so
// the answer is given only when every reader sees it.
func (l *likes) apply(ctx context.Context, req favoriteapi.ApplyRequest) error {
	authorID, err := l.authors.Of(ctx, req.VideoID)
	if err != nil {
		return err
	}
	change := favoriteapi.Changed{
		EventID:  uuid.NewString(),
		UserID:   req.UserID,
		VideoID:  req.VideoID,
		AuthorID: authorID,
		Liked:    req.Liked,
		At:       time.Now().UnixMilli(),
	}
	if err := events.Publish(ctx, l.sdk, favoriteapi.TopicFavoriteChanged, change); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	if err := l.countAndRecord(ctx, change); err != nil {
		return err
	}
	// Every reader sees the change now: the tallies count it and the shard has it. Settling only
	// drops the tallies' pending entries, so the answer does not wait for it; should it fail, or
	// the process die first, the consumer finds the change pending and settles it (ensureVisible).
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer cancel()
		if l.settleAll(ctx, change) == nil {
			l.hot.Finished.Add(change.EventID)
		}
	}()
	return nil
}

// settleTimeout bounds the settling that runs after a like is answered.
const settleTimeout = 10 * time.Second

// makeVisible counts a change in its three tallies, records it in the pair's shard and the
// user's window, and settles the tallies (tally.go). It is idempotent: the event consumer calls
// it again for a change whose request may have died half-way.
func (l *likes) makeVisible(ctx context.Context, c favoriteapi.Changed) error {
	if err := l.countAndRecord(ctx, c); err != nil {
		return err
	}
	return l.settleAll(ctx, c)
}

// countAndRecord is steps 1 and 2 (tally.go): after it, the change is visible.
func (l *likes) countAndRecord(ctx context.Context, c favoriteapi.Changed) error {
	err := eachOf(talliesOf(c), func(t tallyOf) error { return l.count(ctx, t, c) })
	if err == nil {
		err = l.record(ctx, c)
	}
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// settleAll is step 3 for the change's three tallies.
func (l *likes) settleAll(ctx context.Context, c favoriteapi.Changed) error {
	if err := eachOf(talliesOf(c), func(t tallyOf) error { return l.settle(ctx, t, c) }); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// eachOf runs fn for every tally side by side: they are different keys.
func eachOf(tallies []tallyOf, fn func(tallyOf) error) error {
	var g errgroup.Group
	for _, t := range tallies {
		g.Go(func() error { return fn(t) })
	}
	return g.Wait()
}

func (l *likes) count(ctx context.Context, t tallyOf, c favoriteapi.Changed) error {
	_, err := hotmodel.Update(ctx, l.hot, lww.BucketKey(t.bucket, t.id), func(tally *favoriteapi.Tally) error {
		changed, err := count(tally, t.id, c, func() (lww.Fact, error) {
			shard, err := l.shard(ctx, c.UserID, c.VideoID)
			return shard.Members[c.VideoID], err
		})
		if err == nil && !changed {
			err = hotmodel.ErrUnchanged
		}
		return err
	})
	return err
}

// shard reads the pair's shard from the store itself: the count must see the shard as it is
// after the tally was read (tally.go).
func (l *likes) shard(ctx context.Context, user, video int64) (lww.Set, error) {
	var s lww.Set
	item, err := l.hot.SDK.GetState(ctx, l.hot.Name, favoriteapi.LikedShardKey(user, video), nil)
	if err != nil || item == nil || len(item.Value) == 0 {
		return s, err
	}
	return s, json.Unmarshal(item.Value, &s)
}

// record applies the change to the pair's shard and to the user's window.
func (l *likes) record(ctx context.Context, c favoriteapi.Changed) error {
	var g errgroup.Group
	g.Go(func() error {
		_, err := hotmodel.Update(ctx, l.hot, favoriteapi.LikedShardKey(c.UserID, c.VideoID), hotmodel.Record(c.VideoID, c.Fact()))
		return err
	})
	g.Go(func() error {
		_, err := hotmodel.Update(ctx, l.hot, recentKey(c.UserID), func(recent *lww.Set) error {
			if !remember(recent, c.VideoID, c.Fact()) {
				return hotmodel.ErrUnchanged
			}
			return nil
		})
		return err
	})
	return g.Wait()
}

func (l *likes) settle(ctx context.Context, t tallyOf, c favoriteapi.Changed) error {
	_, err := hotmodel.Update(ctx, l.hot, lww.BucketKey(t.bucket, t.id), func(tally *favoriteapi.Tally) error {
		if !settle(tally, t.id, c) {
			return hotmodel.ErrUnchanged
		}
		return nil
	})
	return err
}

// ensureVisible is the consumer's check that a persisted change is in the hot model: nothing to
// do when this process's request finished it; otherwise one bulk read, and the full makeVisible
// only when something is missing (the request died half-way, or ran on another replica and is
// not finished yet).
func (l *likes) ensureVisible(ctx context.Context, c favoriteapi.Changed) error {
	if l.hot.Finished.Take(c.EventID) {
		return nil
	}
	shardKey := favoriteapi.LikedShardKey(c.UserID, c.VideoID)
	keys := []string{shardKey, recentKey(c.UserID)}
	for _, t := range talliesOf(c) {
		keys = append(keys, lww.BucketKey(t.bucket, t.id))
	}
	raw, err := hotmodel.GetMany[json.RawMessage](ctx, l.hot, keys)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	buckets := lww.NewBuckets(raw)
	shard, recent := buckets.Set(shardKey), buckets.Set(recentKey(c.UserID))
	known, ok := shard.Members[c.VideoID]
	complete := ok && !c.Fact().Newer(known) && remembered(recent, c.VideoID, c.Fact())
	for _, t := range talliesOf(c) {
		var tally favoriteapi.Tally
		if v, found := raw[lww.BucketKey(t.bucket, t.id)]; found {
			if err := json.Unmarshal(v, &tally); err != nil {
				return err
			}
		}
		if i := pendingIndex(&tally, t.id, c.UserID, c.VideoID); i >= 0 && !tally.Pending[i].Fact.Newer(c.Fact()) {
			complete = false
		}
	}
	if err := buckets.Err(); err != nil {
		return err
	}
	if complete {
		return nil
	}
	return l.makeVisible(ctx, c)
}

// restore puts every persisted change back into the hot model after the state store lost it
// (hotmodel.KeepRestored).
func (l *likes) restore(ctx context.Context) (int, error) {
	return hotmodel.Replay(ctx, l.store.eachChange, l.makeVisible)
}

// summary answers counts from the tallies and is_favorite from the viewer's shards, in one bulk
// read, or from PostgreSQL when the state store is unavailable (then changes not yet persisted
// are missing until it returns).
func (l *likes) summary(ctx context.Context, req favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, l.hot, req.Keys())
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return l.store.summary(ctx, req)
	}
	return favoriteapi.DecodeSummary(raw, req)
}

// list returns the newest favoriteapi.MaxListed videos a user likes, most recently liked first:
// from the user's window alone when it holds all of them (its likes add up to the user's
// count), else from PostgreSQL overlaid with the window (the changes not yet persisted).
func (l *likes) list(ctx context.Context, userID int64) ([]int64, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	keys := []string{recentKey(userID), lww.BucketKey(favoriteapi.UserLikedBucket, userID)}
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, l.hot, keys)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return l.store.likedVideos(ctx, userID, lww.Set{})
	}
	buckets := lww.NewBuckets(raw)
	recent := buckets.Set(recentKey(userID))
	count := buckets.Count(favoriteapi.UserLikedBucket, userID)
	if err := buckets.Err(); err != nil {
		return nil, err
	}
	if ids := recent.Newest(); int64(len(ids)) == count {
		return ids, nil
	}
	return l.store.likedVideos(ctx, userID, recent)
}

func apply(l *likes) func(context.Context, favoriteapi.ApplyRequest) (envelope.Status, error) {
	return func(ctx context.Context, req favoriteapi.ApplyRequest) (envelope.Status, error) {
		if req.UserID <= 0 || req.VideoID <= 0 {
			return envelope.Status{}, apperr.Newf(apperr.InvalidParameter, "user_id and video_id are required")
		}
		return envelope.Success, l.apply(ctx, req)
	}
}

func summary(l *likes) func(context.Context, favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
	return func(ctx context.Context, req favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
		if err := server.LimitBatch(len(req.VideoIDs)+len(req.UserIDs), favoriteapi.MaxSummaryIDs); err != nil {
			return favoriteapi.SummaryReply{}, err
		}
		return l.summary(ctx, req)
	}
}

func list(l *likes) func(context.Context, favoriteapi.ListRequest) (favoriteapi.ListReply, error) {
	return func(ctx context.Context, req favoriteapi.ListRequest) (favoriteapi.ListReply, error) {
		ids, err := l.list(ctx, req.UserID)
		return favoriteapi.ListReply{Status: envelope.Success, VideoIDs: ids}, err
	}
}

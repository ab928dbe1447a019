package main

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

// The hot read model, last-writer-wins sets of user ids, each count copied into counters buckets
// of 64 users (no TTL: with the broker it is the truth until the consumer has persisted a change;
// rebuilt from PostgreSQL by restore should the store lose it):
//
//	following-<id>          users the user follows → the follow list
//	fans-<id>               users who follow the user → the follower list
//	follows-<id>-<bucket>   the users of one bucket of 64 ids the user follows → is_follow: a
//	                        page's answer reads small keys, however many users the viewer follows
//	follow-count-<bucket>   follow_count of users, copied from following-<id>
//	follower-count-<bucket> follower_count of users, copied from fans-<id>
//
// Friends are the users in both of a user's whole sets. The shards and the buckets are the
// published read model (relationapi); every key starts with the owner's name.
func followingKey(id int64) string { return "relation:following-" + strconv.FormatInt(id, 10) }
func fansKey(id int64) string      { return "relation:fans-" + strconv.FormatInt(id, 10) }

// follows is the relation service's logic.
type follows struct {
	hot   hotmodel.Store
	sdk   dapr.Client
	store *store
	users *userapi.Known
}

// apply handles one follow or unfollow: the change is announced first (the broker holds it
// before anything is visible), then applied to the hot read model, so the answer is given only
// when every reader sees it.
func (f *follows) apply(ctx context.Context, req relationapi.ApplyRequest) error {
	if req.FollowerID <= 0 || req.FolloweeID <= 0 {
		return apperr.Newf(apperr.InvalidParameter, "follower_id and followee_id are required")
	}
	if req.FollowerID == req.FolloweeID {
		return apperr.New(apperr.FollowSelf)
	}
	if err := f.users.Check(ctx, req.FolloweeID); err != nil {
		return err
	}
	change := relationapi.Changed{
		EventID:    uuid.NewString(),
		FollowerID: req.FollowerID,
		FolloweeID: req.FolloweeID,
		Follow:     req.Follow,
		At:         time.Now().UnixMilli(),
	}
	if err := events.Publish(ctx, f.sdk, relationapi.TopicRelationChanged, change); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	if err := f.makeVisible(ctx, change); err != nil {
		return err
	}
	f.hot.Finished.Add(change.EventID)
	return nil
}

// makeVisible applies a change to both users' sets and copies their new sizes into the counters
// buckets, and applies it to the follower's shard; the three are independent and run side by
// side. It is idempotent: the consumer calls it again for a change this process's request did
// not finish.
func (f *follows) makeVisible(ctx context.Context, c relationapi.Changed) error {
	var g errgroup.Group
	g.Go(func() error {
		_, err := hotmodel.UpdateCounted(ctx, f.hot, followingKey(c.FollowerID), c.FolloweeID, c.Fact(), relationapi.FollowCountBucket, c.FollowerID)
		return err
	})
	g.Go(func() error {
		_, err := hotmodel.Update(ctx, f.hot, relationapi.FollowsShardKey(c.FollowerID, c.FolloweeID), hotmodel.Record(c.FolloweeID, c.Fact()))
		return err
	})
	g.Go(func() error {
		_, err := hotmodel.UpdateCounted(ctx, f.hot, fansKey(c.FolloweeID), c.FollowerID, c.Fact(), relationapi.FollowerCountBucket, c.FolloweeID)
		return err
	})
	if err := g.Wait(); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// ensureVisible is the consumer's check, after the save, that the hot model has a change:
// nothing to do when this process's request finished it; otherwise makeVisible, which writes
// only what is missing.
func (f *follows) ensureVisible(ctx context.Context, c relationapi.Changed) error {
	if f.hot.Finished.Take(c.EventID) {
		return nil
	}
	return f.makeVisible(ctx, c)
}

// restore puts every persisted change back into the hot model after the state store lost it
// (hotmodel.KeepRestored).
func (f *follows) restore(ctx context.Context) (int, error) {
	return hotmodel.Replay(ctx, f.store.eachChange, f.makeVisible)
}

// summary answers counts from the counters buckets and whom the viewer follows from the
// viewer's set, in one bulk read, or from PostgreSQL when the state store is unavailable (then
// changes not yet persisted are missing until it returns).
func (f *follows) summary(ctx context.Context, req relationapi.SummaryRequest) (map[int64]relationapi.UserFollows, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, f.hot, req.Keys())
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		users, err := f.store.summary(ctx, req)
		if err != nil {
			return nil, apperr.Wrap(apperr.Unavailable, err)
		}
		return users, nil
	}
	return relationapi.DecodeSummary(raw, req)
}

// list returns one of a user's lists, most recent first, from the hot model or, when the state
// store is unavailable, from PostgreSQL.
func (f *follows) list(ctx context.Context, req relationapi.ListRequest) ([]int64, error) {
	query, ok := listQueries[req.List]
	if !ok || req.UserID <= 0 {
		return nil, apperr.Newf(apperr.InvalidParameter, "user_id and a list (following, followers, friends) are required")
	}
	if err := f.users.Check(ctx, req.UserID); err != nil {
		return nil, err
	}
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	sets, err := hotmodel.GetMany[lww.Set](readCtx, f.hot, []string{followingKey(req.UserID), fansKey(req.UserID)})
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		ids, err := pgdb.IDs(ctx, f.store.db, query, req.UserID)
		if err != nil {
			return nil, apperr.Wrap(apperr.Unavailable, err)
		}
		return ids, nil
	}
	following, fans := sets[followingKey(req.UserID)], sets[fansKey(req.UserID)]
	switch req.List {
	case relationapi.ListFollowing:
		return following.Newest(), nil
	case relationapi.ListFollowers:
		return fans.Newest(), nil
	default:
		return friends(following, fans), nil
	}
}

// friends returns the users in both sets, the most recent friendship (the later of its two
// follows) first.
func friends(following, fans lww.Set) []int64 {
	formed := map[int64]int64{}
	for id, fact := range following.Members {
		if back := fans.Members[id]; fact.In && back.In {
			formed[id] = max(fact.At, back.At)
		}
	}
	ids := make([]int64, 0, len(formed))
	for id := range formed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if formed[ids[i]] != formed[ids[j]] {
			return formed[ids[i]] > formed[ids[j]]
		}
		return ids[i] > ids[j]
	})
	return ids
}

func apply(f *follows) func(context.Context, relationapi.ApplyRequest) (envelope.Status, error) {
	return func(ctx context.Context, req relationapi.ApplyRequest) (envelope.Status, error) {
		return envelope.Success, f.apply(ctx, req)
	}
}

func summary(f *follows) func(context.Context, relationapi.SummaryRequest) (relationapi.SummaryReply, error) {
	return func(ctx context.Context, req relationapi.SummaryRequest) (relationapi.SummaryReply, error) {
		if err := server.LimitBatch(len(req.UserIDs), relationapi.MaxSummaryIDs); err != nil {
			return relationapi.SummaryReply{}, err
		}
		users, err := f.summary(ctx, req)
		return relationapi.SummaryReply{Status: envelope.Success, Users: users}, err
	}
}

func list(f *follows) func(context.Context, relationapi.ListRequest) (relationapi.ListReply, error) {
	return func(ctx context.Context, req relationapi.ListRequest) (relationapi.ListReply, error) {
		ids, err := f.list(ctx, req)
		if ids == nil {
			ids = []int64{}
		}
		return relationapi.ListReply{Status: envelope.Success, UserIDs: ids}, err
	}
}

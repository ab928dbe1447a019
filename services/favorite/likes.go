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
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// The hot read model. Sets are written on every change; readers read the small counters
// buckets (a page's counters sit in a few keys) and the viewer's own set:
//
//	video-<id>        users who like the video (the authority on "does u like v")
//	user-<id>         videos the user likes → is_favorite for that viewer, the liked list
//	author-<id>       like count of each of the author's videos
//	likes-<bucket>    favorite_count of videos, copied from video-<id>
//	liked-<bucket>    favorite_count of users, copied from user-<id>
//	received-<bucket> total_favorited of users, copied from author-<id>
//
// The keys have no TTL: together with the broker they are the truth until the consumer has
// persisted a change, so they are not a cache that may forget. Should the store lose them all,
// they are rebuilt from PostgreSQL (restore).
//
// The state store is shared by the services, so every key starts with the owner's name; the
// buckets and user-<id> are the published read model (favoriteapi).
func videoKey(id int64) string  { return "favorite:video-" + strconv.FormatInt(id, 10) }
func authorKey(id int64) string { return "favorite:author-" + strconv.FormatInt(id, 10) }

var userKey = favoriteapi.UserLikesKey

const (
	videoLikesPrefix = favoriteapi.VideoLikesBucket
	userLikedPrefix  = favoriteapi.UserLikedBucket
	receivedPrefix   = favoriteapi.UserReceivedBucket
)

// authorTotals holds the latest like count of each of an author's videos, each stamped with the
// video set's Seq so that a late writer never replaces a newer count with an older one.
type authorTotals struct {
	Seq    int64                 `json:"seq"`
	Videos map[int64]lww.Counter `json:"videos"`
}

func (a authorTotals) total() int64 {
	var n int64
	for _, v := range a.Videos {
		n += v.Value
	}
	return n
}

// likes is the favorite service's logic.
type likes struct {
	hot     hotmodel.Store
	sdk     dapr.Client
	store   *store
	authors *publishapi.Authors
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
	if err := l.makeVisible(ctx, change); err != nil {
		return err
	}
	l.hot.Finished.Add(change.EventID)
	return nil
}

// makeVisible applies a change to the sets it touches and copies the new counts into their
// buckets. It is idempotent: the event consumer calls it again for every change it persists,
// which completes the work of a request that crashed half-way.
func (l *likes) makeVisible(ctx context.Context, c favoriteapi.Changed) error {
	// The video side (video set, its count, the author's total) and the user side (user set, its
	// count) are independent: they run side by side.
	var g errgroup.Group
	g.Go(func() error { return l.videoSide(ctx, c) })
	g.Go(func() error {
		_, err := hotmodel.UpdateCounted(ctx, l.hot, userKey(c.UserID), c.VideoID, c.Fact(), userLikedPrefix, c.UserID)
		return err
	})
	if err := g.Wait(); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

func (l *likes) videoSide(ctx context.Context, c favoriteapi.Changed) error {
	video, err := hotmodel.Update(ctx, l.hot, videoKey(c.VideoID), hotmodel.Record(c.UserID, c.Fact()))
	if err != nil {
		return err
	}
	// The video's count and the author's total both follow from the video set alone.
	var g errgroup.Group
	g.Go(func() error {
		return hotmodel.AssignCount(ctx, l.hot, videoLikesPrefix, c.VideoID, video.Count(), video.Seq)
	})
	g.Go(func() error { return l.authorSide(ctx, c, video) })
	return g.Wait()
}

func (l *likes) authorSide(ctx context.Context, c favoriteapi.Changed, video lww.Set) error {
	author, err := hotmodel.Update(ctx, l.hot, authorKey(c.AuthorID), func(a *authorTotals) error {
		if a.Videos == nil {
			a.Videos = map[int64]lww.Counter{}
		}
		if known, ok := a.Videos[c.VideoID]; ok && known.Seq >= video.Seq {
			return hotmodel.ErrUnchanged
		}
		a.Videos[c.VideoID] = lww.Counter{Value: video.Count(), Seq: video.Seq}
		a.Seq++
		return nil
	})
	if err != nil {
		return err
	}
	return hotmodel.AssignCount(ctx, l.hot, receivedPrefix, c.AuthorID, author.total(), author.Seq)
}

// ensureVisible is the consumer's check that a persisted change is in the hot model: nothing to
// do when this process's request finished it; otherwise one bulk read, and the full makeVisible
// only when something is missing (the request died half-way).
func (l *likes) ensureVisible(ctx context.Context, c favoriteapi.Changed) error {
	if l.hot.Finished.Take(c.EventID) {
		return nil
	}
	keys := []string{videoKey(c.VideoID), userKey(c.UserID), authorKey(c.AuthorID),
		lww.BucketKey(videoLikesPrefix, c.VideoID), lww.BucketKey(userLikedPrefix, c.UserID), lww.BucketKey(receivedPrefix, c.AuthorID)}
	raw, err := hotmodel.GetMany[json.RawMessage](ctx, l.hot, keys)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	buckets := lww.NewBuckets(raw)
	video, user := buckets.Set(videoKey(c.VideoID)), buckets.Set(userKey(c.UserID))
	var author authorTotals
	if v, ok := raw[authorKey(c.AuthorID)]; ok {
		if err := json.Unmarshal(v, &author); err != nil {
			return err
		}
	}
	fact := c.Fact()
	applied := func(s lww.Set, member int64) bool {
		known, ok := s.Members[member]
		return ok && !fact.Newer(known)
	}
	complete := applied(video, c.UserID) && applied(user, c.VideoID) &&
		author.Videos[c.VideoID].Seq >= video.Seq &&
		buckets.Counter(videoLikesPrefix, c.VideoID).Seq >= video.Seq &&
		buckets.Counter(userLikedPrefix, c.UserID).Seq >= user.Seq &&
		buckets.Counter(receivedPrefix, c.AuthorID).Seq >= author.Seq
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

// summary answers counts from the counters buckets and the viewer's set, in one bulk read, or
// from PostgreSQL when the state store is unavailable (then changes not yet persisted are
// missing until it returns).
func (l *likes) summary(ctx context.Context, req favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
	keys := lww.BucketKeys(videoLikesPrefix, req.VideoIDs)
	keys = append(keys, lww.BucketKeys(userLikedPrefix, req.UserIDs)...)
	keys = append(keys, lww.BucketKeys(receivedPrefix, req.UserIDs)...)
	if req.Viewer > 0 {
		keys = append(keys, userKey(req.Viewer))
	}
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, l.hot, keys)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return l.store.summary(ctx, req)
	}
	buckets := lww.NewBuckets(raw)
	var viewerLikes lww.Set
	if req.Viewer > 0 {
		viewerLikes = buckets.Set(userKey(req.Viewer))
	}
	reply := favoriteapi.SummaryReply{
		Status: envelope.Success,
		Videos: make(map[int64]favoriteapi.VideoLikes, len(req.VideoIDs)),
		Users:  make(map[int64]favoriteapi.UserLikes, len(req.UserIDs)),
	}
	for _, id := range req.VideoIDs {
		reply.Videos[id] = favoriteapi.VideoLikes{Count: buckets.Count(videoLikesPrefix, id), LikedByView: viewerLikes.Has(id)}
	}
	for _, id := range req.UserIDs {
		reply.Users[id] = favoriteapi.UserLikes{FavoriteCount: buckets.Count(userLikedPrefix, id), TotalFavorited: buckets.Count(receivedPrefix, id)}
	}
	return reply, buckets.Err()
}

// list returns the videos a user likes, most recently liked first.
func (l *likes) list(ctx context.Context, userID int64) ([]int64, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	sets, err := hotmodel.GetMany[lww.Set](readCtx, l.hot, []string{userKey(userID)})
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return pgdb.IDs(ctx, l.store.db, selectLikedVideos, userID)
	}
	s := sets[userKey(userID)]
	return s.Newest(), nil
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

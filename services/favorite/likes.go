package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
)

const maxRequestBytes = 256 << 10

// maxSummaryIDs bounds one summary request.
const maxSummaryIDs = 500

// hotReadTimeout bounds a read of the hot model: with the state store down, reads answer from
// PostgreSQL at once instead of waiting out the component's own timeouts.
const hotReadTimeout = 300 * time.Millisecond

// The hot read model, one state key per set (see package lww):
//
//	video-<id>   users who like the video          → favorite_count, is_favorite
//	user-<id>    videos the user likes             → the user's favorite_count, the liked list
//	author-<id>  like count of each of their videos → total_favorited
//
// The keys have no TTL: together with the broker they are the truth until the consumer has
// persisted a change, so they are not a cache that may forget.
func videoKey(id int64) string  { return "video-" + strconv.FormatInt(id, 10) }
func userKey(id int64) string   { return "user-" + strconv.FormatInt(id, 10) }
func authorKey(id int64) string { return "author-" + strconv.FormatInt(id, 10) }

// authorTotals holds the latest like count of each of an author's videos, each stamped with the
// video set's Seq so that a late writer never replaces a newer count with an older one.
type authorTotals struct {
	Videos map[int64]videoCount `json:"videos"`
}

type videoCount struct {
	Count int64 `json:"count"`
	Seq   int64 `json:"seq"`
}

func (a authorTotals) total() int64 {
	var n int64
	for _, v := range a.Videos {
		n += v.Count
	}
	return n
}

// likes is the favorite service's logic.
type likes struct {
	hot     lww.Store
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
	return l.makeVisible(ctx, change)
}

// makeVisible applies a change to the three sets it touches. It is idempotent: the event
// consumer calls it again for every change it persists, which completes the work of a request
// that crashed half-way.
func (l *likes) makeVisible(ctx context.Context, c favoriteapi.Changed) error {
	fact := lww.Fact{In: c.Liked, At: c.At, Event: c.EventID}
	video, err := lww.Update(ctx, l.hot, videoKey(c.VideoID), func(s *lww.Set) error {
		if !s.Apply(c.UserID, fact) {
			return lww.ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	_, err = lww.Update(ctx, l.hot, authorKey(c.AuthorID), func(a *authorTotals) error {
		if a.Videos == nil {
			a.Videos = map[int64]videoCount{}
		}
		if known, ok := a.Videos[c.VideoID]; ok && known.Seq >= video.Seq {
			return lww.ErrUnchanged
		}
		a.Videos[c.VideoID] = videoCount{Count: video.Count(), Seq: video.Seq}
		return nil
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	_, err = lww.Update(ctx, l.hot, userKey(c.UserID), func(s *lww.Set) error {
		if !s.Apply(c.VideoID, fact) {
			return lww.ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// summary answers counts from the hot read model in one bulk read, or from PostgreSQL when the
// state store is unavailable (then changes not yet persisted are missing until it returns).
func (l *likes) summary(ctx context.Context, req favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
	keys := make([]string, 0, len(req.VideoIDs)+2*len(req.UserIDs))
	for _, id := range req.VideoIDs {
		keys = append(keys, videoKey(id))
	}
	for _, id := range req.UserIDs {
		keys = append(keys, userKey(id), authorKey(id))
	}
	readCtx, cancel := context.WithTimeout(ctx, hotReadTimeout)
	defer cancel()
	raw, err := lww.GetMany[json.RawMessage](readCtx, l.hot, keys)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return l.store.summary(ctx, req)
	}
	var decodeErr error
	set := func(key string) lww.Set {
		var s lww.Set
		if v, ok := raw[key]; ok {
			decodeErr = errors.Join(decodeErr, json.Unmarshal(v, &s))
		}
		return s
	}
	totals := func(key string) authorTotals {
		var a authorTotals
		if v, ok := raw[key]; ok {
			decodeErr = errors.Join(decodeErr, json.Unmarshal(v, &a))
		}
		return a
	}
	reply := favoriteapi.SummaryReply{
		Status: envelope.Success,
		Videos: make(map[int64]favoriteapi.VideoLikes, len(req.VideoIDs)),
		Users:  make(map[int64]favoriteapi.UserLikes, len(req.UserIDs)),
	}
	for _, id := range req.VideoIDs {
		s := set(videoKey(id))
		reply.Videos[id] = favoriteapi.VideoLikes{Count: s.Count(), LikedByView: req.Viewer > 0 && s.Has(req.Viewer)}
	}
	for _, id := range req.UserIDs {
		s := set(userKey(id))
		reply.Users[id] = favoriteapi.UserLikes{FavoriteCount: s.Count(), TotalFavorited: totals(authorKey(id)).total()}
	}
	return reply, decodeErr
}

// list returns the videos a user likes, most recently liked first.
func (l *likes) list(ctx context.Context, userID int64) ([]int64, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotReadTimeout)
	defer cancel()
	sets, err := lww.GetMany[lww.Set](readCtx, l.hot, []string{userKey(userID)})
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return l.store.ids(ctx, selectLikedVideos, userID)
	}
	s := sets[userKey(userID)]
	return s.Newest(), nil
}

func handleApply(l *likes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req favoriteapi.ApplyRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if req.UserID <= 0 || req.VideoID <= 0 {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "user_id and video_id are required"))
			return
		}
		if err := l.apply(r.Context(), req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, envelope.Success)
	})
}

func handleSummary(l *likes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req favoriteapi.SummaryRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if len(req.VideoIDs)+len(req.UserIDs) > maxSummaryIDs {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "at most %d ids per request", maxSummaryIDs))
			return
		}
		reply, err := l.summary(r.Context(), req)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		reply.Status = envelope.Success
		envelope.OK(w, reply)
	})
}

func handleList(l *likes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req favoriteapi.ListRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		ids, err := l.list(r.Context(), req.UserID)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, favoriteapi.ListReply{Status: envelope.Success, VideoIDs: ids})
	})
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	maxRequestBytes = 64 << 10
	// newestPageKey caches the first page, which almost every session opens.
	newestPageKey = "timeline-newest-page"
	cacheTTL      = "3600"
)

// timeline is the feed's read path and the writer of its projection.
type timeline struct {
	store *store
	users *userapi.Client
	sdk   dapr.Client
}

// cachedPage is the newest page as built at one timeline version.
type cachedPage struct {
	Version int64           `json:"version"`
	Entries []feedapi.Entry `json:"entries"`
}

// page returns the entries published strictly before before. The newest page comes from the
// state store when it was built at the current timeline version (one primary-key read decides);
// any miss, stale copy or cache outage falls back to PostgreSQL.
func (t *timeline) page(ctx context.Context, before int64) ([]feedapi.Entry, error) {
	version, newest, err := t.store.version(ctx)
	if err != nil {
		return nil, err
	}
	isNewest := before > newest
	if isNewest {
		if entries, ok := t.cached(ctx, version); ok {
			return entries, nil
		}
	}
	entries, err := t.store.page(ctx, before, feedapi.PageSize)
	if err != nil {
		return nil, err
	}
	if isNewest {
		t.remember(ctx, cachedPage{Version: version, Entries: entries})
	}
	return entries, nil
}

func (t *timeline) cached(ctx context.Context, version int64) ([]feedapi.Entry, bool) {
	item, err := t.sdk.GetState(ctx, daprc.StateStore, newestPageKey, nil)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, reading PostgreSQL", zap.Error(err))
		return nil, false
	}
	if item == nil || len(item.Value) == 0 {
		return nil, false
	}
	var page cachedPage
	if json.Unmarshal(item.Value, &page) != nil || page.Version != version {
		return nil, false
	}
	return page.Entries, true
}

// remember stores a freshly built newest page. A page built at an older version than one already
// stored is harmless: readers check the version and rebuild.
func (t *timeline) remember(ctx context.Context, page cachedPage) {
	raw, err := json.Marshal(page)
	if err != nil {
		return
	}
	if err := t.sdk.SaveState(ctx, daprc.StateStore, newestPageKey, raw, map[string]string{"ttlInSeconds": cacheTTL}); err != nil {
		logging.FromContext(ctx).Warn("could not cache the newest page", zap.Error(err))
	}
}

// add puts a published video on the timeline, fetching its author's profile the first time the
// author appears.
func (t *timeline) add(ctx context.Context, v publishapi.Video) error {
	if v.ID <= 0 || v.AuthorID <= 0 || v.PublishedAt <= 0 {
		return apperr.Newf(apperr.InvalidParameter, "video %d is incomplete", v.ID)
	}
	known, err := t.store.authorKnown(ctx, v.AuthorID)
	if err != nil {
		return err
	}
	var author *userapi.Profile
	if !known {
		profiles, err := t.users.Profiles(ctx, []int64{v.AuthorID})
		if err != nil {
			return err
		}
		p, ok := profiles[v.AuthorID]
		if !ok {
			return apperr.Newf(apperr.UserNotFound, "author %d of video %d not found", v.AuthorID, v.ID)
		}
		author = &p
	}
	return t.store.add(ctx, v, author)
}

func handlePage(t *timeline) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req feedapi.PageRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		entries, err := t.page(r.Context(), req.Before)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, feedapi.PageReply{Status: envelope.Success, Entries: entries})
	})
}

func handleIndex(t *timeline) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v publishapi.Video
		if err := envelope.Decode(r, maxRequestBytes, &v); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if err := t.add(r.Context(), v); err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, envelope.Success)
	})
}

// onVideoPublished is the durable path onto the timeline: it repeats the index call's work
// idempotently, and covers a publish whose index call failed.
func onVideoPublished(t *timeline) http.Handler {
	return events.Handler(func(ctx context.Context, v publishapi.Video) error {
		err := t.add(ctx, v)
		var appErr *apperr.Error
		if errors.As(err, &appErr) && (appErr.Code == apperr.UserNotFound || appErr.Code == apperr.InvalidParameter) {
			logging.FromContext(ctx).Error("video cannot be indexed", zap.String("video_id", strconv.FormatInt(v.ID, 10)), zap.Error(err))
			return events.ErrPoison
		}
		return err
	})
}

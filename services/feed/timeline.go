package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// cacheTimeout bounds a cache call: when Redis is down the feed answers from PostgreSQL at
	// once instead of waiting out the component's own timeouts.
	cacheTimeout = 250 * time.Millisecond
	// minGzipBytes is the smallest reply worth compressing.
	minGzipBytes = 1024
)

// timeline is the feed's read path and the writer of its projection.
type timeline struct {
	store *store
	users *userapi.Client
	sdk   dapr.Client
	local localPage
}

// cachedPage is the newest page as built at one timeline version.
type cachedPage struct {
	Version int64           `json:"version"`
	Entries []feedapi.Entry `json:"entries"`
}

// localPage is this replica's copy of the newest page, already encoded as the reply, for one
// timeline version. Every request still reads the version from PostgreSQL, so a copy is never
// served after the timeline changed, whichever replica changed it.
type localPage struct {
	mu      sync.RWMutex
	version int64
	reply   *encodedReply
}

func (l *localPage) get(version int64) (*encodedReply, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.reply, l.reply != nil && l.version == version
}

func (l *localPage) set(version int64, reply *encodedReply) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reply == nil || version >= l.version {
		l.version, l.reply = version, reply
	}
}

// encodedReply is a page reply as JSON and gzip-compressed JSON. The compressed form is what
// crosses the two sidecars when the caller accepts it: a 30-video page shrinks several times,
// and bytes through the sidecars are the feed's main cost.
type encodedReply struct {
	plain, gzipped []byte
}

func encodeReply(reply feedapi.PageReply) (*encodedReply, error) {
	plain, err := json.Marshal(reply)
	if err != nil {
		return nil, err
	}
	if len(plain) < minGzipBytes {
		return &encodedReply{plain: plain}, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(plain)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &encodedReply{plain: plain, gzipped: buf.Bytes()}, nil
}

// write sends the reply, compressed when the caller accepts gzip.
func (e *encodedReply) write(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", envelope.ContentType)
	body := e.plain
	if e.gzipped != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		body = e.gzipped
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// pageReply returns the encoded reply for the videos published strictly before req.Before.
//
// The newest page, which almost every session opens, is kept at three levels, each valid only for
// the timeline version it was built at (one primary-key read decides): this replica's encoded
// copy, then the state store (shared by replicas, survives restarts), then PostgreSQL. A miss,
// a stale copy or a state-store outage falls through to the next level; and a caller that already
// holds the current version gets a short Unchanged reply. Older pages are read from PostgreSQL,
// whose index serves them directly.
func (t *timeline) pageReply(ctx context.Context, req feedapi.PageRequest) (*encodedReply, error) {
	version, newest, err := t.store.version(ctx)
	if err != nil {
		return nil, err
	}
	if req.Before <= newest {
		entries, err := t.store.page(ctx, req.Before, feedapi.PageSize)
		if err != nil {
			return nil, err
		}
		return encodeReply(feedapi.PageReply{Status: envelope.Success, Entries: entries})
	}
	if req.KnownVersion > 0 && req.KnownVersion == version {
		return encodeReply(feedapi.PageReply{Status: envelope.Success, Version: version, Newest: true, Unchanged: true})
	}
	if reply, ok := t.local.get(version); ok {
		return reply, nil
	}
	entries, ok := t.cached(ctx, version)
	if !ok {
		if entries, err = t.store.page(ctx, req.Before, feedapi.PageSize); err != nil {
			return nil, err
		}
		t.remember(ctx, cachedPage{Version: version, Entries: entries})
	}
	reply, err := encodeReply(feedapi.PageReply{Status: envelope.Success, Version: version, Newest: true, Entries: entries})
	if err != nil {
		return nil, err
	}
	t.local.set(version, reply)
	return reply, nil
}

func (t *timeline) cached(ctx context.Context, version int64) ([]feedapi.Entry, bool) {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
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
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
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
		reply, err := t.pageReply(r.Context(), req)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		reply.write(w, r)
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

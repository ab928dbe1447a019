package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	maxRequestBytes = 64 << 10
	// newestPageKey caches the first page, which almost every session opens.
	newestPageKey = "feed:newest-page"
	cacheTTL      = "3600"
	// cacheTimeout bounds a cache call: when Redis is down the feed answers from PostgreSQL at
	// once instead of waiting out the component's own timeouts.
	cacheTimeout = 250 * time.Millisecond
)

// timeline is the feed's read path and the writer of its projection.
type timeline struct {
	store     *store
	users     *userapi.Client
	favorites *favoriteapi.Client
	comments  *commentapi.Client
	sdk       dapr.Client
	local     localPage
}

// cachedPage is the newest page as built at one timeline version.
type cachedPage struct {
	Version int64           `json:"version"`
	Entries []feedapi.Entry `json:"entries"`
}

// localPage is this replica's copy of the newest page's entries for one timeline version. Every
// request still reads the version from PostgreSQL, so a copy is never served after the timeline
// changed, whichever replica changed it.
type localPage struct {
	mu      sync.RWMutex
	version int64
	entries []feedapi.Entry
	valid   bool
}

func (l *localPage) get(version int64) ([]feedapi.Entry, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.entries, l.valid && l.version == version
}

func (l *localPage) set(version int64, entries []feedapi.Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.valid || version >= l.version {
		l.version, l.entries, l.valid = version, entries, true
	}
}

// pageReply answers a page request: the entries and their counters.
//
// The newest page, which almost every session opens, is kept at three levels, each valid only
// for the timeline version it was built at (one primary-key read decides): this replica's copy,
// then the state store (shared by replicas, survives restarts), then PostgreSQL. Older pages are
// read from PostgreSQL, whose index serves them directly. The counters are read on every request
// from the read models the favorite and comment services publish (a few keys, one bulk read),
// so they are exact. A caller that already holds the entries, or the whole answer, gets less.
func (t *timeline) pageReply(ctx context.Context, req feedapi.PageRequest) (feedapi.PageReply, error) {
	version, newest, err := t.store.version(ctx)
	if err != nil {
		return feedapi.PageReply{}, err
	}
	reply := feedapi.PageReply{Status: envelope.Success}
	var entries []feedapi.Entry
	if req.Before <= newest {
		if entries, err = t.store.page(ctx, req.Before, feedapi.PageSize); err != nil {
			return reply, err
		}
	} else {
		reply.Version, reply.Newest = version, true
		if entries, err = t.newestEntries(ctx, version); err != nil {
			return reply, err
		}
	}
	if reply.Counts, err = t.counts(ctx, entries, req.Viewer); err != nil {
		return reply, err
	}
	if !reply.Newest {
		reply.Entries = entries
		return reply, nil
	}
	reply.Fingerprint, err = fingerprint(version, reply.Counts)
	if err != nil {
		return reply, err
	}
	switch {
	case req.KnownFingerprint != "" && req.KnownFingerprint == reply.Fingerprint:
		return feedapi.PageReply{Status: envelope.Success, Version: version, Newest: true, Fingerprint: reply.Fingerprint, Unchanged: true}, nil
	case req.KnownVersion > 0 && req.KnownVersion == version:
		reply.EntriesUnchanged = true
	default:
		reply.Entries = entries
	}
	return reply, nil
}

// newestEntries returns the newest page's entries at version, from the nearest level that has them.
func (t *timeline) newestEntries(ctx context.Context, version int64) ([]feedapi.Entry, error) {
	if entries, ok := t.local.get(version); ok {
		return entries, nil
	}
	entries, ok := t.cached(ctx, version)
	if !ok {
		var err error
		if entries, err = t.store.page(ctx, math.MaxInt64, feedapi.PageSize); err != nil {
			return nil, err
		}
		t.remember(ctx, cachedPage{Version: version, Entries: entries})
	}
	t.local.set(version, entries)
	return entries, nil
}

// fingerprint names one exact answer for the newest page: its version and its counters.
func fingerprint(version int64, counts feedapi.Counts) (string, error) {
	raw, err := json.Marshal(counts) // map keys are sorted, so equal counts encode equally
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(strconv.AppendInt(nil, version, 10), raw...))
	return hex.EncodeToString(sum[:16]), nil
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
		envelope.OK(w, reply)
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

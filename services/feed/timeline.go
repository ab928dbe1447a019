package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/counters"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	// newestPageKey caches the first page, which almost every session opens.
	newestPageKey = "feed:newest-page"
	cacheTTL      = "3600"
	// cacheTimeout bounds a cache call: when Redis is down the feed answers from PostgreSQL at
	// once instead of waiting out the component's own timeouts.
	cacheTimeout = 250 * time.Millisecond
)

// timeline is the feed's read path and the writer of its projection.
type timeline struct {
	store    *store
	users    *userapi.Client
	counters *counters.Reader
	state    lww.Store // the state store: the published version, cached page and counters
	local    localPage
}

// cachedPage is the newest page as built at one timeline version.
type cachedPage struct {
	Version int64           `json:"version"`
	Entries []feedapi.Entry `json:"entries"`
}

// localPage is this replica's copy of the newest page's entries for one timeline version. Every
// request reads the current version first, so a copy is never served after the timeline
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

// snapshot is a copy of the newest page's entries at one version.
type snapshot struct {
	version int64
	entries []feedapi.Entry
}

// latest returns the copy, whatever its version.
func (l *localPage) latest() (snapshot, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return snapshot{version: l.version, entries: l.entries}, l.valid
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
// The timeline's version (it changes with every video added) is published in the state store
// after each change; one bulk read fetches it together with the counters of this replica's copy
// of the newest page, so the usual request (the newest page, no new video) costs that one read.
// The newest page's entries are kept at three levels, each valid only for the version it was
// built at: this replica's copy, the state store (shared by replicas, survives restarts),
// PostgreSQL. Older pages are read from PostgreSQL, whose index serves them directly. Counters
// come on every request from the read models the favorite, comment and relation services publish, so they
// are exact. With the state store down, everything is read from PostgreSQL and the owners.
func (t *timeline) pageReply(ctx context.Context, req feedapi.PageRequest) (feedapi.PageReply, error) {
	reply := feedapi.PageReply{Status: envelope.Success}
	local, haveLocal := t.local.latest()
	keys := []string{versionKey}
	if haveLocal {
		keys = append(keys, counterKeys(local.entries, req.Viewer)...)
	}
	readCtx, cancel := context.WithTimeout(ctx, cacheTimeout)
	raw, err := lww.GetMany[json.RawMessage](readCtx, t.state, keys)
	cancel()
	// With the state store down, the rest of the request does not wait on it again.
	stateDown := err != nil
	if stateDown {
		logging.FromContext(ctx).Warn("state store unavailable, reading PostgreSQL and the counters' owners", zap.Error(err))
	}
	var version timelineVersion
	if stateDown || raw[versionKey] == nil || json.Unmarshal(raw[versionKey], &version) != nil {
		// No published version to trust: ask PostgreSQL, and read the counters afresh.
		raw = nil
		if version.Version, version.Newest, err = t.store.version(ctx); err != nil {
			return reply, err
		}
	}

	var entries []feedapi.Entry
	switch {
	case req.Before <= version.Newest:
		if entries, err = t.store.page(ctx, req.Before, feedapi.PageSize); err != nil {
			return reply, err
		}
		if reply.Counts, err = t.counts(ctx, entries, req.Viewer, stateDown); err != nil {
			return reply, err
		}
		reply.Entries = entries
		return reply, nil
	case haveLocal && raw != nil && local.version == version.Version:
		entries = local.entries
		if reply.Counts, err = countsFrom(raw, entries, req.Viewer); err != nil {
			return reply, err
		}
	default:
		if entries, err = t.newestEntries(ctx, version.Version, stateDown); err != nil {
			return reply, err
		}
		if reply.Counts, err = t.counts(ctx, entries, req.Viewer, stateDown); err != nil {
			return reply, err
		}
	}
	reply.Version, reply.Newest = version.Version, true
	if reply.Fingerprint, err = fingerprint(version.Version, reply.Counts); err != nil {
		return reply, err
	}
	switch {
	case req.KnownFingerprint != "" && req.KnownFingerprint == reply.Fingerprint:
		return feedapi.PageReply{Status: envelope.Success, Version: version.Version, Newest: true, Fingerprint: reply.Fingerprint, Unchanged: true}, nil
	case req.KnownVersion > 0 && req.KnownVersion == version.Version:
		reply.EntriesUnchanged = true
	default:
		reply.Entries = entries
	}
	return reply, nil
}

// newestEntries returns the newest page's entries at version, from the nearest level that has
// them (skipping the state store when it is down).
func (t *timeline) newestEntries(ctx context.Context, version int64, stateDown bool) ([]feedapi.Entry, error) {
	if entries, ok := t.local.get(version); ok {
		return entries, nil
	}
	entries, ok := []feedapi.Entry(nil), false
	if !stateDown {
		entries, ok = t.cached(ctx, version)
	}
	if !ok {
		var err error
		if entries, err = t.store.page(ctx, math.MaxInt64, feedapi.PageSize); err != nil {
			return nil, err
		}
		if !stateDown {
			t.remember(ctx, cachedPage{Version: version, Entries: entries})
		}
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
	readCtx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	pages, err := lww.GetMany[cachedPage](readCtx, t.state, []string{newestPageKey})
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, reading PostgreSQL", zap.Error(err))
		return nil, false
	}
	page, ok := pages[newestPageKey]
	if !ok || page.Version != version {
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
	if err := t.state.SDK.SaveState(ctx, t.state.Name, newestPageKey, raw, map[string]string{"ttlInSeconds": cacheTTL}); err != nil {
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
	version, added, err := t.store.add(ctx, v, author)
	if err != nil {
		return err
	}
	if !added {
		// Published even when the video was already there: an earlier attempt may have stopped
		// between PostgreSQL and the state store.
		return t.publishVersion(ctx)
	}
	return t.publish(ctx, version)
}

// versionKey holds the timeline's version in the state store, for readers.
const versionKey = "feed:version"

// timelineVersion is the version of the timeline and the publish time of its newest video.
type timelineVersion struct {
	Version int64 `json:"version"`
	Newest  int64 `json:"newest"`
	Set     bool  `json:"set"` // distinguishes a published empty timeline from a missing key
}

// publishVersion copies the timeline's version from PostgreSQL to the state store; a copy never
// goes back to an older version.
func (t *timeline) publishVersion(ctx context.Context) error {
	version, newest, err := t.store.version(ctx)
	if err != nil {
		return err
	}
	return t.publish(ctx, timelineVersion{Version: version, Newest: newest, Set: true})
}

// publish stores a version in the state store unless a newer one is there already.
func (t *timeline) publish(ctx context.Context, version timelineVersion) error {
	_, err := lww.Update(ctx, t.state, versionKey, func(v *timelineVersion) error {
		if v.Set && v.Version >= version.Version {
			return lww.ErrUnchanged
		}
		*v = version
		return nil
	})
	return err
}

// keepVersionPublished re-publishes the version every interval until ctx ends. Should the state
// store lose its copy (a Redis restart that lost its last second), readers are back on the
// current timeline within one interval.
func (t *timeline) keepVersionPublished(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := t.publishVersion(ctx); err != nil && ctx.Err() == nil {
				logging.FromContext(ctx).Warn("could not publish the timeline version", zap.Error(err))
			}
		}
	}
}

func index(t *timeline) func(context.Context, publishapi.Video) (envelope.Status, error) {
	return func(ctx context.Context, v publishapi.Video) (envelope.Status, error) {
		return envelope.Success, t.add(ctx, v)
	}
}

// onVideoPublished is the durable path onto the timeline: it repeats the index call's work
// idempotently, and covers a publish whose index call failed.
func onVideoPublished(t *timeline) http.Handler {
	return events.Handler(func(ctx context.Context, v publishapi.Video) error {
		err := t.add(ctx, v)
		if apperr.Is(err, apperr.UserNotFound) || apperr.Is(err, apperr.InvalidParameter) {
			logging.FromContext(ctx).Error("video cannot be indexed", zap.String("video_id", strconv.FormatInt(v.ID, 10)), zap.Error(err))
			return events.ErrPoison
		}
		return err
	})
}

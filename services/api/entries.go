package main

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/ids"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// maxEntries bounds the entry cache: about 500 bytes an entry, some 50 MB when full.
const maxEntries = 100_000

// videoEntries keeps the videos the gateway renders (feed pages, publish and favorite lists) by
// id, each with its author's profile, so that a page or list crosses the sidecars as ids. A
// published video and its author's profile never change, so an entry is never stale and needs
// no invalidation; the counters do change, and are read afresh on every request.
type videoEntries struct {
	fromFeed   func(context.Context, []int64) ([]feedapi.Entry, error) // the feed's copy
	fromOwners func(context.Context, []int64) ([]feedapi.Entry, error) // publish and user
	max        int
	mu         sync.RWMutex
	byID       map[int64]feedapi.Entry
}

func newVideoEntries(fromFeed, fromOwners func(context.Context, []int64) ([]feedapi.Entry, error), max int) *videoEntries {
	return &videoEntries{fromFeed: fromFeed, fromOwners: fromOwners, max: max, byID: map[int64]feedapi.Entry{}}
}

// get returns the entries of ids in their order. Those it lacks come from the feed's copy; a
// video the feed has not indexed yet (its index call failed and the event is still on its way)
// from its owners. An id nobody knows is left out.
// Invocations: 0; 1 (feed) when some are missing; 3 (feed, publish, user) in the rare case above.
func (c *videoEntries) get(ctx context.Context, videoIDs []int64) ([]feedapi.Entry, error) {
	found := make(map[int64]feedapi.Entry, len(videoIDs))
	var missing []int64
	c.mu.RLock()
	for _, id := range videoIDs {
		if e, ok := c.byID[id]; ok {
			found[id] = e
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.RUnlock()
	for _, fetch := range []func(context.Context, []int64) ([]feedapi.Entry, error){c.fromFeed, c.fromOwners} {
		if len(missing) == 0 {
			break
		}
		read, err := fetch(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, e := range read {
			found[e.Video.ID] = e
		}
		c.put(read)
		missing = lacking(missing, found)
	}
	out := make([]feedapi.Entry, 0, len(videoIDs))
	for _, id := range videoIDs {
		if e, ok := found[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// lacking returns the ids that found lacks.
func lacking(ids []int64, found map[int64]feedapi.Entry) []int64 {
	var out []int64
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// put adds entries, first making room by dropping arbitrary ones (Go's map order): a dropped
// entry costs one more call to the feed, never a wrong answer.
func (c *videoEntries) put(entries []feedapi.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.byID {
		if len(c.byID)+len(entries) <= c.max {
			break
		}
		delete(c.byID, id)
	}
	for _, e := range entries {
		c.byID[e.Video.ID] = e
	}
}

// entriesFromOwners builds entries from the videos' owner (publish) and their authors' (user).
// Invocations: 2 (publish, then user).
func entriesFromOwners(publish *publishapi.Client, accounts *userapi.Client) func(context.Context, []int64) ([]feedapi.Entry, error) {
	return func(ctx context.Context, videoIDs []int64) ([]feedapi.Entry, error) {
		videos, err := publish.ByIDs(ctx, videoIDs)
		if err != nil || len(videos) == 0 {
			return nil, err
		}
		authorIDs := ids.Distinct(slices.Collect(maps.Values(videos)), func(v publishapi.Video) int64 { return v.AuthorID })
		profiles, err := accounts.Profiles(ctx, authorIDs)
		if err != nil {
			return nil, err
		}
		out := make([]feedapi.Entry, 0, len(videos))
		for _, v := range videos {
			if p, ok := profiles[v.AuthorID]; ok {
				out = append(out, feedapi.Entry{Video: v, Author: p})
			}
		}
		return out, nil
	}
}

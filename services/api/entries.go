package main

import (
	"context"
	"sync"

	"github.com/doutok/doutok/services/internal/feedapi"
)

// maxFeedEntries bounds the feed entry cache: about 500 bytes an entry, some 50 MB when full.
const maxFeedEntries = 100_000

// feedEntries keeps the feed's entries by video id, so that a page crosses the sidecars as ids.
// A published video and its author's profile never change, so an entry is never stale and needs
// no invalidation; the counters do change, and are read afresh on every request.
type feedEntries struct {
	fetch func(context.Context, []int64) ([]feedapi.Entry, error) // the feed's Entries
	max   int
	mu    sync.RWMutex
	byID  map[int64]feedapi.Entry
}

func newFeedEntries(fetch func(context.Context, []int64) ([]feedapi.Entry, error), max int) *feedEntries {
	return &feedEntries{fetch: fetch, max: max, byID: map[int64]feedapi.Entry{}}
}

// get returns the entries of ids in their order, asking the feed for the ones it lacks.
// Invocations: 0, or 1 (feed) when some are missing. An id the feed does not know is left out.
func (c *feedEntries) get(ctx context.Context, ids []int64) ([]feedapi.Entry, error) {
	found := make(map[int64]feedapi.Entry, len(ids))
	var missing []int64
	c.mu.RLock()
	for _, id := range ids {
		if e, ok := c.byID[id]; ok {
			found[id] = e
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.RUnlock()
	if len(missing) > 0 {
		read, err := c.fetch(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, e := range read {
			found[e.Video.ID] = e
		}
		c.put(read)
	}
	out := make([]feedapi.Entry, 0, len(ids))
	for _, id := range ids {
		if e, ok := found[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// put adds entries, first making room by dropping arbitrary ones (Go's map order): a dropped
// entry costs one more call to the feed, never a wrong answer.
func (c *feedEntries) put(entries []feedapi.Entry) {
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

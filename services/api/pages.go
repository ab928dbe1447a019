package main

import (
	"context"
	"sync"
	"time"
)

// settledAfter is how far in the past a feed page's latest_time must be for the page never to
// change again. A video takes its publish time from the database's clock in the very statement
// that commits it (publish's insertVideo), and that statement ends within PostgreSQL's statement
// timeout (30 s); so once latest_time is older than that plus any skew between the clocks, every
// video published before it is committed, and none published later can take an earlier time.
// Videos are never deleted.
const settledAfter = 2 * time.Minute

// maxSettledPages bounds the copy: 30 ids a page, some 30 MB when full.
const maxSettledPages = 100_000

// settledPages keeps the video ids of feed pages that can no longer change, by latest_time:
// scrolling down through older videos follows the same next_time chain for every client, so
// those pages are asked of the feed once; a page near the present is asked every time.
type settledPages struct {
	fetch func(ctx context.Context, before int64) ([]int64, error) // the feed's Page
	max   int
	mu    sync.RWMutex
	ids   map[int64][]int64
}

func newSettledPages(fetch func(context.Context, int64) ([]int64, error), max int) *settledPages {
	return &settledPages{fetch: fetch, max: max, ids: map[int64][]int64{}}
}

// page returns the ids of the page of videos published before before (Unix ms), now being the
// gateway's clock. Invocations: 0 for a settled page seen before, else 1 (feed).
func (p *settledPages) page(ctx context.Context, before, now int64) ([]int64, error) {
	settled := before <= now-settledAfter.Milliseconds()
	if settled {
		p.mu.RLock()
		ids, ok := p.ids[before]
		p.mu.RUnlock()
		if ok {
			return ids, nil
		}
	}
	ids, err := p.fetch(ctx, before)
	if err != nil || !settled {
		return ids, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for b := range p.ids { // make room by dropping arbitrary pages: one more call, never a wrong answer
		if len(p.ids) < p.max {
			break
		}
		delete(p.ids, b)
	}
	p.ids[before] = ids
	return ids, nil
}

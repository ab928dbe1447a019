package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/favoriteapi"
)

// Group commit: the broker delivers changes one per request, many at once; the persister
// gathers those in flight into one INSERT, and each delivery is acknowledged only after the
// statement that holds it has committed. A crash before the commit leaves the deliveries
// unacknowledged, so the broker delivers them again.
const (
	maxBatch  = 500
	batchWait = 5 * time.Millisecond
)

type persistRequest struct {
	change favoriteapi.Changed
	done   chan error
}

type persister struct {
	store *store
	log   *zap.Logger
	queue chan persistRequest
}

func newPersister(st *store, log *zap.Logger) *persister {
	return &persister{store: st, log: log, queue: make(chan persistRequest, maxBatch)}
}

// persist hands a change to the batch loop and waits until it is committed.
func (p *persister) persist(ctx context.Context, c favoriteapi.Changed) error {
	req := persistRequest{change: c, done: make(chan error, 1)}
	select {
	case p.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes batches until ctx ends.
func (p *persister) run(ctx context.Context) {
	for {
		var batch []persistRequest
		select {
		case <-ctx.Done():
			return
		case first := <-p.queue:
			batch = append(batch, first)
		}
		timer := time.NewTimer(batchWait)
	gather:
		for len(batch) < maxBatch {
			select {
			case req := <-p.queue:
				batch = append(batch, req)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		err := p.store.save(ctx, latestPerPair(batch))
		if err != nil {
			p.log.Error("persisting likes failed; the broker will redeliver them", zap.Int("changes", len(batch)), zap.Error(err))
		}
		for _, req := range batch {
			req.done <- err
		}
	}
}

// latestPerPair keeps the winning change of each (user, video) pair in a batch.
func latestPerPair(batch []persistRequest) []favoriteapi.Changed {
	type pair struct{ user, video int64 }
	latest := make(map[pair]favoriteapi.Changed, len(batch))
	for _, req := range batch {
		c := req.change
		k := pair{c.UserID, c.VideoID}
		if old, ok := latest[k]; !ok || c.At > old.At || (c.At == old.At && c.EventID > old.EventID) {
			latest[k] = c
		}
	}
	out := make([]favoriteapi.Changed, 0, len(latest))
	for _, c := range latest {
		out = append(out, c)
	}
	return out
}

// Package groupcommit turns many concurrent event deliveries into few database writes.
//
// The broker delivers events one per request, many at once. Each delivery hands its item to a
// Committer and waits; the committer gathers the items in flight (up to maxBatch, or for at most
// maxWait after the first) and saves them with one call. Every delivery is acknowledged only after
// the save that holds it has committed, so a crash before the commit leaves them unacknowledged
// and the broker delivers them again: nothing is held only in memory.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// How much one save may gather: a bounded statement, and a bounded delay for the first item.
const (
	maxBatch = 500
	maxWait  = 5 * time.Millisecond
)

// saveTimeout bounds one save: a hung database fails the batch (the broker delivers it again
// later) instead of holding every delivery in it, and the loop, forever.
const saveTimeout = 20 * time.Second

type request[T any] struct {
	item T
	done chan error
}

// Committer saves items in batches.
type Committer[T any] struct {
	save    func(context.Context, []T) error
	refuses func(error) bool
	log     *zap.Logger
	queue   chan request[T]
}

// ErrRefused marks an item the database refuses on its own (its data, not the database's state):
// saving it again can never succeed.
var ErrRefused = errors.New("item refused by the database")

// New returns a committer that saves batches with save; call Run to start it. refuses tells an
// error caused by the data (a value PostgreSQL cannot store, a violated constraint) from one
// caused by the database's state: a batch that fails on its data is saved again item by item,
// so that one bad item fails alone, with ErrRefused, and the others are saved.
func New[T any](log *zap.Logger, save func(context.Context, []T) error, refuses func(error) bool) *Committer[T] {
	return &Committer[T]{save: save, refuses: refuses, log: log, queue: make(chan request[T], maxBatch)}
}

// Commit hands item to the batch loop and returns once it is saved (or the save failed).
func (c *Committer[T]) Commit(ctx context.Context, item T) error {
	req := request[T]{item: item, done: make(chan error, 1)}
	select {
	case c.queue <- req:
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

// Run saves batches until ctx ends.
func (c *Committer[T]) Run(ctx context.Context) {
	for {
		var batch []request[T]
		select {
		case <-ctx.Done():
			return
		case first := <-c.queue:
			batch = append(batch, first)
		}
		timer := time.NewTimer(maxWait)
	gather:
		for len(batch) < maxBatch {
			select {
			case req := <-c.queue:
				batch = append(batch, req)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		items := make([]T, len(batch))
		for i, req := range batch {
			items[i] = req.item
		}
		err := c.saveWithin(ctx, items)
		if err != nil && c.refuses(err) {
			c.log.Warn("a batch failed on its data: saving its items one by one", zap.Int("items", len(items)), zap.Error(err))
			for _, req := range batch {
				req.done <- c.saveAlone(ctx, req.item)
			}
			continue
		}
		if err != nil {
			c.log.Error("saving a batch failed; the broker will redeliver it", zap.Int("items", len(items)), zap.Error(err))
		}
		for _, req := range batch {
			req.done <- err
		}
	}
}

// saveAlone saves one item of a batch that failed on its data.
func (c *Committer[T]) saveAlone(ctx context.Context, item T) error {
	err := c.saveWithin(ctx, []T{item})
	if err != nil && c.refuses(err) {
		c.log.Error("an item is refused by the database", zap.Error(err))
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

func (c *Committer[T]) saveWithin(ctx context.Context, items []T) error {
	ctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	return c.save(ctx, items)
}

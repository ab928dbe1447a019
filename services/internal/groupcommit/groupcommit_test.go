package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
)

func TestConcurrentCommitsShareBatchesAndSeeTheirOutcome(t *testing.T) {
	var calls, saved atomic.Int64
	fail := atomic.Bool{}
	c := New(zap.NewNop(), func(_ context.Context, items []int) error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("database down")
		}
		saved.Add(int64(len(items)))
		return nil
	}, func(error) bool { return false })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)

	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Commit(ctx, i); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if saved.Load() != n {
		t.Fatalf("saved %d of %d", saved.Load(), n)
	}
	if calls.Load() >= n {
		t.Fatalf("%d saves for %d items: no batching", calls.Load(), n)
	}
	fail.Store(true)
	if err := c.Commit(ctx, 1); err == nil {
		t.Fatal("a failed save was reported as committed")
	}
}

var errBadValue = errors.New("invalid byte sequence")

func TestABatchFailingOnOneItemsDataSavesTheOthers(t *testing.T) {
	var mu sync.Mutex
	saved := map[int]bool{}
	c := New(zap.NewNop(), func(_ context.Context, items []int) error {
		for _, it := range items {
			if it == 13 {
				return errBadValue // the whole statement fails, as PostgreSQL's does
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			saved[it] = true
		}
		return nil
	}, func(err error) bool { return errors.Is(err, errBadValue) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)

	errs := make([]error, 40)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Commit(ctx, i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 13 && !errors.Is(err, ErrRefused):
			t.Fatalf("the bad item answered %v, want ErrRefused", err)
		case i != 13 && (err != nil || !saved[i]):
			t.Fatalf("item %d: %v, saved %v: a bad item must not fail the others", i, err, saved[i])
		}
	}
}

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
	})
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

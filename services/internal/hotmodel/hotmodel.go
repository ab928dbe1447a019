// Package hotmodel keeps a service's hot model in the Dapr state store: values that many requests
// and event consumers change at once, each change a compare-and-swap on the key's ETag, retried
// from a fresh read when the key changed meanwhile. Concurrent changes of one key in one process
// share one write (Combiner), so a hot key (a counters bucket every like touches) does not turn
// into a queue of failing writes. The values themselves are lww's last-writer-wins types, so a
// change applied twice, or by a request and a consumer in either order, ends the same.
//
// Why compare-and-swap per key: a write must touch each key on its own, because the state
// store's transactions are not atomic across keys (Redis runs them as a MULTI of independent
// scripts: one failed ETag check does not undo the others). Every change reads the key before
// it writes: nothing predicts the store's next ETag, which ties the code to no store and, after
// a store lost its data (Dapr's Redis store takes any ETag for a missing key), lets no stale
// copy in memory be written back.
package hotmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/doutok/doutok/services/internal/lww"
)

// Store reads and changes JSON values in one state store with compare-and-swap.
type Store struct {
	SDK  dapr.Client
	Name string
	// Combine, if set, lets concurrent updates of one key in this process share one write.
	Combine *Combiner
	// Finished, if set, remembers the changes this process's requests made fully visible.
	Finished *Finished
}

// Combiner merges concurrent updates of one key made by one process: the first caller writes
// the key; whoever arrives meanwhile waits, and the next write applies all of them together.
// Without it, concurrent updates of a hot key (a counters bucket every like touches) fail each
// other's compare-and-swap and retry with a read; with it a key takes one write per round trip
// however many updates are waiting, and in-process writers never conflict. Other processes are
// still kept apart by the ETag check.
type Combiner struct {
	mu sync.Mutex
	// pending holds, per key being written, the updates waiting for its next write. A key is
	// present exactly while some goroutine is writing it.
	pending map[string][]*update
}

// NewCombiner returns an empty Combiner.
func NewCombiner() *Combiner { return &Combiner{pending: map[string][]*update{}} }

// update is one caller's change of a key, type-erased so that one write can carry several.
type update struct {
	fresh  func() any      // a new zero value (*T) to decode into
	change func(any) error // the caller's change, applied to the *T
	value  any             // the *T the successful write stored (shared: read only)
	err    error           // the change's own error
	done   chan struct{}   // closed when the write that carried it ended
	failed error           // that write's error
}

// combineWriteTimeout bounds one shared write: it runs for several callers, so it cannot use
// any one caller's deadline.
const combineWriteTimeout = 10 * time.Second

// submit queues u for key's next write, writing it itself when nobody else is.
func (c *Combiner) submit(ctx context.Context, st Store, key string, u *update) error {
	u.done = make(chan struct{})
	c.mu.Lock()
	queue, writing := c.pending[key]
	c.pending[key] = append(queue, u)
	c.mu.Unlock()
	if !writing {
		c.writeNext(context.WithoutCancel(ctx), st, key)
		c.handOver(ctx, st, key)
	}
	select {
	case <-u.done:
		return errors.Join(u.failed, u.err)
	case <-ctx.Done():
		// The update may still be written: like any write whose answer was lost.
		return ctx.Err()
	}
}

// writeNext writes every update waiting on key in one compare-and-swap.
func (c *Combiner) writeNext(ctx context.Context, st Store, key string) {
	c.mu.Lock()
	batch := c.pending[key]
	c.pending[key] = []*update{} // still present: this goroutine is the key's writer
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, combineWriteTimeout)
	defer cancel()
	err := st.write(ctx, key, batch)
	for _, u := range batch {
		u.failed = err
		close(u.done)
	}
}

// handOver ends the caller's turn as key's writer: updates that arrived during its write are
// written by a goroutine of their own, so the caller answers as soon as its own write is done,
// and nobody waits for more than the write in progress plus the one that carries its update.
func (c *Combiner) handOver(ctx context.Context, st Store, key string) {
	if c.release(key) {
		return
	}
	go func() {
		ctx := context.WithoutCancel(ctx)
		for {
			c.writeNext(ctx, st, key)
			if c.release(key) {
				return
			}
		}
	}()
}

// release gives up writing key if nothing is waiting, and reports whether it did.
func (c *Combiner) release(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending[key]) > 0 {
		return false
	}
	delete(c.pending, key)
	return true
}

// maxAttempts bounds the compare-and-swap loop of one update: enough for hundreds of writers
// on one key, finite so that an outage surfaces as an error.
const maxAttempts = 200

// ErrUnchanged is returned by a change function that has nothing to write.
var ErrUnchanged = errors.New("unchanged")

// Update reads key into a fresh T, calls change, and writes the result back only if the key did
// not change meanwhile, retrying from the read otherwise. change returns ErrUnchanged to skip the
// write; when it returns another error it must leave the value as it found it, because with a
// Combiner other callers' changes of the same value may still be written. The value stored by
// the successful write is returned; it may be shared with concurrent callers, so it is for
// reading only. change must not update the same key itself: with a Combiner it would wait for
// its own write.
func Update[T any](ctx context.Context, st Store, key string, change func(*T) error) (T, error) {
	u := &update{
		fresh: func() any { return new(T) },
		change: func(v any) error {
			p, ok := v.(*T)
			if !ok {
				return fmt.Errorf("%s is updated as two different types", key)
			}
			return change(p)
		},
	}
	var err error
	if st.Combine != nil {
		err = st.Combine.submit(ctx, st, key, u)
	} else if err = st.write(ctx, key, []*update{u}); err == nil {
		err = u.err
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return *u.value.(*T), nil
}

// write applies a batch of updates of one key with compare-and-swap, retrying from a fresh read
// when the key changed meanwhile. Each update's own error is left in its err; the error returned
// is the batch's (the key could not be read, decoded or written).
func (st Store) write(ctx context.Context, key string, batch []*update) error {
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		raw, etag, err := st.read(ctx, key)
		if err != nil {
			lastErr = err
			if !sleep(ctx, attempt) {
				break
			}
			continue
		}
		v := batch[0].fresh()
		if raw != nil {
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
		}
		changed := false
		for _, u := range batch {
			u.value, u.err = v, u.change(v)
			switch {
			case u.err == nil:
				changed = true
			case errors.Is(u.err, ErrUnchanged):
				u.err = nil
			}
		}
		if !changed {
			return nil
		}
		next, err := json.Marshal(v)
		if err != nil {
			return err
		}
		// First-write concurrency: with an ETag the write succeeds only if the key is unchanged;
		// without one (a new key) only if the key still does not exist.
		err = st.SDK.SaveStateWithETag(ctx, st.Name, key, next, etag, nil, dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
		if err == nil {
			return nil
		}
		lastErr = err
		if attempt > 0 && !sleep(ctx, attempt) {
			break
		}
	}
	return fmt.Errorf("update %s: %w", key, lastErr)
}

// read returns key's value and ETag (nil and "" for an absent key).
func (st Store) read(ctx context.Context, key string) ([]byte, string, error) {
	item, err := st.SDK.GetState(ctx, st.Name, key, nil)
	if err != nil {
		return nil, "", err
	}
	if item == nil || len(item.Value) == 0 {
		return nil, "", nil
	}
	return item.Value, item.Etag, nil
}

// sleep backs off a little, with jitter so that contending writers spread out.
func sleep(ctx context.Context, attempt int) bool {
	d := time.Duration(rand.IntN(1+min(attempt, 20))) * 500 * time.Microsecond
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// ReadTimeout bounds a read that has somewhere else to go: with the state store down, readers
// answer from PostgreSQL (or ask the data's owners) at once instead of waiting out the
// component's own timeouts.
const ReadTimeout = 300 * time.Millisecond

// GetMany reads several keys in one call; absent keys are left out of the result.
func GetMany[T any](ctx context.Context, st Store, keys []string) (map[string]T, error) {
	out := make(map[string]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	items, err := st.SDK.GetBulkState(ctx, st.Name, keys, nil, 8)
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		if item.Error != "" {
			return nil, fmt.Errorf("read %s: %s", item.Key, item.Error)
		}
		if len(item.Value) == 0 {
			continue
		}
		var v T
		if raw, ok := any(&v).(*json.RawMessage); ok {
			*raw = item.Value // taken as it is: its reader decodes only what it needs of it
		} else if err := json.Unmarshal(item.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", item.Key, err)
		}
		out[item.Key] = v
	}
	return out, nil
}

// AssignCount copies a count into its bucket key with compare-and-swap.
func AssignCount(ctx context.Context, st Store, prefix string, id, value, seq int64) error {
	_, err := Update(ctx, st, lww.BucketKey(prefix, id), func(c *lww.Counters) error {
		if !c.Assign(id, value, seq) {
			return ErrUnchanged
		}
		return nil
	})
	return err
}

// Open returns the Store of a hot model in a state store component: it combines concurrent
// updates of a key (Combine) and remembers the changes finished here (Finished).
func Open(sdk dapr.Client, name string) Store {
	return Store{SDK: sdk, Name: name, Combine: NewCombiner(), Finished: NewFinished(100_000)}
}

// Record returns the change that records fact for member in a Set: ErrUnchanged when the set
// already holds that fact or a newer one.
func Record(member int64, fact lww.Fact) func(*lww.Set) error {
	return func(s *lww.Set) error {
		if !s.Apply(member, fact) {
			return ErrUnchanged
		}
		return nil
	}
}

// UpdateCounted records fact for member in the set at key, then copies the set's size into id's
// counter in the prefix's buckets. It returns the set as written.
func UpdateCounted(ctx context.Context, st Store, key string, member int64, fact lww.Fact, prefix string, id int64) (lww.Set, error) {
	set, err := Update(ctx, st, key, Record(member, fact))
	if err != nil {
		return set, err
	}
	return set, AssignCount(ctx, st, prefix, id, set.Count(), set.Seq)
}

package hotmodel

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

// casStore is an in-memory state store with the Redis store's ETag rules: a version per key,
// incremented by each write; a write with an ETag succeeds only at that version, a write
// without one only if the key is absent. Only the two calls Update makes are implemented.
type casStore struct {
	dapr.Client // nil: any other call panics

	mu        sync.Mutex
	values    map[string][]byte
	versions  map[string]int
	writes    int
	conflicts int
}

func newCASStore() *casStore {
	return &casStore{values: map[string][]byte{}, versions: map[string]int{}}
}

func (c *casStore) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	time.Sleep(100 * time.Microsecond) // a round trip, so that callers overlap
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.values[key]
	if !ok {
		return &dapr.StateItem{Key: key}, nil
	}
	return &dapr.StateItem{Key: key, Value: v, Etag: strconv.Itoa(c.versions[key])}, nil
}

func (c *casStore) SaveStateWithETag(_ context.Context, _, key string, data []byte, etag string, _ map[string]string, _ ...dapr.StateOption) error {
	time.Sleep(100 * time.Microsecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, exists := c.values[key]
	if (etag == "" && exists) || (etag != "" && etag != strconv.Itoa(c.versions[key])) {
		c.conflicts++
		return errors.New("possible etag mismatch")
	}
	c.values[key], c.versions[key] = data, c.versions[key]+1
	c.writes++
	return nil
}

type tally struct{ N int }

// increment adds one to key's tally from n goroutines at once.
func increment(t *testing.T, st Store, key string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := Update(context.Background(), st, key, func(v *tally) error { v.N++; return nil })
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (c *casStore) tally(t *testing.T, key string) int {
	t.Helper()
	item, _ := c.GetState(context.Background(), "", key, nil)
	var v tally
	if err := json.Unmarshal(item.Value, &v); err != nil {
		t.Fatal(err)
	}
	return v.N
}

func TestCombinedUpdatesShareWritesAndNeverConflict(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s", Combine: NewCombiner()}
	increment(t, st, "k", 200)
	if got := backend.tally(t, "k"); got != 200 {
		t.Fatalf("tally %d, want 200", got)
	}
	if backend.conflicts != 0 {
		t.Fatalf("%d conflicts between writers of one process", backend.conflicts)
	}
	if backend.writes >= 200 {
		t.Fatalf("%d writes for 200 concurrent updates: nothing was combined", backend.writes)
	}
	// The last writer releases the key just after closing its callers' waits.
	for deadline := time.Now().Add(time.Second); st.Combine.keysBeingWritten() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a key is still marked as being written")
		}
	}
}

func TestProcessesStillExcludeEachOther(t *testing.T) {
	backend := newCASStore()
	var wg sync.WaitGroup
	for range 3 { // three processes, each with its own memory and combiner
		st := Store{SDK: backend, Name: "s", Combine: NewCombiner()}
		wg.Go(func() { increment(t, st, "k", 50) })
	}
	wg.Wait()
	if got := backend.tally(t, "k"); got != 150 {
		t.Fatalf("tally %d, want 150 (conflicts %d)", got, backend.conflicts)
	}
}

func TestOneFailingChangeLeavesTheOthersWritten(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s", Combine: NewCombiner()}
	refused := errors.New("refused")
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Go(func() {
			_, results[i] = Update(context.Background(), st, "k", func(v *tally) error {
				if i%5 == 0 {
					return refused
				}
				v.N++
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range results {
		if (i%5 == 0) != errors.Is(err, refused) {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if got := backend.tally(t, "k"); got != 16 {
		t.Fatalf("tally %d, want 16", got)
	}
}

func TestUnchangedUpdatesDoNotWrite(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s", Combine: NewCombiner()}
	for i := range 3 {
		got, err := Update(context.Background(), st, "k", func(v *tally) error {
			if v.N == 1 {
				return ErrUnchanged
			}
			v.N = 1
			return nil
		})
		if err != nil || got.N != 1 {
			t.Fatalf("update %d: %v %+v", i, err, got)
		}
	}
	if backend.writes != 1 {
		t.Fatalf("%d writes, want 1", backend.writes)
	}
}

func (c *Combiner) keysBeingWritten() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

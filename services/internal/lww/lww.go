// Package lww keeps sets in the Dapr state store that many writers change at once and exactly:
// last-writer-wins element sets, each in one key, changed by compare-and-swap on the key's ETag.
//
// Why this shape: a write must touch each key on its own, because the state store's transactions
// are not atomic across keys (Redis runs them as a MULTI of independent scripts: one failed ETag
// check does not undo the others). Applying a timestamped fact to a last-writer-wins set is
// idempotent and order-independent, so the request that makes a change and the event consumer
// that persists it can both apply the same fact, in any order, any number of times, and the set
// ends the same. Counts are the sizes of sets, never increments.
package lww

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

// Fact is one timestamped change of one member: in or out of the set.
type Fact struct {
	In    bool   `json:"in"`
	At    int64  `json:"at"` // Unix ms of the action
	Event string `json:"ev"` // the action's event id: orders facts with the same At
}

// Newer reports whether f wins over g: the later action, or the larger event id in the same millisecond.
func (f Fact) Newer(g Fact) bool {
	return f.At > g.At || (f.At == g.At && f.Event > g.Event)
}

// Set maps members to their latest fact. Seq counts the changes, so that derived values
// (a count copied elsewhere) can be ordered.
type Set struct {
	Seq     int64          `json:"seq"`
	Members map[int64]Fact `json:"members"`
}

// Apply records fact for member and reports whether the set changed. An older or repeated fact
// changes nothing.
func (s *Set) Apply(member int64, fact Fact) bool {
	if s.Members == nil {
		s.Members = map[int64]Fact{}
	}
	if old, ok := s.Members[member]; ok && !fact.Newer(old) {
		return false
	}
	s.Members[member] = fact
	s.Seq++
	return true
}

// Has reports whether member is in the set.
func (s *Set) Has(member int64) bool { return s.Members[member].In }

// Count is the number of members in the set.
func (s *Set) Count() int64 {
	var n int64
	for _, f := range s.Members {
		if f.In {
			n++
		}
	}
	return n
}

// Newest returns the members in the set, most recently added first.
func (s *Set) Newest() []int64 {
	ids := make([]int64, 0, len(s.Members))
	for id, f := range s.Members {
		if f.In {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := s.Members[ids[i]], s.Members[ids[j]]
		if a.At != b.At {
			return a.At > b.At
		}
		return ids[i] > ids[j]
	})
	return ids
}

// Store reads and changes JSON values in one state store with compare-and-swap.
type Store struct {
	SDK  dapr.Client
	Name string
	// Recent, if set, remembers the last value and ETag this process wrote per key, so an update
	// of a key nobody else changed since skips its read: one sidecar round trip instead of two.
	// A stale entry only costs a failed write and the usual read.
	Recent *Recent
	// Combine, if set, lets concurrent updates of one key in this process share one write.
	Combine *Combiner
	// Finished, if set, remembers the changes this process's requests made fully visible.
	Finished *Finished
}

// Recent remembers recently written values, bounded in size.
type Recent struct {
	mu      sync.Mutex
	entries map[string]recentEntry
	max     int
}

type recentEntry struct {
	value []byte
	etag  string
}

// NewRecent returns a memory of at most max keys.
func NewRecent(max int) *Recent { return &Recent{entries: map[string]recentEntry{}, max: max} }

func (r *Recent) get(key string) (recentEntry, bool) {
	if r == nil {
		return recentEntry{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	return e, ok
}

func (r *Recent) put(key string, e recentEntry) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) >= r.max {
		// Forget everything rather than track recency: the memory is only a shortcut.
		clear(r.entries)
	}
	r.entries[key] = e
}

func (r *Recent) clearAll() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.entries)
}

func (r *Recent) forget(key string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, key)
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
		raw, etag, err := st.read(ctx, key, attempt == 0)
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
			if n, convErr := strconv.Atoi(etag); convErr == nil {
				// The Redis store's ETag is a version counter that each write increments.
				st.Recent.put(key, recentEntry{value: next, etag: strconv.Itoa(n + 1)})
			}
			return nil
		}
		st.Recent.forget(key)
		lastErr = err
		if attempt > 0 && !sleep(ctx, attempt) {
			break
		}
	}
	return fmt.Errorf("update %s: %w", key, lastErr)
}

// read returns key's value and ETag (nil and "" for an absent key), from this process's memory
// of its own last write when remembered is allowed and there is one.
func (st Store) read(ctx context.Context, key string, remembered bool) ([]byte, string, error) {
	if remembered {
		if e, ok := st.Recent.get(key); ok {
			return e.value, e.etag, nil
		}
	}
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

// BucketSize is how many ids share one counters key. IDs are compact and the ids on one page
// (the newest videos, their authors) sit close together, so a page's counters come from a few
// keys: the state store's bulk read costs one round trip per key.
const BucketSize = 64

// BucketKey names the counters key that holds id's counter.
func BucketKey(prefix string, id int64) string {
	return prefix + "-" + strconv.FormatInt(id/BucketSize, 10)
}

// BucketKeys names the counters keys of ids, without repeats.
func BucketKeys(prefix string, ids []int64) []string {
	seen := map[string]bool{}
	var keys []string
	for _, id := range ids {
		if k := BucketKey(prefix, id); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// Counters is one bucket of derived counts. Each count is copied from the set it counts, with
// that set's Seq, so a writer that copies an older state never replaces a newer one.
type Counters struct {
	Entries map[int64]Counter `json:"e"`
}

// Counter is one count and the Seq of the state it was taken from.
type Counter struct {
	Value int64 `json:"v"`
	Seq   int64 `json:"s"`
}

// Assign records value for id if seq is newer than what is recorded, and reports a change.
func (c *Counters) Assign(id, value, seq int64) bool {
	if c.Entries == nil {
		c.Entries = map[int64]Counter{}
	}
	if old, ok := c.Entries[id]; ok && old.Seq >= seq {
		return false
	}
	c.Entries[id] = Counter{Value: value, Seq: seq}
	return true
}

// AssignCount copies a count into its bucket key with compare-and-swap.
func AssignCount(ctx context.Context, st Store, prefix string, id, value, seq int64) error {
	_, err := Update(ctx, st, BucketKey(prefix, id), func(c *Counters) error {
		if !c.Assign(id, value, seq) {
			return ErrUnchanged
		}
		return nil
	})
	return err
}

// Buckets reads counts and sets out of the raw values of a bulk read (as returned by GetMany).
// A counter is looked up in its bucket without decoding the rest (CounterIn): a list reads one or
// two counters out of each 64-counter bucket it fetches. A set is decoded once.
type Buckets struct {
	raw  map[string]json.RawMessage
	sets map[string]Set
	err  error
}

// NewBuckets wraps the raw values of a bulk read.
func NewBuckets(raw map[string]json.RawMessage) *Buckets {
	return &Buckets{raw: raw, sets: map[string]Set{}}
}

// Count returns id's count in the prefix's buckets; 0 when none was recorded.
func (b *Buckets) Count(prefix string, id int64) int64 { return b.Counter(prefix, id).Value }

// Counter returns id's counter, with the Seq it was copied at, in the prefix's buckets.
func (b *Buckets) Counter(prefix string, id int64) Counter {
	key := BucketKey(prefix, id)
	c, err := CounterIn(b.raw[key], id)
	if err != nil {
		b.err = errors.Join(b.err, fmt.Errorf("decode %s: %w", key, err))
	}
	return c
}

// Set returns the set stored at key, decoded once; an absent key is the empty set.
func (b *Buckets) Set(key string) Set {
	if s, ok := b.sets[key]; ok {
		return s
	}
	var s Set
	if v, ok := b.raw[key]; ok {
		b.err = errors.Join(b.err, json.Unmarshal(v, &s))
	}
	b.sets[key] = s
	return s
}

// Err reports any value that could not be decoded.
func (b *Buckets) Err() error { return b.err }

// Open returns the Store of owner's hot model in a state store component: it combines
// concurrent updates of a key (Combine), remembers the changes finished here (Finished), and
// remembers its own writes (Recent) when the store's ETags make that safe, which it checks on a
// key of owner's.
func Open(ctx context.Context, sdk dapr.Client, name, owner string) Store {
	st := Store{SDK: sdk, Name: name, Combine: NewCombiner(), Finished: NewFinished(100_000)}
	if CountsWrites(ctx, st, owner+":etag-probe") {
		st.Recent = NewRecent(100_000)
	}
	return st
}

// CountsWrites reports whether the store's ETags count writes (Redis: each write increments the
// key's version), which Recent relies on to predict the ETag after its own write. It writes a
// probe key twice and compares the ETags; on any doubt it answers false, and Recent stays off.
func CountsWrites(ctx context.Context, st Store, probeKey string) bool {
	etags := make([]int, 0, 2)
	for i := range 2 {
		if err := st.SDK.SaveState(ctx, st.Name, probeKey, []byte(strconv.Itoa(i)), nil); err != nil {
			return false
		}
		item, err := st.SDK.GetState(ctx, st.Name, probeKey, nil)
		if err != nil || item == nil {
			return false
		}
		n, err := strconv.Atoi(item.Etag)
		if err != nil {
			return false
		}
		etags = append(etags, n)
	}
	return etags[1] == etags[0]+1
}

// Record returns the change that records fact for member in a Set: ErrUnchanged when the set
// already holds that fact or a newer one.
func Record(member int64, fact Fact) func(*Set) error {
	return func(s *Set) error {
		if !s.Apply(member, fact) {
			return ErrUnchanged
		}
		return nil
	}
}

// UpdateCounted records fact for member in the set at key, then copies the set's size into id's
// counter in the prefix's buckets. It returns the set as written.
func UpdateCounted(ctx context.Context, st Store, key string, member int64, fact Fact, prefix string, id int64) (Set, error) {
	set, err := Update(ctx, st, key, Record(member, fact))
	if err != nil {
		return set, err
	}
	return set, AssignCount(ctx, st, prefix, id, set.Count(), set.Seq)
}

// Latest keeps the winning change of each pair in a batch (by fact), ordered by pair: a batch
// persisted in one INSERT … ON CONFLICT may not touch one row twice, and replicas that write
// overlapping batches in one order take the rows' locks in one order (no deadlock).
func Latest[T any](batch []T, pair func(T) [2]int64, fact func(T) Fact) []T {
	latest := make(map[[2]int64]T, len(batch))
	for _, c := range batch {
		k := pair(c)
		if old, ok := latest[k]; !ok || fact(c).Newer(fact(old)) {
			latest[k] = c
		}
	}
	keys := slices.SortedFunc(maps.Keys(latest), func(a, b [2]int64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, latest[k])
	}
	return out
}

// Package lww holds the last-writer-wins data types of the hot models: element sets whose members
// carry their latest timestamped change, and buckets of counts copied from those sets. Applying a
// timestamped change is idempotent and order-independent, so the request that makes a change and
// the event consumer that persists it can both apply the same change, in any order, any number
// of times, and the set ends the same. Counts are the sizes of sets, never increments; each copy
// carries the set's Seq, so an older copy never replaces a newer one. Package hotmodel writes
// these values to the state store; Buckets reads them out of a bulk read.
package lww

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
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

// Counts returns the counts of ids in the prefix's buckets of a bulk read.
func Counts(raw map[string]json.RawMessage, prefix string, ids []int64) (map[int64]int64, error) {
	b := NewBuckets(raw)
	out := make(map[int64]int64, len(ids))
	for _, id := range ids {
		out[id] = b.Count(prefix, id)
	}
	return out, b.Err()
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

package hotmodel

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"
)

func (c *casStore) SaveState(ctx context.Context, store, key string, data []byte, meta map[string]string, _ ...dapr.StateOption) error {
	return c.SaveStateWithETag(ctx, store, key, data, c.etagOf(key), meta)
}

func (c *casStore) etagOf(key string) string {
	item, _ := c.GetState(context.Background(), "", key, nil)
	return item.Etag
}

// wipe loses every key, as a Redis that came back empty.
func (c *casStore) wipe() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.values)
	clear(c.versions)
}

func replicaRestorer(st Store, me string, restore func(context.Context) (int, error)) *restorer {
	r := newRestorer(st, "o", zap.NewNop(), restore)
	r.me = me
	return r
}

func TestRestoreRunsOnlyWhenTheMarkerIsGoneAndMarksSuccess(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s"}
	runs := 0
	restore := func(context.Context) (int, error) { runs++; return 3, nil }
	r := replicaRestorer(st, "a", restore)

	r.restoreIfLost(context.Background())
	r.restoreIfLost(context.Background())
	if runs != 1 {
		t.Fatalf("%d restores, want 1: the first writes the marker", runs)
	}

	backend.wipe() // the store lost its data
	r.restore = func(context.Context) (int, error) { runs++; return 1, errors.New("database down") }
	r.restoreIfLost(context.Background())
	r.restore = restore
	r.restoreIfLost(context.Background())
	r.restoreIfLost(context.Background())
	if runs != 3 {
		t.Fatalf("%d restores, want 3: a failed restore leaves the marker absent and is tried again", runs)
	}
}

func TestARestoreForgetsWhatThisProcessFinished(t *testing.T) {
	st := Store{SDK: newCASStore(), Name: "s", Finished: NewFinished(10)}
	st.Finished.Add("e1")
	st.Finished.Add("e2")
	if !st.Finished.Take("e1") || st.Finished.Take("e1") {
		t.Fatal("a finished change is taken exactly once")
	}
	replicaRestorer(st, "a", func(context.Context) (int, error) { return 0, nil }).restoreIfLost(context.Background())
	if st.Finished.Take("e2") {
		t.Fatal("after the store lost its data, a change finished before must get the consumer's check")
	}
}

func TestAReplicaForgetsWhatItFinishedWhenAnotherOneRestored(t *testing.T) {
	backend := newCASStore()
	restore := func(context.Context) (int, error) { return 0, nil }
	a := Store{SDK: backend, Name: "s", Finished: NewFinished(10)}
	b := Store{SDK: backend, Name: "s", Finished: NewFinished(10)}
	ra, rb := replicaRestorer(a, "a", restore), replicaRestorer(b, "b", restore)
	ra.restoreIfLost(context.Background())
	a.Finished.Add("e1")
	backend.wipe() // the store lost its data; replica b notices first and restores
	rb.restoreIfLost(context.Background())
	if rb.seen == "" || rb.seen == ra.seen {
		t.Fatalf("b did not restore: it saw marker %q, a %q", rb.seen, ra.seen)
	}
	if ra.restoreIfLost(context.Background()); ra.seen != rb.seen {
		t.Fatalf("a saw marker %q, b wrote %q", ra.seen, rb.seen)
	}
	if a.Finished.Take("e1") {
		t.Fatal("after another replica restored the model, a change finished here before must get the consumer's check")
	}
}

// The store loses its data again while a restore runs: that restore must not mark the model
// complete (part of what it wrote is gone); the next check restores again.
func TestALossDuringTheRestoreIsRestoredAgain(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s"}
	runs := 0
	r := replicaRestorer(st, "a", func(context.Context) (int, error) {
		runs++
		if runs == 1 {
			backend.wipe()
		}
		return 1, nil
	})
	r.restoreIfLost(context.Background())
	if item, _ := backend.GetState(context.Background(), "s", r.marker, nil); len(item.Value) > 0 {
		t.Fatal("a restore during which the store lost its data marked the model complete")
	}
	r.restoreIfLost(context.Background())
	if item, _ := backend.GetState(context.Background(), "s", r.marker, nil); runs != 2 || len(item.Value) == 0 {
		t.Fatalf("%d restores, marker %q: want a second, complete restore", runs, item.Value)
	}
}

// Two replicas find the marker missing: one restores, the other leaves it to that one unless its
// claim is older than restoreTakeover.
func TestOneReplicaRestoresAtATime(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s"}
	var ranA, ranB int
	var rb *restorer
	ra := replicaRestorer(st, "a", func(ctx context.Context) (int, error) {
		ranA++
		rb.restoreIfLost(ctx) // b checks while a restores
		return 1, nil
	})
	rb = replicaRestorer(st, "b", func(context.Context) (int, error) { ranB++; return 1, nil })
	ra.restoreIfLost(context.Background())
	if ranA != 1 || ranB != 0 || ra.seen == "" {
		t.Fatalf("restores by a %d, by b %d, marker %q: want one by a, marked", ranA, ranB, ra.seen)
	}

	// a dies while restoring: b takes over once a's claim is old.
	backend.wipe()
	old, _ := json.Marshal(restoreClaim{By: "a", Since: time.Now().Add(-restoreTakeover / 2).UnixMilli()})
	if err := backend.SaveState(context.Background(), "s", ra.claim, old, nil); err != nil {
		t.Fatal(err)
	}
	rb.restoreIfLost(context.Background())
	if ranB != 0 {
		t.Fatal("b restored while a's claim was young")
	}
	old, _ = json.Marshal(restoreClaim{By: "a", Since: time.Now().Add(-restoreTakeover - time.Second).UnixMilli()})
	if err := backend.SaveState(context.Background(), "s", ra.claim, old, nil); err != nil {
		t.Fatal(err)
	}
	rb.restoreIfLost(context.Background())
	if item, _ := backend.GetState(context.Background(), "s", rb.marker, nil); ranB != 1 || len(item.Value) == 0 {
		t.Fatalf("b restored %d times after a's claim grew old, marker %q", ranB, item.Value)
	}
}

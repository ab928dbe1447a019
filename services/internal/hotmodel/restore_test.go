package hotmodel

import (
	"context"
	"errors"
	"testing"

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

func TestRestoreRunsOnlyWhenTheMarkerIsGoneAndMarksSuccess(t *testing.T) {
	backend := newCASStore()
	st := Store{SDK: backend, Name: "s"}
	runs := 0
	restore := func(context.Context) (int, error) { runs++; return 3, nil }

	seen := restoreIfLost(context.Background(), st, "marker", "", zap.NewNop(), restore)
	seen = restoreIfLost(context.Background(), st, "marker", seen, zap.NewNop(), restore)
	if runs != 1 {
		t.Fatalf("%d restores, want 1: the first writes the marker", runs)
	}

	delete(backend.values, "marker") // the store lost its data
	failing := func(context.Context) (int, error) { runs++; return 1, errors.New("database down") }
	seen = restoreIfLost(context.Background(), st, "marker", seen, zap.NewNop(), failing)
	seen = restoreIfLost(context.Background(), st, "marker", seen, zap.NewNop(), restore)
	restoreIfLost(context.Background(), st, "marker", seen, zap.NewNop(), restore)
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
	restoreIfLost(context.Background(), st, "marker", "", zap.NewNop(), func(context.Context) (int, error) { return 0, nil })
	if st.Finished.Take("e2") {
		t.Fatal("after the store lost its data, a change finished before must get the consumer's check")
	}
}

func TestAReplicaForgetsWhatItFinishedWhenAnotherOneRestored(t *testing.T) {
	backend := newCASStore()
	restore := func(context.Context) (int, error) { return 0, nil }
	a := Store{SDK: backend, Name: "s", Finished: NewFinished(10)}
	b := Store{SDK: backend, Name: "s", Finished: NewFinished(10)}
	seenByA := restoreIfLost(context.Background(), a, "marker", "", zap.NewNop(), restore)
	a.Finished.Add("e1")
	delete(backend.values, "marker") // the store lost its data; replica b notices first
	if err := backend.SaveState(context.Background(), "s", "marker", []byte("a later restore"), nil); err != nil {
		t.Fatal(err)
	}
	restoreIfLost(context.Background(), b, "marker", "", zap.NewNop(), restore)
	if seenByA = restoreIfLost(context.Background(), a, "marker", seenByA, zap.NewNop(), restore); seenByA != "a later restore" {
		t.Fatalf("a saw marker %q", seenByA)
	}
	if a.Finished.Take("e1") {
		t.Fatal("after another replica restored the model, a change finished here before must get the consumer's check")
	}
}

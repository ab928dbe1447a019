package main

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
)

const video = 9

func added(id, at int64) commentapi.Changed {
	return commentapi.Changed{EventID: "a" + strconv.FormatInt(id, 10), Comment: commentapi.Comment{ID: id, VideoID: video, UserID: 5, Content: "hi", CreatedAt: at}}
}

func deleted(c commentapi.Changed) commentapi.Changed {
	c.EventID, c.Deleted = "d"+c.EventID, true
	return c
}

// started is the window of a video PostgreSQL has nothing of.
func started(t *testing.T) *window {
	t.Helper()
	var w window
	if _, err := w.apply(added(1, 1), false, nil, nil); !errors.Is(err, errNotStarted) {
		t.Fatalf("apply to a window that does not exist: %v, want errNotStarted", err)
	}
	if _, err := w.start(&seed{Since: 1000}); err != nil {
		t.Fatal(err)
	}
	return &w
}

// mustApply applies c, which must need no reads.
func mustApply(t *testing.T, w *window, c commentapi.Changed, persisted bool) bool {
	t.Helper()
	counted, err := w.apply(c, persisted, nil, nil)
	if err != nil && !errors.Is(err, hotmodel.ErrUnchanged) {
		t.Fatalf("apply %+v: %v", c, err)
	}
	return counted
}

func TestEachChangeCountsOnceInAnyOrderAndDeletionIsFinal(t *testing.T) {
	a, b := added(1, 10), added(2, 20)
	changes := []commentapi.Changed{a, deleted(a), b, a, b, deleted(a)}
	for round := 0; round < 100; round++ {
		w := started(t)
		for _, i := range rand.Perm(len(changes)) {
			// The request applies, then the consumer after its save.
			mustApply(t, w, changes[i], false)
			mustApply(t, w, changes[i], true)
		}
		list := merge(w.Entries, nil)
		if w.Count != 1 || len(list) != 1 || list[0].ID != 2 || list[0].Content != "hi" {
			t.Fatalf("round %d: count %d, list %+v", round, w.Count, list)
		}
	}
}

func TestTheWindowStaysBoundedWhateverTheHistory(t *testing.T) {
	w := started(t)
	var size int
	for i := int64(1); i <= 2000; i++ {
		c := added(i, 1000+i)
		c.Comment.Content = strings.Repeat("字", 100)
		mustApply(t, w, c, false)
		mustApply(t, w, c, true)
		raw, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if i == 200 {
			size = len(raw)
		}
		if i > 200 && len(raw) > size+size/100 {
			t.Fatalf("after %d comments the window takes %d bytes, after 200 it took %d", i, len(raw), size)
		}
	}
	list := merge(w.Entries, nil)
	if w.Count != 2000 || len(w.Entries) != keepNewest || !w.complete() || len(list) != maxList || list[0].ID != 2000 || list[maxList-1].ID != 2000-maxList+1 {
		t.Fatalf("count %d, %d entries, complete %v, list of %d from %d", w.Count, len(w.Entries), w.complete(), len(list), list[0].ID)
	}
	if w.Trimmed != (position{At: 1000 + 2000 - keepNewest, ID: 2000 - keepNewest}) {
		t.Fatalf("trimmed up to %+v", w.Trimmed)
	}
}

func TestUnpersistedChangesAreNeverDropped(t *testing.T) {
	w := started(t)
	old := added(1, 1)
	mustApply(t, w, old, false)
	for i := int64(2); i <= 2*keepNewest; i++ {
		mustApply(t, w, added(i, i), true)
	}
	if w.find(1) < 0 {
		t.Fatal("a change not yet persisted was dropped")
	}
	mustApply(t, w, old, true)
	if w.find(1) >= 0 || len(w.Entries) != keepNewest {
		t.Fatalf("persisted and old, it stays (%d entries)", len(w.Entries))
	}
}

// trimmedWindow holds 2×keepNewest persisted comments, the oldest dropped.
func trimmedWindow(t *testing.T) *window {
	t.Helper()
	w := started(t)
	for i := int64(1); i <= 2*keepNewest; i++ {
		mustApply(t, w, added(i, i), false)
		mustApply(t, w, added(i, i), true)
	}
	return w
}

func TestAnOldCommentIsDeletedOnceWithPostgreSQLsWord(t *testing.T) {
	w := trimmedWindow(t)
	del := deleted(added(3, 3))
	if _, err := w.apply(del, false, nil, nil); !errors.Is(err, errMaybeTrimmed) {
		t.Fatalf("deleting a dropped comment: %v, want errMaybeTrimmed", err)
	}
	live := &lookup{Since: w.Since, LateDrops: w.LateDrops, Found: true}
	if counted, err := w.apply(del, false, nil, live); err != nil || !counted || w.Count != 2*keepNewest-1 {
		t.Fatalf("delete with the lookup: counted %v, %v, count %d", counted, err, w.Count)
	}
	// The same deletion again (the consumer) finds the tombstone; once persisted it is dropped.
	mustApply(t, w, del, false)
	mustApply(t, w, del, true)
	if w.Count != 2*keepNewest-1 || w.find(3) >= 0 || w.LateDrops != 1 {
		t.Fatalf("count %d, tombstone kept %v, late drops %d", w.Count, w.find(3) >= 0, w.LateDrops)
	}
	// A redelivery: the lookup taken before the drop is stale; a fresh one says it is done.
	if _, err := w.apply(del, false, nil, live); !errors.Is(err, errMaybeTrimmed) {
		t.Fatalf("a stale lookup: %v, want errMaybeTrimmed", err)
	}
	gone := &lookup{Since: w.Since, LateDrops: w.LateDrops, Found: true, Deleted: true}
	if _, err := w.apply(del, false, nil, gone); !errors.Is(err, hotmodel.ErrUnchanged) || w.Count != 2*keepNewest-1 {
		t.Fatalf("a redelivered deletion: %v, count %d", err, w.Count)
	}
	// An addition that never reached the window, late and old: counted once.
	late := added(10_000, 2)
	if _, err := w.apply(late, false, nil, &lookup{Since: w.Since, LateDrops: w.LateDrops}); err != nil || w.Count != 2*keepNewest {
		t.Fatalf("a late addition: %v, count %d", err, w.Count)
	}
}

func TestAListMergesWhatTheWindowDroppedWhenDeletionsThinIt(t *testing.T) {
	w := trimmedWindow(t)
	for i := int64(2 * keepNewest); i > 2*keepNewest-60; i-- {
		mustApply(t, w, deleted(added(i, i)), false)
	}
	if w.complete() {
		t.Fatal("with 90 live comments above what it dropped, the window is not a whole list")
	}
	// PostgreSQL's comments at or below Trimmed: one of them deleted in the window, not yet saved.
	del := deleted(added(w.Trimmed.ID, w.Trimmed.At))
	if _, err := w.apply(del, false, nil, &lookup{Since: w.Since, LateDrops: w.LateDrops, Found: true}); err != nil {
		t.Fatal(err)
	}
	var persisted []commentapi.Comment
	for i := w.Trimmed.ID; i > w.Trimmed.ID-int64(maxList+w.lateTombstones()); i-- {
		persisted = append(persisted, added(i, i).Comment)
	}
	list := merge(w.Entries, persisted)
	if len(list) != maxList || list[0].ID != 2*keepNewest-60 {
		t.Fatalf("list of %d starting at %d", len(list), list[0].ID)
	}
	for i, c := range list {
		if c.ID == del.Comment.ID || (i > 0 && !positionOf(list[i-1]).above(positionOf(c))) {
			t.Fatalf("list %d: %+v", i, c)
		}
	}
}

func TestASeedStartsAWindowThatCountsAfterTheOneItReplaces(t *testing.T) {
	var rows []entry
	for i := int64(keepNewest + 50); i > 50; i-- {
		rows = append(rows, entry{Comment: added(i, i).Comment, Persisted: true})
	}
	rows[3].Deleted = true
	sd := &seed{Since: 2_000_000, Count: keepNewest + 49, Newest: rows}
	var w window
	counted, err := w.apply(added(1000, 1000), false, sd, nil)
	if err != nil || !counted || w.Count != keepNewest+50 || w.Seq != 2_000_001 || w.Trimmed != positionOf(rows[keepNewest-1].Comment) {
		t.Fatalf("start and add: counted %v, %v, window %+v", counted, err, w)
	}
	// A change below what the seed read needs PostgreSQL's word, and leaves the window as it was.
	var fresh window
	if _, err := fresh.apply(added(7, 7), false, sd, nil); !errors.Is(err, errMaybeTrimmed) || fresh.Since != 0 {
		t.Fatalf("an old change on a seed: %v, started %v", err, fresh.Since != 0)
	}
	// A deleted row the seed read stays deleted when its addition comes again.
	mustApply(t, &w, added(rows[3].ID, rows[3].CreatedAt), false)
	if w.Count != keepNewest+50 {
		t.Fatalf("a redelivered addition of a deleted comment counted: %d", w.Count)
	}
}

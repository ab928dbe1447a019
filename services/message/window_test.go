package main

import (
	"errors"
	"math"
	"testing"

	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/messageapi"
)

func msg(id int64) messageapi.Message {
	return messageapi.Message{ID: id, FromUserID: 1, ToUserID: 2, Content: "hi"}
}

// started is a window as a conversation with persisted messages up to seed starts it.
func started(t *testing.T, seed int64) *window {
	t.Helper()
	var w window
	if _, err := w.add(msg(1), seed, math.MaxInt64, noSeed); !errors.Is(err, errNotStarted) {
		t.Fatalf("add to a window that does not exist: %v, want errNotStarted", err)
	}
	return &w
}

func mustAdd(t *testing.T, w *window, id, now int64) int64 {
	t.Helper()
	at, err := w.add(msg(id), now, math.MaxInt64, 0)
	if err != nil {
		t.Fatalf("add %d: %v", id, err)
	}
	return at
}

func TestTimesIncreaseStrictlyWithinAConversation(t *testing.T) {
	w := started(t, 0)
	if _, err := w.add(msg(1), 1000, math.MaxInt64, 990); err != nil {
		t.Fatal(err)
	}
	if w.Messages[0].CreateTime != 1000 || w.TrimmedUpTo != 990 {
		t.Fatalf("first message at %d, trimmed up to %d; want 1000 and the seed 990", w.Messages[0].CreateTime, w.TrimmedUpTo)
	}
	// Three sends in one millisecond, then one from a clock that is behind.
	want := []int64{1001, 1002, 1003, 1004}
	for i, now := range []int64{1000, 1000, 1000, 900} {
		if got := mustAdd(t, w, int64(i+2), now); got != want[i] {
			t.Fatalf("send %d got time %d, want %d", i, got, want[i])
		}
	}
	if got := mustAdd(t, w, 9, 5000); got != 5000 {
		t.Fatalf("a later send got %d, want the clock's 5000", got)
	}
}

func TestASeedStartsTheWindowAfterThePersistedMessages(t *testing.T) {
	w := started(t, 0)
	if at, err := w.add(msg(1), 100, math.MaxInt64, 500); err != nil || at != 501 {
		t.Fatalf("add after seed 500 with the clock at 100: %d, %v; want 501", at, err)
	}
	// A seed read by a slower writer changes nothing once the window exists.
	if at, err := w.add(msg(2), 100, math.MaxInt64, 9000); err != nil || at != 502 {
		t.Fatalf("second add: %d, %v; want 502", at, err)
	}
}

func TestAddingAMessageAgainKeepsItsTime(t *testing.T) {
	w := started(t, 0)
	first := mustAdd(t, w, 7, 1000)
	mustAdd(t, w, 8, 1000)
	at, err := w.add(msg(7), 2000, math.MinInt64, 0)
	if !errors.Is(err, hotmodel.ErrUnchanged) || at != first {
		t.Fatalf("re-add: %d, %v; want %d and ErrUnchanged", at, err, first)
	}
	if len(w.Messages) != 2 || w.Last != first+1 {
		t.Fatalf("re-add changed the window: %+v", w)
	}
}

func TestAMessageMissingFromATrimmedWindowIsLookedUp(t *testing.T) {
	w := started(t, 0)
	for id := int64(1); id <= keepNewest+1; id++ {
		mustAdd(t, w, id, 1000)
	}
	if err := w.markPersisted(1); err != nil {
		t.Fatal(err)
	}
	if w.TrimmedUpTo != 1000 || w.find(1) >= 0 {
		t.Fatalf("the oldest persisted message was not dropped: trimmed up to %d", w.TrimmedUpTo)
	}
	// Placed no earlier than the trim: it may be the dropped message.
	if _, err := w.add(msg(1), 3000, 1000, 0); !errors.Is(err, errMaybeTrimmed) {
		t.Fatalf("add of a possibly dropped message: %v, want errMaybeTrimmed", err)
	}
	// Given its time after the trim: it cannot have been dropped.
	if _, err := w.add(msg(99), 3000, 1001, 0); err != nil {
		t.Fatalf("add of a new message: %v", err)
	}
}

func TestTrimKeepsTheNewestAndEveryMessageNotPersisted(t *testing.T) {
	w := started(t, 0)
	const n = keepNewest + 20
	for id := int64(1); id <= n; id++ {
		mustAdd(t, w, id, 1000) // times 1000 + id - 1
	}
	// Persist all but message 3 and message 15; persisting the newest must drop nothing new.
	for id := int64(1); id <= n; id++ {
		if id != 3 && id != 15 {
			if err := w.markPersisted(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.markPersisted(4); !errors.Is(err, hotmodel.ErrUnchanged) {
		t.Fatalf("marking a dropped message: %v, want ErrUnchanged", err)
	}
	if err := w.markPersisted(n); !errors.Is(err, hotmodel.ErrUnchanged) {
		t.Fatalf("marking a message twice: %v, want ErrUnchanged", err)
	}
	if len(w.Messages) != keepNewest+2 {
		t.Fatalf("window holds %d messages, want the newest %d and the 2 not persisted", len(w.Messages), keepNewest)
	}
	if w.Messages[0].ID != 3 || w.Messages[1].ID != 15 || w.Messages[2].ID != n-keepNewest+1 {
		t.Fatalf("window starts with %d, %d, %d", w.Messages[0].ID, w.Messages[1].ID, w.Messages[2].ID)
	}
	if want := int64(1000 + n - keepNewest - 1); w.TrimmedUpTo != want {
		t.Fatalf("trimmed up to %d, want %d (the newest dropped)", w.TrimmedUpTo, want)
	}
	// Once persisted, the two old ones go too; TrimmedUpTo does not move back.
	for _, id := range []int64{15, 3} {
		if err := w.markPersisted(id); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.Messages) != keepNewest || w.TrimmedUpTo != int64(1000+n-keepNewest-1) {
		t.Fatalf("after persisting the rest: %d messages, trimmed up to %d", len(w.Messages), w.TrimmedUpTo)
	}
}

func TestDroppedUpTo(t *testing.T) {
	var absent window
	if absent.droppedUpTo() != math.MaxInt64 {
		t.Fatal("a window that does not exist must send every read to PostgreSQL")
	}
	w := window{Started: true, TrimmedUpTo: 42}
	if w.droppedUpTo() != 42 {
		t.Fatal("droppedUpTo is TrimmedUpTo")
	}
}

func TestMergeDedupesOrdersAndKeepsOnlyLaterMessages(t *testing.T) {
	at := func(id, t int64) messageapi.Message {
		m := msg(id)
		m.CreateTime = t
		return m
	}
	hot := []entry{{Message: at(5, 50)}, {Message: at(3, 31)}, {Message: at(6, 60)}}
	persisted := []messageapi.Message{at(1, 10), at(2, 20), at(3, 30), at(4, 40), at(7, 20)}
	got := merge(10, hot, persisted)
	want := []int64{2, 7, 3, 4, 5, 6} // 1 is not after 10; 2 and 7 share a time; 3 at the window's 31
	if len(got) != len(want) {
		t.Fatalf("got %+v, want ids %v", got, want)
	}
	for i, id := range want {
		if got[i].ID != id {
			t.Fatalf("got %+v, want ids %v", got, want)
		}
	}
	if got[2].CreateTime != 31 {
		t.Fatalf("message 3 at %d: the window's copy must win", got[2].CreateTime)
	}
	if empty := merge(60, hot, nil); empty == nil || len(empty) != 0 {
		t.Fatalf("nothing after the last time: %#v, want an empty list", empty)
	}
}

func TestMergeAnswersTheOldestMaxChat(t *testing.T) {
	var persisted []messageapi.Message
	for id := int64(1); id <= maxChat+200; id++ {
		m := msg(id)
		m.CreateTime = 1000 + id
		persisted = append(persisted, m)
	}
	got := merge(1000, nil, persisted)
	if len(got) != maxChat || got[0].ID != 1 || got[maxChat-1].ID != maxChat {
		t.Fatalf("got %d messages, ids %d..%d", len(got), got[0].ID, got[len(got)-1].ID)
	}
	// Polling again with the last time seen answers the rest.
	rest := merge(got[maxChat-1].CreateTime, nil, persisted)
	if len(rest) != 200 || rest[0].ID != maxChat+1 {
		t.Fatalf("second poll: %d messages from id %d", len(rest), rest[0].ID)
	}
}

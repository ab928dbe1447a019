package main

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/messageapi"
)

const (
	// keepNewest is how many of its newest messages a window keeps even once they are persisted:
	// a client polling with the last time it saw asks only for newer ones, and is answered from
	// the window alone.
	keepNewest = 50
	// maxChat caps one chat answer: the oldest maxChat messages after the client's time. A client
	// that polls again with the last create_time it saw gets the rest, each message still once.
	maxChat = 1000
)

// conversation is the unordered pair of users a message is between, the smaller id in A.
type conversation struct{ A, B int64 }

func conversationOf(x, y int64) conversation {
	return conversation{A: min(x, y), B: max(x, y)}
}

func (c conversation) String() string {
	return strconv.FormatInt(c.A, 10) + "-" + strconv.FormatInt(c.B, 10)
}

// window is one conversation's hot model: its newest messages, and every message not yet
// persisted, in the order of their times. Times are given here, each by the compare-and-swap that
// appends the message, so a message becomes visible in the very write that gives it its time,
// after every message with an earlier one: a client polling with the last time it saw misses
// none.
//
// Invariant: a message with a time above TrimmedUpTo is in the window; one at or below it is in
// the window or in PostgreSQL, because only persisted messages are dropped.
type window struct {
	// Started is false for a key that does not exist: a new conversation, or a state store that
	// lost its data. Its messages are then all in PostgreSQL, or in the broker on their way back.
	Started     bool    `json:"started"`
	Last        int64   `json:"last"` // the last time given
	TrimmedUpTo int64   `json:"trimmed_up_to"`
	Messages    []entry `json:"messages"`
}

type entry struct {
	messageapi.Message
	Persisted bool `json:"persisted,omitempty"`
}

var (
	// errNotStarted: the window does not exist. The caller reads the conversation's last
	// persisted time and adds again with it as the seed: the change itself must not do I/O.
	errNotStarted = errors.New("conversation window not started")
	// errMaybeTrimmed: the message is not in the window, which may have dropped it once
	// persisted. The caller looks it up in PostgreSQL.
	errMaybeTrimmed = errors.New("message may have been trimmed from its window")
)

// noSeed is the seed of an add that has not read the conversation's last persisted time.
const noSeed = -1

// add gives m its time and appends it, or returns the time it already has (with
// hotmodel.ErrUnchanged). The time is max(now, Last+1): strictly increasing within the conversation,
// two sends in one millisecond included.
//
// A message missing from the window may still have been placed elsewhere, persisted and dropped
// (a redelivered event; a consumer ahead of the sending request). notBefore is the earliest time
// the message can have been given: a window trimmed up to it or later refuses with
// errMaybeTrimmed rather than give the message a second time. seed starts a window that does not
// exist yet with the conversation's last persisted time, so that new times follow the old ones.
func (w *window) add(m messageapi.Message, now, notBefore, seed int64) (int64, error) {
	if i := w.find(m.ID); i >= 0 {
		return w.Messages[i].CreateTime, hotmodel.ErrUnchanged
	}
	last, trimmed := w.Last, w.TrimmedUpTo
	if !w.Started {
		if seed == noSeed {
			return 0, errNotStarted
		}
		last, trimmed = seed, seed
	}
	if trimmed >= notBefore {
		return 0, errMaybeTrimmed
	}
	m.CreateTime = max(now, last+1)
	w.Started, w.Last, w.TrimmedUpTo = true, m.CreateTime, trimmed
	w.Messages = append(w.Messages, entry{Message: m})
	w.trim()
	return m.CreateTime, nil
}

// markPersisted records that a message is in PostgreSQL, which lets the window drop it once it
// is no longer among the newest.
func (w *window) markPersisted(id int64) error {
	i := w.find(id)
	if i < 0 || w.Messages[i].Persisted {
		return hotmodel.ErrUnchanged
	}
	w.Messages[i].Persisted = true
	w.trim()
	return nil
}

// trim keeps the newest keepNewest messages and every message not yet persisted; it drops the
// other, older ones and raises TrimmedUpTo to the newest it dropped.
func (w *window) trim() {
	older := len(w.Messages) - keepNewest
	kept := w.Messages[:0]
	for i, e := range w.Messages {
		if i < older && e.Persisted {
			w.TrimmedUpTo = max(w.TrimmedUpTo, e.CreateTime)
			continue
		}
		kept = append(kept, e)
	}
	w.Messages = kept
}

// find returns the index of message id in the window, or -1.
func (w *window) find(id int64) int {
	return slices.IndexFunc(w.Messages, func(e entry) bool { return e.ID == id })
}

// droppedUpTo is the end of the times the window may have dropped: a chat asking for messages
// after an earlier time needs PostgreSQL for the range (after, droppedUpTo]. Everything, when the
// window does not exist.
func (w *window) droppedUpTo() int64 {
	if !w.Started {
		return math.MaxInt64
	}
	return w.TrimmedUpTo
}

// merge answers a chat from a window's messages and the persisted ones read for the range it
// dropped: each message once (the window's copy wins: it is what polling clients saw), created
// strictly after after, oldest first, at most maxChat.
func merge(after int64, hot []entry, persisted []messageapi.Message) []messageapi.Message {
	byID := make(map[int64]messageapi.Message, len(hot)+len(persisted))
	for _, m := range persisted {
		byID[m.ID] = m
	}
	for _, e := range hot {
		byID[e.ID] = e.Message
	}
	out := make([]messageapi.Message, 0, len(byID))
	for _, m := range byID {
		if m.CreateTime > after {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b messageapi.Message) int {
		return cmp.Or(cmp.Compare(a.CreateTime, b.CreateTime), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), maxChat)]
}

package main

import (
	"cmp"
	"errors"
	"slices"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/hotmodel"
)

const (
	// maxList caps a comment list: the video's newest maxList comments. The contract has no
	// paging; an answer holding every comment would grow with the video's history.
	maxList = 100
	// keepNewest is how many of its newest entries (comments or deletions) a window keeps once
	// they are persisted: more than maxList, so that a few deletions among the newest comments
	// still leave a list the window answers alone.
	keepNewest = 150
)

// position orders a video's comments: by time, then by id.
type position struct {
	At int64 `json:"at"`
	ID int64 `json:"id"`
}

func positionOf(c commentapi.Comment) position { return position{At: c.CreatedAt, ID: c.ID} }

// above reports whether p is newer than q.
func (p position) above(q position) bool { return cmpPositions(p, q) < 0 }

// window is one video's hot model: the count of its comments, its newest entries, and every
// change not yet persisted. Its size is bounded by keepNewest plus the changes in flight,
// whatever the video's history; older comments are in PostgreSQL.
//
// Invariant: the state (added, deleted) of every comment positioned above Trimmed is in the
// window; a comment at or below it is in the window or in PostgreSQL, because only persisted
// entries are dropped. Every change is applied here before it is saved (the consumer applies it
// before its save), so a comment PostgreSQL has was applied: for a change missing from the
// window at or below Trimmed, PostgreSQL tells whether it was applied (lookup).
type window struct {
	// Since is when the window was started from PostgreSQL (Unix ms × 1000); 0 for a key that
	// does not exist: a video without comments, or a state store that lost its data.
	Since int64 `json:"since"`
	Count int64 `json:"count"` // the video's comments, all of them
	// Seq orders the copies of Count (lww.Counters). It starts at Since, so a window started
	// again orders its counts after those of the one it replaces (which would have to have made
	// more than 1,000 changes per millisecond of its life to be ahead).
	Seq     int64    `json:"seq"`
	Trimmed position `json:"trimmed"` // the newest position dropped; zero: nothing dropped
	// LateDrops counts the entries dropped from at or below Trimmed (a deletion of an old
	// comment, say): a lookup is good only as long as it stays the same.
	LateDrops int64   `json:"late_drops"`
	Entries   []entry `json:"entries"` // newest first
}

type entry struct {
	commentapi.Comment
	Deleted   bool `json:"deleted,omitempty"`
	Persisted bool `json:"persisted,omitempty"` // this state (added or deleted) is in PostgreSQL
}

// seed is what PostgreSQL holds of a video, to start its window.
type seed struct {
	Since  int64   // when it was read (as window.Since)
	Count  int64   // the video's comments
	Newest []entry // its newest keepNewest rows, deleted ones included, newest first
}

// lookup is what PostgreSQL holds of one comment, read for a change missing from the window at
// or below Trimmed. It is good for the window it was read for (Since) until the window drops an
// entry from there (LateDrops): the comment may have been applied, persisted and dropped
// meanwhile.
type lookup struct {
	Since, LateDrops int64
	Found, Deleted   bool
}

var (
	// errNotStarted: the window does not exist. The caller reads the seed and applies again:
	// the change itself must not do I/O.
	errNotStarted = errors.New("comment window not started")
	// errMaybeTrimmed: the comment is not in the window, which may have dropped it once
	// persisted. The caller looks it up in PostgreSQL and applies again.
	errMaybeTrimmed = errors.New("comment may have been trimmed from its window")
)

// newWindow starts a window from a seed.
func newWindow(s seed) window {
	w := window{Since: s.Since, Count: s.Count, Seq: s.Since, Entries: slices.Clone(s.Newest)}
	if len(s.Newest) == keepNewest {
		// More may exist: everything at or below the oldest read is PostgreSQL's.
		w.Trimmed = positionOf(s.Newest[len(s.Newest)-1].Comment)
	}
	return w
}

// start starts a window that does not exist from its seed; one that exists is unchanged.
func (w *window) start(s *seed) (bool, error) {
	switch {
	case w.Since != 0:
		return false, hotmodel.ErrUnchanged
	case s == nil:
		return false, errNotStarted
	}
	*w = newWindow(*s)
	return true, nil
}

// apply records change c once: an addition counts the comment, a deletion uncounts it; a
// change already applied changes nothing (hotmodel.ErrUnchanged). persisted says the change is in
// PostgreSQL (the consumer, after its save), which lets the window drop it once it is no longer
// among the newest. apply asks for a seed (errNotStarted) or a lookup (errMaybeTrimmed) when it
// needs one, and reports whether the count changed (or the window started). On an error other
// than hotmodel.ErrUnchanged it leaves the window as it found it.
func (w *window) apply(c commentapi.Changed, persisted bool, s *seed, l *lookup) (bool, error) {
	if w.Since == 0 {
		if s == nil {
			return false, errNotStarted
		}
		started := newWindow(*s)
		if _, err := started.apply(c, persisted, nil, l); err != nil && !errors.Is(err, hotmodel.ErrUnchanged) {
			return false, err
		}
		*w = started
		return true, nil
	}
	if i := w.find(c.Comment.ID); i >= 0 {
		return w.update(i, c.Deleted, persisted)
	}
	addCounted := false // whether the window counted the comment's addition
	if !positionOf(c.Comment).above(w.Trimmed) {
		if l == nil || l.Since != w.Since || l.LateDrops != w.LateDrops {
			return false, errMaybeTrimmed
		}
		if l.Found && (l.Deleted || !c.Deleted) {
			// PostgreSQL has this change, so the window applied it and has dropped it since.
			return false, hotmodel.ErrUnchanged
		}
		addCounted = l.Found
	}
	// Otherwise the comment was never applied; a deletion that arrives first leaves a tombstone,
	// which the addition then finds.
	switch {
	case !c.Deleted:
		w.Count++
	case addCounted:
		w.Count--
	}
	changed := !c.Deleted || addCounted
	if changed {
		w.Seq++
	}
	w.insert(entry{Comment: tombstoned(c.Comment, c.Deleted), Deleted: c.Deleted, Persisted: persisted})
	w.trim()
	return changed, nil
}

// update applies a change to the comment's entry at i.
func (w *window) update(i int, deleted, persisted bool) (bool, error) {
	e := &w.Entries[i]
	switch {
	case deleted && !e.Deleted:
		e.Comment, e.Deleted, e.Persisted = tombstoned(e.Comment, true), true, persisted
		w.Count--
		w.Seq++
		w.trim()
		return true, nil
	case persisted && !e.Persisted && deleted == e.Deleted:
		e.Persisted = true
		w.trim()
		return false, nil
	}
	// A repeat, or an addition arriving after the deletion (whose save does not persist that).
	return false, hotmodel.ErrUnchanged
}

// tombstoned drops a deleted comment's content; its author and position stay, to answer a
// repeated delete and to keep its place.
func tombstoned(c commentapi.Comment, deleted bool) commentapi.Comment {
	if deleted {
		c.Content = ""
	}
	return c
}

// insert puts e in its place, newest first.
func (w *window) insert(e entry) {
	p := positionOf(e.Comment)
	i, _ := slices.BinarySearchFunc(w.Entries, p, func(x entry, p position) int {
		return cmpPositions(positionOf(x.Comment), p)
	})
	w.Entries = slices.Insert(w.Entries, i, e)
}

// cmpPositions orders positions newest first.
func cmpPositions(a, b position) int {
	return cmp.Or(cmp.Compare(b.At, a.At), cmp.Compare(b.ID, a.ID))
}

// trim keeps the newest keepNewest entries and every entry not yet persisted; it drops the
// others, raising Trimmed past those it drops from above it.
func (w *window) trim() {
	kept := w.Entries[:0]
	for i, e := range w.Entries {
		if i < keepNewest || !e.Persisted {
			kept = append(kept, e)
			continue
		}
		if p := positionOf(e.Comment); p.above(w.Trimmed) {
			w.Trimmed = p
		} else {
			w.LateDrops++
		}
	}
	w.Entries = kept
}

// find returns the index of comment id in the window, or -1.
func (w *window) find(id int64) int {
	return slices.IndexFunc(w.Entries, func(e entry) bool { return e.ID == id })
}

// complete reports whether the window alone holds the video's newest maxList comments: it
// dropped nothing, or it has that many above what it dropped.
func (w *window) complete() bool {
	if w.Trimmed == (position{}) {
		return true
	}
	live := 0
	for _, e := range w.Entries {
		if !e.Deleted && positionOf(e.Comment).above(w.Trimmed) {
			live++
		}
	}
	return live >= maxList
}

// lateTombstones counts the deletions the window holds at or below Trimmed: a list reading the
// persisted comments there may find them not yet deleted, and reads that many more.
func (w *window) lateTombstones() int {
	n := 0
	for _, e := range w.Entries {
		if e.Deleted && !positionOf(e.Comment).above(w.Trimmed) {
			n++
		}
	}
	return n
}

// merge lists the newest maxList comments of a window's entries and of the persisted comments
// read for what it dropped, newest first: each comment once, the window's state winning (its
// deletions may not be persisted yet).
func merge(entries []entry, persisted []commentapi.Comment) []commentapi.Comment {
	byID := make(map[int64]entry, len(entries)+len(persisted))
	for _, c := range persisted {
		byID[c.ID] = entry{Comment: c}
	}
	for _, e := range entries {
		byID[e.ID] = e
	}
	out := make([]commentapi.Comment, 0, len(byID))
	for _, e := range byID {
		if !e.Deleted {
			out = append(out, e.Comment)
		}
	}
	slices.SortFunc(out, func(a, b commentapi.Comment) int { return cmpPositions(positionOf(a), positionOf(b)) })
	return out[:min(len(out), maxList)]
}

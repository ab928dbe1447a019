package main

import (
	"slices"

	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/lww"
)

// Counting likes exactly without a set that grows with them.
//
// Whether a user likes a video is a fact in one small shard (favoriteapi.LikedShardKey); the
// counts live in favoriteapi.Tally buckets, apart. The state store cannot change two keys
// atomically, so a change goes through three compare-and-swaps, each idempotent:
//
//  1. count: in each tally, compare the change with the pair's current fact (the tally's pending
//     one, else the shard's); if the change is newer, add ±1 when the pair's state flips and keep
//     the change as pending;
//  2. record: apply the change to the shard (last writer wins);
//  3. settle: drop the pending change, now that the shard has it or something newer.
//
// A pair's shard changes only while its change is pending in every tally (a change is counted
// before it is recorded, and settled after), so a tally that has nothing pending for a pair
// counts exactly the shard's fact. Running the steps again (the consumer, a restore) counts
// nothing twice; a crash between them leaves a pending change the next run settles. Pending
// holds only changes in flight, so a tally stays the size of its bucket.

// tallyOf names one count a change moves: the video's likes, the liker's likes, the author's
// likes received.
type tallyOf struct {
	bucket string
	id     int64
}

func talliesOf(c favoriteapi.Changed) []tallyOf {
	return []tallyOf{
		{favoriteapi.VideoLikesBucket, c.VideoID},
		{favoriteapi.UserLikedBucket, c.UserID},
		{favoriteapi.UserReceivedBucket, c.AuthorID},
	}
}

// pendingIndex finds the pending change of the pair (user, video) counted in id, or -1.
func pendingIndex(t *favoriteapi.Tally, id, user, video int64) int {
	return slices.IndexFunc(t.Pending, func(p favoriteapi.Pending) bool {
		return p.ID == id && p.User == user && p.Video == video
	})
}

// count is step 1 for one tally: settled is the pair's fact in its shard, read after the tally
// (the caller reads it only when nothing is pending for the pair). It reports whether the tally
// changed.
func count(t *favoriteapi.Tally, id int64, c favoriteapi.Changed, settled func() (lww.Fact, error)) (bool, error) {
	i := pendingIndex(t, id, c.UserID, c.VideoID)
	var current lww.Fact
	if i >= 0 {
		current = t.Pending[i].Fact
	} else {
		var err error
		if current, err = settled(); err != nil {
			return false, err
		}
	}
	fact := c.Fact()
	if !fact.Newer(current) {
		return false, nil
	}
	if fact.In != current.In {
		if t.Entries == nil {
			t.Entries = map[int64]lww.Counter{}
		}
		old := t.Entries[id]
		delta := int64(1)
		if !fact.In {
			delta = -1
		}
		t.Entries[id] = lww.Counter{Value: old.Value + delta, Seq: old.Seq + 1}
	}
	p := favoriteapi.Pending{ID: id, User: c.UserID, Video: c.VideoID, Fact: fact}
	if i >= 0 {
		t.Pending[i] = p
	} else {
		t.Pending = append(t.Pending, p)
	}
	return true, nil
}

// settle is step 3: it drops the pair's pending change once the shard holds fact (or newer),
// unless a newer change is pending. It reports whether the tally changed.
func settle(t *favoriteapi.Tally, id int64, c favoriteapi.Changed) bool {
	i := pendingIndex(t, id, c.UserID, c.VideoID)
	if i < 0 || t.Pending[i].Fact.Newer(c.Fact()) {
		return false
	}
	t.Pending = slices.Delete(t.Pending, i, i+1)
	return true
}

// recentSize bounds a user's window of recent changes (favorite:recent-<id>): the favorite list
// of a user with at most this many changes in the window comes from the window alone.
const recentSize = 100

// remember applies fact for video to a user's window and keeps only the newest recentSize
// changes; it reports whether the window changed. A change older than the whole window is not
// kept: PostgreSQL has it, or will once the consumer persists it.
func remember(recent *lww.Set, video int64, fact lww.Fact) bool {
	if !recent.Apply(video, fact) {
		return false
	}
	for len(recent.Members) > recentSize {
		var oldest int64
		first := true
		for id, f := range recent.Members {
			if first || recent.Members[oldest].Newer(f) {
				oldest, first = id, false
			}
		}
		delete(recent.Members, oldest)
	}
	_, kept := recent.Members[video]
	return kept
}

// remembered reports whether a user's window has fact for video, or has moved past it.
func remembered(recent lww.Set, video int64, fact lww.Fact) bool {
	if known, ok := recent.Members[video]; ok {
		return !fact.Newer(known)
	}
	if len(recent.Members) < recentSize {
		return false
	}
	for _, f := range recent.Members {
		if fact.Newer(f) {
			return false
		}
	}
	return true
}

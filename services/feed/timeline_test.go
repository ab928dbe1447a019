package main

import (
	"testing"

	"github.com/doutok/doutok/services/internal/feedapi"
)

func TestFingerprintNamesOneExactAnswer(t *testing.T) {
	counts := func(likes, followers int64) feedapi.Counts {
		author := feedapi.AuthorCounts{}
		author.TotalFavorited, author.FollowerCount = likes, followers
		return feedapi.Counts{
			Videos:  map[int64]feedapi.VideoCounts{1: {Likes: likes}, 2: {Comments: 3}, 3: {}},
			Authors: map[int64]feedapi.AuthorCounts{7: author},
		}
	}
	a, _ := fingerprint(4, counts(1, 0))
	b, _ := fingerprint(4, counts(1, 0))
	if a != b {
		t.Fatal("equal answers must have equal fingerprints")
	}
	for _, other := range []func() (string, error){
		func() (string, error) { return fingerprint(5, counts(1, 0)) },
		func() (string, error) { return fingerprint(4, counts(2, 0)) },
		func() (string, error) { return fingerprint(4, counts(1, 1)) },
	} {
		if c, _ := other(); c == a {
			t.Fatal("a different version, like count or follower count must change the fingerprint")
		}
	}
}

func TestLocalPageServesOnlyItsVersionAndNeverGoesBack(t *testing.T) {
	var l localPage
	if _, ok := l.get(0); ok {
		t.Fatal("an empty copy served")
	}
	l.set(3, []feedapi.Entry{{}})
	if _, ok := l.get(2); ok {
		t.Fatal("served for another version")
	}
	l.set(2, nil) // a slow request built an older page: ignored
	if e, ok := l.get(3); !ok || len(e) != 1 {
		t.Fatal("an older page replaced a newer one")
	}
}

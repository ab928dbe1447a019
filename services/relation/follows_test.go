package main

import (
	"slices"
	"testing"

	"github.com/doutok/doutok/services/internal/lww"
)

func TestFriendsAreMutualFollowsMostRecentFirst(t *testing.T) {
	following, fans := lww.Set{}, lww.Set{}
	following.Apply(2, lww.Fact{In: true, At: 10, Event: "a"})
	fans.Apply(2, lww.Fact{In: true, At: 50, Event: "b"}) // friends since 50
	following.Apply(3, lww.Fact{In: true, At: 40, Event: "c"})
	fans.Apply(3, lww.Fact{In: true, At: 20, Event: "d"})      // friends since 40
	following.Apply(4, lww.Fact{In: true, At: 60, Event: "e"}) // one way
	following.Apply(5, lww.Fact{In: false, At: 70, Event: "f"})
	fans.Apply(5, lww.Fact{In: true, At: 30, Event: "g"}) // unfollowed back: not a friend
	if got := friends(following, fans); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("friends = %v, want [2 3]", got)
	}
}

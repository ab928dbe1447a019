package lww

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestApplyIsIdempotentAndOrderIndependent(t *testing.T) {
	facts := []struct {
		member int64
		fact   Fact
	}{
		{1, Fact{In: true, At: 10, Event: "a"}},
		{1, Fact{In: false, At: 20, Event: "b"}},
		{1, Fact{In: true, At: 20, Event: "c"}}, // same ms as b, later event id: wins
		{2, Fact{In: true, At: 5, Event: "d"}},
		{3, Fact{In: true, At: 7, Event: "e"}},
		{3, Fact{In: false, At: 8, Event: "f"}},
	}
	for round := 0; round < 200; round++ {
		var s Set
		order := rand.Perm(len(facts))
		for _, i := range order {
			s.Apply(facts[i].member, facts[i].fact)
			// Redelivery: applying again changes nothing.
			if s.Apply(facts[i].member, facts[i].fact) {
				t.Fatal("a repeated fact changed the set")
			}
		}
		if s.Count() != 2 || !s.Has(1) || !s.Has(2) || s.Has(3) {
			t.Fatalf("order %v: count %d, members %v", order, s.Count(), s.Members)
		}
		if got := s.Newest(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Fatalf("newest first: %v", got)
		}
	}
}

func TestCountersKeepTheNewestCopy(t *testing.T) {
	var c Counters
	if !c.Assign(7, 3, 5) || c.Assign(7, 2, 4) || c.Assign(7, 3, 5) || !c.Assign(7, 4, 6) {
		t.Fatal("assign must take only newer copies")
	}
	if c.Entries[7].Value != 4 {
		t.Fatalf("value %d", c.Entries[7].Value)
	}
	if BucketKey("v", 63) != "v-0" || BucketKey("v", 64) != "v-1" || len(BucketKeys("v", []int64{1, 2, 70})) != 2 {
		t.Fatal("bucket keys")
	}
}

func TestLatestKeepsTheWinnerOfEachPairInPairOrder(t *testing.T) {
	type change struct {
		pair [2]int64
		fact Fact
	}
	batch := []change{
		{[2]int64{2, 1}, Fact{In: true, At: 5, Event: "a"}},
		{[2]int64{1, 9}, Fact{In: true, At: 5, Event: "b"}},
		{[2]int64{2, 1}, Fact{In: false, At: 7, Event: "c"}},
		{[2]int64{1, 3}, Fact{In: true, At: 1, Event: "d"}},
		{[2]int64{2, 1}, Fact{In: true, At: 6, Event: "e"}},
	}
	got := Latest(batch, func(c change) [2]int64 { return c.pair }, func(c change) Fact { return c.fact })
	var events []string
	for _, c := range got {
		events = append(events, c.fact.Event)
	}
	if strings.Join(events, ",") != "d,b,c" {
		t.Fatalf("got %v, want the newest change of each pair in pair order: d,b,c", events)
	}
}

package main

import (
	"context"
	"testing"
)

func TestOnlySettledPagesAreKept(t *testing.T) {
	asked := map[int64]int{}
	fetch := func(_ context.Context, before int64) ([]int64, error) {
		asked[before]++
		return []int64{before - 1, before - 2}, nil
	}
	p := newSettledPages(fetch, 2)
	now := int64(10_000_000)
	old, recent := now-settledAfter.Milliseconds(), now-settledAfter.Milliseconds()+1
	for range 3 {
		for _, before := range []int64{old, recent} {
			if ids, err := p.page(context.Background(), before, now); err != nil || len(ids) != 2 || ids[0] != before-1 {
				t.Fatalf("page before %d: %v %v", before, ids, err)
			}
		}
	}
	if asked[old] != 1 || asked[recent] != 3 {
		t.Fatalf("the feed was asked %d times for the settled page (want 1) and %d for the recent one (want 3)", asked[old], asked[recent])
	}
	for before := int64(1); before <= 5; before++ {
		p.page(context.Background(), before, now)
	}
	if len(p.ids) > 2 {
		t.Fatalf("%d pages kept, at most 2", len(p.ids))
	}
}

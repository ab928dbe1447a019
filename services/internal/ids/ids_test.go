package ids

import (
	"slices"
	"testing"
)

func TestDistinctKeepsFirstSeenOrder(t *testing.T) {
	got := Distinct([]int64{3, 1, 3, 2, 1}, func(v int64) int64 { return v })
	if !slices.Equal(got, []int64{3, 1, 2}) {
		t.Fatalf("got %v", got)
	}
	if Distinct([]int64(nil), func(v int64) int64 { return v }) != nil {
		t.Fatal("no items, no ids")
	}
}

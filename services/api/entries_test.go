package main

import (
	"context"
	"slices"
	"testing"

	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/publishapi"
)

// knownSource answers the entries of the ids it knows, in no particular order, and records what
// it was asked.
func knownSource(known func(int64) bool, asked *[][]int64) func(context.Context, []int64) ([]feedapi.Entry, error) {
	return func(_ context.Context, ids []int64) ([]feedapi.Entry, error) {
		*asked = append(*asked, ids)
		var out []feedapi.Entry
		for _, id := range ids {
			if known(id) {
				out = append(out, feedapi.Entry{Video: publishapi.Video{ID: id}})
			}
		}
		slices.Reverse(out)
		return out, nil
	}
}

func idsOf(es []feedapi.Entry) (ids []int64) {
	for _, e := range es {
		ids = append(ids, e.Video.ID)
	}
	return ids
}

func TestVideoEntriesAskOnlyForWhatTheyLackAndStayBounded(t *testing.T) {
	var fromFeed, fromOwners [][]int64
	c := newVideoEntries(knownSource(func(id int64) bool { return id != 404 && id != 9 }, &fromFeed),
		knownSource(func(id int64) bool { return id == 9 }, &fromOwners), 4)

	got, _ := c.get(context.Background(), []int64{3, 404, 1, 2})
	if !slices.Equal(idsOf(got), []int64{3, 1, 2}) {
		t.Fatalf("got %v, want the known ids in the page's order", idsOf(got))
	}
	got, _ = c.get(context.Background(), []int64{2, 1, 5})
	if !slices.Equal(idsOf(got), []int64{2, 1, 5}) || !slices.Equal(fromFeed[1], []int64{5}) {
		t.Fatalf("got %v after asking the feed for %v; only 5 was missing", idsOf(got), fromFeed[1])
	}
	got, _ = c.get(context.Background(), []int64{6, 7, 8})
	if !slices.Equal(idsOf(got), []int64{6, 7, 8}) || len(c.byID) > 4 {
		t.Fatalf("got %v with %d entries kept (at most 4)", idsOf(got), len(c.byID))
	}
	// A video the feed has not indexed yet comes from its owners; only what the feed lacked is asked.
	fromOwners = nil
	got, _ = c.get(context.Background(), []int64{9, 8, 404})
	if !slices.Equal(idsOf(got), []int64{9, 8}) || len(fromOwners) != 1 || !slices.Equal(fromOwners[0], []int64{9, 404}) {
		t.Fatalf("got %v after asking the owners %v; want 9 from the owners, 404 unknown", idsOf(got), fromOwners)
	}
}

package main

import (
	"context"
	"slices"
	"testing"

	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/publishapi"
)

func TestFeedEntriesAskOnlyForWhatTheyLackAndStayBounded(t *testing.T) {
	var asked [][]int64
	fetch := func(_ context.Context, ids []int64) ([]feedapi.Entry, error) {
		asked = append(asked, ids)
		var out []feedapi.Entry
		for _, id := range ids {
			if id != 404 { // unknown to the feed
				out = append(out, feedapi.Entry{Video: publishapi.Video{ID: id}})
			}
		}
		slices.Reverse(out) // the feed answers in no particular order
		return out, nil
	}
	c := newFeedEntries(fetch, 4)
	idsOf := func(es []feedapi.Entry) (ids []int64) {
		for _, e := range es {
			ids = append(ids, e.Video.ID)
		}
		return ids
	}
	got, _ := c.get(context.Background(), []int64{3, 404, 1, 2})
	if !slices.Equal(idsOf(got), []int64{3, 1, 2}) {
		t.Fatalf("got %v, want the known ids in the page's order", idsOf(got))
	}
	got, _ = c.get(context.Background(), []int64{2, 1, 5})
	if !slices.Equal(idsOf(got), []int64{2, 1, 5}) || !slices.Equal(asked[1], []int64{5}) {
		t.Fatalf("got %v after asking %v; only 5 was missing", idsOf(got), asked[1])
	}
	got, _ = c.get(context.Background(), []int64{6, 7, 8})
	if !slices.Equal(idsOf(got), []int64{6, 7, 8}) || len(c.byID) > 4 {
		t.Fatalf("got %v with %d entries kept (at most 4)", idsOf(got), len(c.byID))
	}
}

package main

import (
	"context"
	"encoding/json"

	"github.com/doutok/doutok/services/internal/counters"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/ids"
)

// countersOf names the counters of a page: its videos', its authors' (their work counts come
// with the entries, from the feed's own projection), and the viewer's likes and follows.
func countersOf(entries []feedapi.Entry, viewer int64) counters.Request {
	return counters.Request{
		Viewer:   viewer,
		VideoIDs: ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.ID }),
		UserIDs:  ids.Distinct(entries, func(e feedapi.Entry) int64 { return e.Video.AuthorID }),
	}
}

// counterKeys names the state keys holding the counters of entries.
func counterKeys(entries []feedapi.Entry, viewer int64) []string {
	return counters.Keys(countersOf(entries, viewer))
}

// countsFrom decodes the counters of entries from a bulk read of counterKeys.
func countsFrom(raw map[string]json.RawMessage, entries []feedapi.Entry, viewer int64) (feedapi.Counts, error) {
	c, err := counters.Decode(raw, countersOf(entries, viewer))
	return c.Counts, err
}

// counts reads the counters of entries: one bulk read of the read models their owners publish
// in the state store, or, when the state store is down (known already, or found now), the
// owners' answers.
func (t *timeline) counts(ctx context.Context, entries []feedapi.Entry, viewer int64, stateDown bool) (feedapi.Counts, error) {
	read := t.counters.Read
	if stateDown {
		read = t.counters.FromOwners
	}
	c, err := read(ctx, countersOf(entries, viewer))
	return c.Counts, err
}

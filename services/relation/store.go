package main

import (
	"context"
	"database/sql"
	"embed"

	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/relationapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "relation"

const (
	// upsertFollowsPrefix is completed with one VALUES tuple per change; the WHERE keeps the latest.
	upsertFollowsPrefix = `INSERT INTO follows (follower_id, followee_id, following, changed_at, event_id) VALUES `
	upsertFollowsSuffix = ` ON CONFLICT (follower_id, followee_id) DO UPDATE
		SET following = EXCLUDED.following, changed_at = EXCLUDED.changed_at, event_id = EXCLUDED.event_id
		WHERE (EXCLUDED.changed_at, EXCLUDED.event_id) > (follows.changed_at, follows.event_id)`
	selectFollowCounts   = `SELECT follower_id, count(*) FROM follows WHERE following AND follower_id = ANY($1) GROUP BY follower_id`
	selectFollowerCounts = `SELECT followee_id, count(*) FROM follows WHERE following AND followee_id = ANY($1) GROUP BY followee_id`
	selectViewerFollows  = `SELECT followee_id FROM follows WHERE following AND follower_id = $1 AND followee_id = ANY($2)`
	selectFollowing      = `SELECT followee_id FROM follows WHERE following AND follower_id = $1 ORDER BY changed_at DESC, followee_id DESC`
	selectFollowers      = `SELECT follower_id FROM follows WHERE following AND followee_id = $1 ORDER BY changed_at DESC, follower_id DESC`
	// selectFriends orders friends by when the friendship formed: the later of the two follows.
	selectFriends = `SELECT mine.followee_id FROM follows mine
		JOIN follows theirs ON theirs.follower_id = mine.followee_id AND theirs.followee_id = mine.follower_id
		WHERE mine.follower_id = $1 AND mine.following AND theirs.following
		ORDER BY greatest(mine.changed_at, theirs.changed_at) DESC, mine.followee_id DESC`
	selectAllFollows = `SELECT follower_id, followee_id, following, changed_at, event_id FROM follows`
)

type store struct{ db *sql.DB }

// save persists a batch of changes in one statement, keeping the winning change of each pair.
func (s *store) save(ctx context.Context, batch []relationapi.Changed) error {
	pairs := lww.Latest(batch, func(c relationapi.Changed) [2]int64 { return [2]int64{c.FollowerID, c.FolloweeID} }, relationapi.Changed.Fact)
	return pgdb.InsertRows(ctx, s.db, upsertFollowsPrefix, pairs, upsertFollowsSuffix, func(c relationapi.Changed) []any {
		return []any{c.FollowerID, c.FolloweeID, c.Follow, c.At, c.EventID}
	})
}

// summary answers from persisted follows only: the fallback when the state store is down.
func (s *store) summary(ctx context.Context, req relationapi.SummaryRequest) (map[int64]relationapi.UserFollows, error) {
	follows, err := pgdb.CountsByID(ctx, s.db, selectFollowCounts, req.UserIDs)
	if err != nil {
		return nil, err
	}
	followers, err := pgdb.CountsByID(ctx, s.db, selectFollowerCounts, req.UserIDs)
	if err != nil {
		return nil, err
	}
	followed := map[int64]bool{}
	if req.Viewer > 0 {
		ids, err := pgdb.IDs(ctx, s.db, selectViewerFollows, req.Viewer, req.UserIDs)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			followed[id] = true
		}
	}
	out := make(map[int64]relationapi.UserFollows, len(req.UserIDs))
	for _, id := range req.UserIDs {
		out[id] = relationapi.UserFollows{FollowCount: follows[id], FollowerCount: followers[id], FollowedByViewer: followed[id]}
	}
	return out, nil
}

// listQueries answers each list from persisted follows (the fallback when the state store is down).
var listQueries = map[string]string{
	relationapi.ListFollowing: selectFollowing,
	relationapi.ListFollowers: selectFollowers,
	relationapi.ListFriends:   selectFriends,
}

// eachChange calls fn with the latest persisted change of every pair.
func (s *store) eachChange(ctx context.Context, fn func(relationapi.Changed)) error {
	return pgdb.Each(ctx, s.db, func(rows *sql.Rows) (relationapi.Changed, error) {
		var c relationapi.Changed
		err := rows.Scan(&c.FollowerID, &c.FolloweeID, &c.Follow, &c.At, &c.EventID)
		return c, err
	}, fn, selectAllFollows)
}

package main

import (
	"context"
	"database/sql"
	"embed"
	"maps"
	"slices"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "comment"

const (
	nextCommentID = `SELECT nextval('comment_ids')`
	// saveCommentsPrefix is completed with one VALUES tuple per change. An addition that arrives
	// again changes nothing; a deletion is final whatever order the two arrive in.
	saveCommentsPrefix = `INSERT INTO comments (id, video_id, user_id, content, created_at, deleted) VALUES `
	saveCommentsSuffix = ` ON CONFLICT (id) DO UPDATE SET deleted = comments.deleted OR EXCLUDED.deleted`
	selectComments     = `SELECT id, video_id, user_id, content, created_at FROM comments
		WHERE video_id = $1 AND NOT deleted ORDER BY created_at DESC, id DESC`
	selectComment = `SELECT id, video_id, user_id, content, created_at, deleted FROM comments WHERE id = $1`
	selectCounts  = `SELECT video_id, count(*) FROM comments WHERE NOT deleted AND video_id = ANY($1) GROUP BY video_id`
	selectAll     = `SELECT id, video_id, user_id, content, created_at, deleted FROM comments`
)

type store struct{ db *sql.DB }

func (s *store) nextID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, nextCommentID).Scan(&id)
	return id, err
}

// save persists a batch of changes in one statement, one change per comment (a deletion wins):
// PostgreSQL refuses to update one row twice in one INSERT … ON CONFLICT.
func (s *store) save(ctx context.Context, batch []commentapi.Changed) error {
	byID := make(map[int64]commentapi.Changed, len(batch))
	for _, c := range batch {
		if old, ok := byID[c.Comment.ID]; !ok || (c.Deleted && !old.Deleted) {
			byID[c.Comment.ID] = c
		}
	}
	// In id order: replicas writing overlapping batches take the rows' locks in one order.
	ids := slices.Sorted(maps.Keys(byID))
	changes := make([]commentapi.Changed, len(ids))
	for i, id := range ids {
		changes[i] = byID[id]
	}
	return pgdb.InsertRows(ctx, s.db, saveCommentsPrefix, changes, saveCommentsSuffix, func(c commentapi.Changed) []any {
		return []any{c.Comment.ID, c.Comment.VideoID, c.Comment.UserID, c.Comment.Content, c.Comment.CreatedAt, c.Deleted}
	})
}

func (s *store) list(ctx context.Context, videoID int64) ([]commentapi.Comment, error) {
	return pgdb.All(ctx, s.db, func(rows *sql.Rows) (commentapi.Comment, error) {
		var c commentapi.Comment
		err := rows.Scan(&c.ID, &c.VideoID, &c.UserID, &c.Content, &c.CreatedAt)
		return c, err
	}, selectComments, videoID)
}

// comment returns a persisted comment and whether it is deleted; sql.ErrNoRows when unknown.
func (s *store) comment(ctx context.Context, id int64) (commentapi.Comment, bool, error) {
	var c commentapi.Comment
	var deleted bool
	err := s.db.QueryRowContext(ctx, selectComment, id).Scan(&c.ID, &c.VideoID, &c.UserID, &c.Content, &c.CreatedAt, &deleted)
	return c, deleted, err
}

func (s *store) counts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	found, err := pgdb.CountsByID(ctx, s.db, selectCounts, videoIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(videoIDs))
	for _, id := range videoIDs {
		out[id] = found[id]
	}
	return out, nil
}

// eachChange calls fn with every persisted comment as a change: an addition, or a deletion.
func (s *store) eachChange(ctx context.Context, fn func(commentapi.Changed)) error {
	return pgdb.Each(ctx, s.db, func(rows *sql.Rows) (commentapi.Changed, error) {
		var c commentapi.Changed
		err := rows.Scan(&c.Comment.ID, &c.Comment.VideoID, &c.Comment.UserID, &c.Comment.Content, &c.Comment.CreatedAt, &c.Deleted)
		return c, err
	}, fn, selectAll)
}

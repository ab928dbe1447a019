package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"maps"
	"slices"
	"time"

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
	// selectComments lists a video's comments at or below a position, newest first (one range
	// of comments_video_idx).
	selectComments = `SELECT id, video_id, user_id, content, created_at FROM comments
		WHERE video_id = $1 AND NOT deleted AND (created_at, id) <= ($2, $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`
	selectComment = `SELECT id, video_id, user_id, content, created_at, deleted FROM comments WHERE id = $1`
	selectCount   = `SELECT count(*) FROM comments WHERE video_id = $1 AND NOT deleted`
	selectCounts  = `SELECT video_id, count(*) FROM comments WHERE NOT deleted AND video_id = ANY($1) GROUP BY video_id`
	// selectNewest reads a video's newest rows, deleted ones included (comments_video_all_idx).
	selectNewest = `SELECT id, video_id, user_id, content, created_at, deleted FROM comments
		WHERE video_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`
	selectVideos = `SELECT DISTINCT video_id FROM comments`
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

// list returns a video's persisted comments at or below upTo, newest first, at most limit.
func (s *store) list(ctx context.Context, videoID int64, upTo position, limit int) ([]commentapi.Comment, error) {
	return pgdb.All(ctx, s.db, func(rows *sql.Rows) (commentapi.Comment, error) {
		var c commentapi.Comment
		err := rows.Scan(&c.ID, &c.VideoID, &c.UserID, &c.Content, &c.CreatedAt)
		return c, err
	}, selectComments, videoID, upTo.At, upTo.ID, limit)
}

// seed reads what starts a video's window, in one snapshot: the count and the newest rows agree.
func (s *store) seed(ctx context.Context, videoID int64) (*seed, error) {
	sd := &seed{Since: time.Now().UnixMilli() * 1000}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, selectCount, videoID).Scan(&sd.Count); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, selectNewest, videoID, keepNewest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e := entry{Persisted: true}
		if err := rows.Scan(&e.ID, &e.VideoID, &e.UserID, &e.Content, &e.CreatedAt, &e.Deleted); err != nil {
			return nil, err
		}
		e.Comment = tombstoned(e.Comment, e.Deleted)
		sd.Newest = append(sd.Newest, e)
	}
	return sd, rows.Err()
}

// lookup completes asked with what PostgreSQL holds of a comment.
func (s *store) lookup(ctx context.Context, commentID int64, asked lookup) (*lookup, error) {
	l := asked
	_, deleted, err := s.comment(ctx, commentID)
	l.Deleted = deleted
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &l, nil
	case err != nil:
		return nil, err
	}
	l.Found = true
	return &l, nil
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

// eachVideo calls fn with every video that has persisted comments.
func (s *store) eachVideo(ctx context.Context, fn func(int64)) error {
	return pgdb.Each(ctx, s.db, func(rows *sql.Rows) (int64, error) {
		var id int64
		err := rows.Scan(&id)
		return id, err
	}, fn, selectVideos)
}

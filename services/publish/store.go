package main

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/publishapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "publish"

const (
	// insertVideo takes the later of the database's clock and one past the newest publish time,
	// so publish times are unique and increasing; a concurrent insert that computed the same value
	// loses on the unique constraint and is retried. The time is taken in the statement that
	// commits the video, so a video's time is never more than the statement timeout before its
	// commit: feed pages older than that never change (the gateway keeps them, settledPages).
	insertVideo = `INSERT INTO videos (author_id, title, play_key, cover_key, published_at)
		VALUES ($1, $2, $3, $4, GREATEST((extract(epoch FROM clock_timestamp()) * 1000)::bigint,
			COALESCE((SELECT max(published_at) FROM videos), 0) + 1))
		RETURNING id, published_at`
	selectByAuthor = `SELECT id FROM videos WHERE author_id = $1 ORDER BY published_at DESC`
	selectByIDs    = `SELECT id, author_id, title, play_key, cover_key, published_at
		FROM videos WHERE id = ANY($1)`
	selectWorkCounts    = `SELECT author_id, count(*) FROM videos WHERE author_id = ANY($1) GROUP BY author_id`
	selectAllWorkCounts = `SELECT author_id, count(*) FROM videos GROUP BY author_id`
)

type store struct{ db *sql.DB }

// insert stores v and fills in its id and unique publish time.
func (s *store) insert(ctx context.Context, v *publishapi.Video) error {
	const attempts = 20
	var err error
	for range attempts {
		err = s.db.QueryRowContext(ctx, insertVideo, v.AuthorID, v.Title, v.PlayKey, v.CoverKey).
			Scan(&v.ID, &v.PublishedAt)
		if !pgdb.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("insert video: %w", err)
	}
	return nil
}

func (s *store) byAuthor(ctx context.Context, authorID int64) ([]int64, error) {
	return pgdb.All(ctx, s.db, func(rows *sql.Rows) (id int64, err error) {
		err = rows.Scan(&id)
		return id, err
	}, selectByAuthor, authorID)
}

func (s *store) byIDs(ctx context.Context, ids []int64) ([]publishapi.Video, error) {
	return s.videos(ctx, selectByIDs, ids)
}

// videos runs a query that selects whole videos.
func (s *store) videos(ctx context.Context, query string, args ...any) ([]publishapi.Video, error) {
	videos, err := pgdb.All(ctx, s.db, func(rows *sql.Rows) (publishapi.Video, error) {
		var v publishapi.Video
		err := rows.Scan(&v.ID, &v.AuthorID, &v.Title, &v.PlayKey, &v.CoverKey, &v.PublishedAt)
		return v, err
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select videos: %w", err)
	}
	return videos, nil
}

func (s *store) workCounts(ctx context.Context, authorIDs []int64) (map[int64]int64, error) {
	counts, err := pgdb.CountsByID(ctx, s.db, selectWorkCounts, authorIDs)
	if err != nil {
		return nil, fmt.Errorf("select work counts: %w", err)
	}
	return counts, nil
}

func (s *store) workCount(ctx context.Context, authorID int64) (int64, error) {
	counts, err := s.workCounts(ctx, []int64{authorID})
	return counts[authorID], err
}

// authorWorks is an author's work count.
type authorWorks struct{ author, works int64 }

// eachWorkCount calls fn with the work count of every author.
func (s *store) eachWorkCount(ctx context.Context, fn func(authorWorks)) error {
	return pgdb.Each(ctx, s.db, func(rows *sql.Rows) (authorWorks, error) {
		var a authorWorks
		err := rows.Scan(&a.author, &a.works)
		return a, err
	}, fn, selectAllWorkCounts)
}

package main

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "feed"

const (
	selectAuthorKnown = `SELECT EXISTS (SELECT 1 FROM authors WHERE author_id = $1)`
	insertAuthor      = `INSERT INTO authors (author_id, name, signature, avatar, background_image)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (author_id) DO NOTHING`
	insertTimeline = `INSERT INTO timeline (video_id, author_id, title, play_key, cover_key, published_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (video_id) DO NOTHING`
	// selectPageIDs is answered from timeline_page_idx alone.
	selectPageIDs = `SELECT video_id FROM timeline
		WHERE published_at < $1 ORDER BY published_at DESC LIMIT $2`
	selectEntries = `SELECT t.video_id, t.author_id, t.title, t.play_key, t.cover_key, t.published_at,
		a.name, a.signature, a.avatar, a.background_image
		FROM timeline t JOIN authors a ON a.author_id = t.author_id
		WHERE t.video_id = ANY($1)`
)

type store struct{ db *sql.DB }

func (s *store) authorKnown(ctx context.Context, authorID int64) (bool, error) {
	var known bool
	err := s.db.QueryRowContext(ctx, selectAuthorKnown, authorID).Scan(&known)
	return known, err
}

// add puts v on the timeline once: a repeated add (the index call and the event both deliver
// every video) changes nothing. author is needed only the first time an author appears.
func (s *store) add(ctx context.Context, v publishapi.Video, author *userapi.Profile) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if author != nil {
		if _, err := tx.ExecContext(ctx, insertAuthor, author.ID, author.Name, author.Signature, author.Avatar, author.BackgroundImage); err != nil {
			return fmt.Errorf("insert author: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, insertTimeline, v.ID, v.AuthorID, v.Title, v.PlayKey, v.CoverKey, v.PublishedAt); err != nil {
		return fmt.Errorf("insert timeline: %w", err)
	}
	return tx.Commit()
}

// pageIDs returns the ids of up to limit videos published strictly before before, newest first.
func (s *store) pageIDs(ctx context.Context, before int64, limit int) ([]int64, error) {
	ids, err := pgdb.IDs(ctx, s.db, selectPageIDs, before, limit)
	if err != nil {
		return nil, fmt.Errorf("select page: %w", err)
	}
	return ids, nil
}

// entries returns the entries of the videos ids, in no particular order; unknown ids are absent.
func (s *store) entries(ctx context.Context, ids []int64) ([]feedapi.Entry, error) {
	entries, err := pgdb.All(ctx, s.db, func(rows *sql.Rows) (feedapi.Entry, error) {
		var e feedapi.Entry
		v, a := &e.Video, &e.Author
		err := rows.Scan(&v.ID, &v.AuthorID, &v.Title, &v.PlayKey, &v.CoverKey, &v.PublishedAt,
			&a.Name, &a.Signature, &a.Avatar, &a.BackgroundImage)
		a.ID = v.AuthorID
		return e, err
	}, selectEntries, ids)
	if err != nil {
		return nil, fmt.Errorf("select entries: %w", err)
	}
	return entries, nil
}

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
	incrementWorkCount = `UPDATE authors SET work_count = work_count + 1 WHERE author_id = $1`
	bumpVersion        = `UPDATE timeline_version SET version = version + 1, newest = GREATEST(newest, $1)
		RETURNING version, newest`
	selectVersion = `SELECT version, newest FROM timeline_version`
	selectPage    = `SELECT t.video_id, t.author_id, t.title, t.play_key, t.cover_key, t.published_at,
		a.name, a.signature, a.avatar, a.background_image, a.work_count
		FROM timeline t JOIN authors a ON a.author_id = t.author_id
		WHERE t.published_at < $1 ORDER BY t.published_at DESC LIMIT $2`
)

type store struct{ db *sql.DB }

func (s *store) authorKnown(ctx context.Context, authorID int64) (bool, error) {
	var known bool
	err := s.db.QueryRowContext(ctx, selectAuthorKnown, authorID).Scan(&known)
	return known, err
}

// add puts v on the timeline once: a repeated add (the index call and the event both deliver
// every video) changes nothing. author is needed only the first time an author appears. It
// returns the timeline's version after the add, and whether this add changed it.
func (s *store) add(ctx context.Context, v publishapi.Video, author *userapi.Profile) (version timelineVersion, added bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return version, false, err
	}
	defer tx.Rollback()
	if author != nil {
		if _, err := tx.ExecContext(ctx, insertAuthor, author.ID, author.Name, author.Signature, author.Avatar, author.BackgroundImage); err != nil {
			return version, false, fmt.Errorf("insert author: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, insertTimeline, v.ID, v.AuthorID, v.Title, v.PlayKey, v.CoverKey, v.PublishedAt)
	if err != nil {
		return version, false, fmt.Errorf("insert timeline: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return version, false, nil
	}
	if _, err := tx.ExecContext(ctx, incrementWorkCount, v.AuthorID); err != nil {
		return version, false, err
	}
	if err := tx.QueryRowContext(ctx, bumpVersion, v.PublishedAt).Scan(&version.Version, &version.Newest); err != nil {
		return version, false, err
	}
	version.Set = true
	return version, true, tx.Commit()
}

// version returns the timeline's version and its newest publish time.
func (s *store) version(ctx context.Context) (version, newest int64, err error) {
	err = s.db.QueryRowContext(ctx, selectVersion).Scan(&version, &newest)
	return version, newest, err
}

// page returns up to limit entries published strictly before before, newest first.
func (s *store) page(ctx context.Context, before int64, limit int) ([]feedapi.Entry, error) {
	entries, err := pgdb.All(ctx, s.db, func(rows *sql.Rows) (feedapi.Entry, error) {
		var e feedapi.Entry
		v, a := &e.Video, &e.Author
		err := rows.Scan(&v.ID, &v.AuthorID, &v.Title, &v.PlayKey, &v.CoverKey, &v.PublishedAt,
			&a.Name, &a.Signature, &a.Avatar, &a.BackgroundImage, &e.AuthorWorkCount)
		a.ID = v.AuthorID
		return e, err
	}, selectPage, before, limit)
	if err != nil {
		return nil, fmt.Errorf("select page: %w", err)
	}
	return entries, nil
}

package main

import (
	"context"
	"database/sql"
	"embed"
	"maps"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "favorite"

const (
	// upsertLikesPrefix is completed with one VALUES tuple per change; the WHERE keeps the latest.
	upsertLikesPrefix = `INSERT INTO likes (user_id, video_id, author_id, liked, changed_at, event_id) VALUES `
	upsertLikesSuffix = ` ON CONFLICT (user_id, video_id) DO UPDATE
		SET liked = EXCLUDED.liked, changed_at = EXCLUDED.changed_at, event_id = EXCLUDED.event_id
		WHERE (EXCLUDED.changed_at, EXCLUDED.event_id) > (likes.changed_at, likes.event_id)`
	selectVideoCounts = `SELECT video_id, count(*) FROM likes WHERE liked AND video_id = ANY($1) GROUP BY video_id`
	selectViewerLikes = `SELECT video_id FROM likes WHERE liked AND user_id = $1 AND video_id = ANY($2)`
	selectUserCounts  = `SELECT user_id, count(*) FROM likes WHERE liked AND user_id = ANY($1) GROUP BY user_id`
	selectAuthorTotal = `SELECT author_id, count(*) FROM likes WHERE liked AND author_id = ANY($1) GROUP BY author_id`
	selectLikedVideos = `SELECT video_id, changed_at, event_id FROM likes WHERE liked AND user_id = $1 ORDER BY changed_at DESC, video_id DESC LIMIT $2`
	selectLikesAfter  = `SELECT user_id, video_id, author_id, liked, changed_at, event_id FROM likes WHERE (user_id, video_id) > ($1, $2) ORDER BY user_id, video_id LIMIT $3`
)

type store struct{ db *sql.DB }

// save persists a batch of changes in one statement, keeping the winning change of each
// (user, video) pair: PostgreSQL refuses to update one row twice in one INSERT … ON CONFLICT.
func (s *store) save(ctx context.Context, batch []favoriteapi.Changed) error {
	return pgdb.InsertRows(ctx, s.db, upsertLikesPrefix, lww.Latest(batch, func(c favoriteapi.Changed) [2]int64 { return [2]int64{c.UserID, c.VideoID} }, favoriteapi.Changed.Fact), upsertLikesSuffix, func(c favoriteapi.Changed) []any {
		return []any{c.UserID, c.VideoID, c.AuthorID, c.Liked, c.At, c.EventID}
	})
}

// summary answers from persisted likes only: the fallback when the state store is down.
func (s *store) summary(ctx context.Context, req favoriteapi.SummaryRequest) (favoriteapi.SummaryReply, error) {
	reply := favoriteapi.SummaryReply{Status: envelope.Success, Videos: map[int64]favoriteapi.VideoLikes{}, Users: map[int64]favoriteapi.UserLikes{}}
	videoCounts, err := pgdb.CountsByID(ctx, s.db, selectVideoCounts, req.VideoIDs)
	if err != nil {
		return reply, err
	}
	liked := map[int64]bool{}
	if req.Viewer > 0 {
		ids, err := pgdb.IDs(ctx, s.db, selectViewerLikes, req.Viewer, req.VideoIDs)
		if err != nil {
			return reply, err
		}
		for _, id := range ids {
			liked[id] = true
		}
	}
	for _, id := range req.VideoIDs {
		reply.Videos[id] = favoriteapi.VideoLikes{Count: videoCounts[id], LikedByView: liked[id]}
	}
	userCounts, err := pgdb.CountsByID(ctx, s.db, selectUserCounts, req.UserIDs)
	if err != nil {
		return reply, err
	}
	totals, err := pgdb.CountsByID(ctx, s.db, selectAuthorTotal, req.UserIDs)
	if err != nil {
		return reply, err
	}
	for _, id := range req.UserIDs {
		reply.Users[id] = favoriteapi.UserLikes{FavoriteCount: userCounts[id], TotalFavorited: totals[id]}
	}
	return reply, nil
}

// likedVideos returns the newest favoriteapi.MaxListed videos userID likes, most recently liked
// first: the persisted likes, overlaid with recent (the user's window, which holds the changes
// not yet persisted). It reads enough rows that the window's unlikes cannot shorten the list.
func (s *store) likedVideos(ctx context.Context, userID int64, recent lww.Set) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, selectLikedVideos, userID, favoriteapi.MaxListed+len(recent.Members))
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	defer rows.Close()
	merged := lww.Set{Members: maps.Clone(recent.Members)}
	for rows.Next() {
		var video int64
		fact := lww.Fact{In: true}
		if err := rows.Scan(&video, &fact.At, &fact.Event); err != nil {
			return nil, err
		}
		merged.Apply(video, fact)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	ids := merged.Newest()
	return ids[:min(len(ids), favoriteapi.MaxListed)], nil
}

// restorePage is how many changes eachChange reads per statement.
const restorePage = 5000

// eachChange calls fn with the latest persisted change of every (user, video) pair. It reads a
// page at a time, each page before fn sees it: fn applies the changes to the state store, which
// takes minutes for a big model, longer than a statement may stay open.
func (s *store) eachChange(ctx context.Context, fn func(favoriteapi.Changed)) error {
	var after [2]int64
	for {
		var page []favoriteapi.Changed
		err := pgdb.Each(ctx, s.db, func(rows *sql.Rows) (favoriteapi.Changed, error) {
			var c favoriteapi.Changed
			err := rows.Scan(&c.UserID, &c.VideoID, &c.AuthorID, &c.Liked, &c.At, &c.EventID)
			return c, err
		}, func(c favoriteapi.Changed) { page = append(page, c) }, selectLikesAfter, after[0], after[1], restorePage)
		if err != nil {
			return err
		}
		for _, c := range page {
			fn(c)
		}
		if len(page) < restorePage {
			return nil
		}
		last := page[len(page)-1]
		after = [2]int64{last.UserID, last.VideoID}
	}
}

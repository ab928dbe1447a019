package main

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"slices"

	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "message"

const (
	nextMessageID = `SELECT nextval('message_ids')`
	// insertMessagesPrefix is completed with one VALUES tuple per message. A message that arrives
	// again keeps the time it was first stored with.
	insertMessagesPrefix = `INSERT INTO messages (id, user_a, user_b, from_user_id, to_user_id, content, created_at) VALUES `
	insertMessagesSuffix = ` ON CONFLICT (id) DO NOTHING`
	selectLastTime       = `SELECT COALESCE(max(created_at), 0) FROM messages WHERE user_a = $1 AND user_b = $2`
	selectMessageTime    = `SELECT created_at FROM messages WHERE id = $1`
	selectChat           = `SELECT id, from_user_id, to_user_id, content, created_at FROM messages
		WHERE user_a = $1 AND user_b = $2 AND created_at > $3 AND created_at <= $4
		ORDER BY created_at, id LIMIT $5`
	// selectInbox finds the newest message of each conversation of $1.
	selectInbox = `SELECT DISTINCT ON (user_a, user_b) id, from_user_id, to_user_id, content, created_at
		FROM messages WHERE user_a = $1 OR user_b = $1
		ORDER BY user_a, user_b, created_at DESC, id DESC`
	// selectLatest finds the newest message between $1 and each of the peers $2 with one index
	// lookup per conversation, however long the conversations are.
	selectLatest = `SELECT m.id, m.from_user_id, m.to_user_id, m.content, m.created_at
		FROM unnest($2::bigint[]) AS peers(peer)
		CROSS JOIN LATERAL (
			SELECT id, from_user_id, to_user_id, content, created_at FROM messages
			WHERE user_a = least($1::bigint, peer) AND user_b = greatest($1::bigint, peer)
			ORDER BY created_at DESC, id DESC LIMIT 1
		) m`
)

type store struct{ db *sql.DB }

func (s *store) nextID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, nextMessageID).Scan(&id)
	return id, err
}

// save persists a batch of messages in one statement, in id order: replicas writing overlapping
// batches (redeliveries) take the rows' locks in one order.
func (s *store) save(ctx context.Context, batch []messageapi.Sent) error {
	batch = slices.SortedFunc(slices.Values(batch), func(a, b messageapi.Sent) int { return cmp.Compare(a.Message.ID, b.Message.ID) })
	return pgdb.InsertRows(ctx, s.db, insertMessagesPrefix, batch, insertMessagesSuffix, func(e messageapi.Sent) []any {
		m := e.Message
		c := conversationOf(m.FromUserID, m.ToUserID)
		return []any{m.ID, c.A, c.B, m.FromUserID, m.ToUserID, m.Content, m.CreateTime}
	})
}

// lastTime is the time of the conversation's newest persisted message; 0 when it has none.
func (s *store) lastTime(ctx context.Context, c conversation) (int64, error) {
	var t int64
	err := s.db.QueryRowContext(ctx, selectLastTime, c.A, c.B).Scan(&t)
	return t, err
}

// timeOf returns the time a message was persisted with, and whether it is persisted at all.
func (s *store) timeOf(ctx context.Context, id int64) (int64, bool, error) {
	var t int64
	err := s.db.QueryRowContext(ctx, selectMessageTime, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return t, err == nil, err
}

// chat returns the conversation's persisted messages with after < time <= upTo, oldest first, at
// most maxChat of them.
func (s *store) chat(ctx context.Context, c conversation, after, upTo int64) ([]messageapi.Message, error) {
	return pgdb.All(ctx, s.db, scanMessage, selectChat, c.A, c.B, after, upTo, maxChat)
}

// inbox returns the newest persisted message of each of user's conversations.
func (s *store) inbox(ctx context.Context, user int64) ([]messageapi.Message, error) {
	return pgdb.All(ctx, s.db, scanMessage, selectInbox, user)
}

// latest returns the newest persisted message between viewer and each peer that has one.
func (s *store) latest(ctx context.Context, viewer int64, peers []int64) ([]messageapi.Message, error) {
	return pgdb.All(ctx, s.db, scanMessage, selectLatest, viewer, peers)
}

func scanMessage(rows *sql.Rows) (messageapi.Message, error) {
	var m messageapi.Message
	err := rows.Scan(&m.ID, &m.FromUserID, &m.ToUserID, &m.Content, &m.CreateTime)
	return m, err
}

package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"

	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/userapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the PostgreSQL schema this service owns.
const schema = "accounts"

const (
	insertAccount = `INSERT INTO accounts (username, password_hash) VALUES ($1, $2)
		ON CONFLICT (username) DO NOTHING RETURNING id`
	selectCredentials = `SELECT id, password_hash FROM accounts WHERE username = $1`
	selectProfiles    = `SELECT id, username, signature, avatar, background_image FROM accounts WHERE id = ANY($1)`
)

var errUsernameTaken = errors.New("username taken")

type store struct {
	db         *sql.DB
	remembered profileMemory
}

// profileMemory remembers the profiles read from PostgreSQL. A profile never changes once its
// account exists (the API has no way to edit one), so the memory cannot go stale: it spares the
// database almost every read, and keeps users rendering while the database is down. Past
// maxRememberedProfiles it starts over, which only costs reads.
type profileMemory struct {
	mu    sync.RWMutex
	known map[int64]userapi.Profile
}

// maxRememberedProfiles bounds the memory (about 200 bytes a profile).
const maxRememberedProfiles = 200_000

// recall returns the remembered profiles of ids and the ids it does not know.
func (m *profileMemory) recall(ids []int64) (found []userapi.Profile, missing []int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range ids {
		if p, ok := m.known[id]; ok {
			found = append(found, p)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

func (m *profileMemory) remember(profiles []userapi.Profile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known == nil || len(m.known)+len(profiles) > maxRememberedProfiles {
		m.known = make(map[int64]userapi.Profile, len(profiles))
	}
	for _, p := range profiles {
		m.known[p.ID] = p
	}
}

// createAccount inserts an account; errUsernameTaken when the name exists.
func (s *store) createAccount(ctx context.Context, username, hash string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, insertAccount, username, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errUsernameTaken
	}
	if err != nil {
		return 0, fmt.Errorf("insert account: %w", err)
	}
	return id, nil
}

// credentials returns the id and password hash for username; sql.ErrNoRows when unknown.
func (s *store) credentials(ctx context.Context, username string) (int64, string, error) {
	var id int64
	var hash string
	err := s.db.QueryRowContext(ctx, selectCredentials, username).Scan(&id, &hash)
	return id, hash, err
}

// profiles returns the profiles of ids that exist: from memory, the rest from PostgreSQL.
func (s *store) profiles(ctx context.Context, ids []int64) ([]userapi.Profile, error) {
	found, missing := s.remembered.recall(ids)
	if len(missing) == 0 {
		return found, nil
	}
	read, err := pgdb.All(ctx, s.db, func(rows *sql.Rows) (userapi.Profile, error) {
		var p userapi.Profile
		err := rows.Scan(&p.ID, &p.Name, &p.Signature, &p.Avatar, &p.BackgroundImage)
		return p, err
	}, selectProfiles, missing)
	if err != nil {
		return nil, fmt.Errorf("select profiles: %w", err)
	}
	s.remembered.remember(read)
	return append(found, read...), nil
}

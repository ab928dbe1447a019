package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

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

type store struct{ db *sql.DB }

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

func (s *store) profiles(ctx context.Context, ids []int64) ([]userapi.Profile, error) {
	profiles, err := pgdb.All(ctx, s.db, func(rows *sql.Rows) (userapi.Profile, error) {
		var p userapi.Profile
		err := rows.Scan(&p.ID, &p.Name, &p.Signature, &p.Avatar, &p.BackgroundImage)
		return p, err
	}, selectProfiles, ids)
	if err != nil {
		return nil, fmt.Errorf("select profiles: %w", err)
	}
	return profiles, nil
}

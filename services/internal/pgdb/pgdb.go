// Package pgdb opens a service's PostgreSQL connection pool inside the service's own schema and
// applies its embedded migrations.
package pgdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Time limits of every connection, unless DATABASE_URL sets its own. A connection attempt to a
// server that accepts but never answers gives up after connectTimeout, and the server ends any
// statement running longer than statementTimeout. Requests also carry their own deadlines: the
// pgx driver ends a query whose context ends even when the server is hung (it sets a deadline on
// the socket rather than asking the server to cancel, which a hung server never does).
const (
	connectTimeout   = "3"     // seconds
	statementTimeout = "30000" // milliseconds: the longest legitimate statement is a restore's scan
	idleInTxTimeout  = "60000" // milliseconds: a transaction left open by a hung client
)

// Open connects to databaseURL with the search path set to schema (created if missing), waits up
// to a minute for the server, and migrates the schema up with the files in the migrations/ folder
// of fsys (a service's embedded migrations).
// Each service owns one schema, and its migration history lives inside it.
func Open(ctx context.Context, databaseURL, schema string, fsys fs.FS) (*sql.DB, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	for name, value := range map[string]string{
		"connect_timeout":                     connectTimeout,
		"statement_timeout":                   statementTimeout,
		"idle_in_transaction_session_timeout": idleInTxTimeout,
	} {
		if !q.Has(name) {
			q.Set(name, value)
		}
	}
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := migrate(ctx, db, schema, fsys); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate waits for the server, creates the schema and applies the migrations up.
func migrate(ctx context.Context, db *sql.DB, schema string, fsys fs.FS) error {
	if err := waitReady(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		// Two replicas starting at once may race on CREATE SCHEMA; the loser sees a unique violation.
		if !IsUniqueViolation(err) {
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	migrations, err := fs.Sub(fsys, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	return nil
}

func waitReady(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("database not reachable: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// IsDataError reports whether err is PostgreSQL refusing the data itself: a data exception (class
// 22, such as a NUL in text) or an integrity constraint violation (class 23). Sending the same
// data again can never succeed.
func IsDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

// CountsByID runs a query that selects (id, count) rows and returns them as a map.
func CountsByID(ctx context.Context, db *sql.DB, query string, args ...any) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := Each(ctx, db, func(rows *sql.Rows) (idCount, error) {
		var c idCount
		err := rows.Scan(&c.id, &c.n)
		return c, err
	}, func(c idCount) { out[c.id] = c.n }, query, args...)
	return out, err
}

type idCount struct{ id, n int64 }

// IDs runs a query that selects one id per row.
func IDs(ctx context.Context, db *sql.DB, query string, args ...any) ([]int64, error) {
	return All(ctx, db, func(rows *sql.Rows) (int64, error) {
		var id int64
		err := rows.Scan(&id)
		return id, err
	}, query, args...)
}

// All runs query and returns every row, read by scan; no rows is an empty slice.
func All[T any](ctx context.Context, db *sql.DB, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	out := []T{}
	err := Each(ctx, db, scan, func(v T) { out = append(out, v) }, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Each runs query and calls fn with every row, read by scan, as the rows arrive (a whole table
// never sits in memory).
func Each[T any](ctx context.Context, db *sql.DB, scan func(*sql.Rows) (T, error), fn func(T), query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}

// InsertRows writes a batch in one statement: prefix, then one "($1, $2, …)" tuple per row
// holding the values columns returns for it, then suffix (an ON CONFLICT clause, say). Every row
// must have as many values as the first.
func InsertRows[T any](ctx context.Context, db *sql.DB, prefix string, rows []T, suffix string, columns func(T) []any) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(prefix)
	var args []any
	for i, row := range rows {
		values := columns(row)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range values {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(len(args)))
		}
		b.WriteByte(')')
	}
	b.WriteString(suffix)
	if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert %d rows: %w", len(rows), err)
	}
	return nil
}

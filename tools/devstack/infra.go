package devstack

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Database is the name of the project's database; each service owns one schema inside it.
const Database = "doutok"

// postgresBinDir finds the newest PostgreSQL server binaries installed from the OS packages.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server not found under /usr/lib/postgresql (run `make deps`)")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// postgresOwner is the OS account PostgreSQL runs as: the postgres user when we are root (the
// server refuses to run as root), otherwise ourselves.
type postgresOwner struct {
	cred     *syscall.Credential
	uid, gid int
}

func lookupPostgresOwner() (postgresOwner, error) {
	if os.Geteuid() != 0 {
		return postgresOwner{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return postgresOwner{}, fmt.Errorf("running as root needs the postgres OS user (installed with the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return postgresOwner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid: uid, gid: gid}, nil
}

func (o postgresOwner) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	return cmd
}

// canReach reports whether the owner can enter dir (a checkout under a mode-700 home cannot be
// reached by the postgres user).
func (o postgresOwner) canReach(dir string) bool {
	if o.cred == nil {
		return true
	}
	return o.command("test", "-x", dir).Run() == nil
}

// postgresDataDir is where the cluster lives: inside the data folder when the postgres user can
// reach it, else a folder under /var/tmp named after the data folder, so a later run finds it again.
func postgresDataDir(dataDir string, owner postgresOwner) (string, error) {
	dir := filepath.Join(dataDir, "postgres")
	if owner.canReach(dataDir) {
		return dir, nil
	}
	sum := sha256.Sum256([]byte(dataDir))
	fallback := filepath.Join("/var/tmp", "doutok-postgres-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(fallback, 0o700); err != nil {
		return "", err
	}
	return fallback, os.Chown(fallback, owner.uid, owner.gid)
}

// startPostgres initialises the cluster on first use, then runs the server on loopback only.
func (s *Stack) startPostgres(ctx context.Context) error {
	bin, err := postgresBinDir()
	if err != nil {
		return err
	}
	owner, err := lookupPostgresOwner()
	if err != nil {
		return err
	}
	pgData, err := postgresDataDir(s.cfg.DataDir, owner)
	if err != nil {
		return err
	}
	socketDir := filepath.Join(pgData, "socket")
	if _, err := os.Stat(filepath.Join(pgData, "cluster", "PG_VERSION")); err != nil {
		for _, d := range []string{pgData, socketDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
			if err := os.Chown(d, owner.uid, owner.gid); err != nil {
				return err
			}
		}
		initdb := owner.command(filepath.Join(bin, "initdb"), "-D", filepath.Join(pgData, "cluster"),
			"-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
		if out, err := initdb.CombinedOutput(); err != nil {
			return fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	cmd := owner.command(filepath.Join(bin, "postgres"), "-D", filepath.Join(pgData, "cluster"),
		"-p", strconv.Itoa(s.cfg.PostgresPort), "-c", "listen_addresses=127.0.0.1",
		"-k", socketDir, "-c", "max_connections=300", "-c", "fsync=on")
	// SIGINT is PostgreSQL's fast shutdown: roll back open transactions and stop at once.
	if err := s.start("postgres", cmd, syscall.SIGINT); err != nil {
		return err
	}
	return s.createDatabase(ctx)
}

// createDatabase waits for the server and creates the project database when it is missing.
func (s *Stack) createDatabase(ctx context.Context) error {
	admin, err := sql.Open("pgx", s.cfg.databaseURL("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := waitFor(ctx, 30*time.Second, "postgres", func() error { return admin.PingContext(ctx) }); err != nil {
		return err
	}
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, Database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{Database}.Sanitize()); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// startRedis runs Redis on loopback with an append-only file, so pub/sub streams and cached state
// survive a restart.
func (s *Stack) startRedis(ctx context.Context) error {
	dir := filepath.Join(s.cfg.DataDir, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.cfg.RedisPort), "--bind", "127.0.0.1",
		"--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--daemonize", "no", "--protected-mode", "yes", "--logfile", "")
	if err := s.start("redis", cmd, syscall.SIGTERM); err != nil {
		return err
	}
	return waitFor(ctx, 30*time.Second, "redis", func() error { return dialable(s.cfg.RedisPort) })
}

func dialable(port int) error {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}

// waitFor polls check until it succeeds, returns a fatalError, the timeout passes, or ctx ends.
func waitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		var fatal fatalError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &fatal):
			return fatal.error
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

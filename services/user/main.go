// Command user owns accounts: credentials (bcrypt hashes) and profiles.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "user:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv server.Getenv) error {
	log := logging.New("user")
	defer log.Sync()
	env, err := getenv.Require("APP_PORT", "APP_API_TOKEN", "DATABASE_URL")
	if err != nil {
		return err
	}
	db, err := pgdb.Open(ctx, env["DATABASE_URL"], schema, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	handler := newServer(log, env["APP_API_TOKEN"], &store{db: db})
	return server.Serve(ctx, log, "127.0.0.1:"+env["APP_PORT"], handler, nil)
}

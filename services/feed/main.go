// Command feed serves the timeline: newest-first pages of published videos from its own
// projection, fed by the publish service (a direct index call and the video.published event).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "feed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv server.Getenv) error {
	log := logging.New("feed")
	defer log.Sync()
	env, err := getenv.Require("APP_PORT", "APP_API_TOKEN", "DATABASE_URL", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT")
	if err != nil {
		return err
	}
	db, err := pgdb.Open(ctx, env["DATABASE_URL"], schema, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	sidecar, err := daprc.Connect(ctx, daprc.Config{
		HTTPPort: env["DAPR_HTTP_PORT"], GRPCPort: env["DAPR_GRPC_PORT"], APIToken: getenv("DAPR_API_TOKEN"),
	})
	if err != nil {
		return err
	}
	defer sidecar.Close()
	t := &timeline{
		store:     &store{db: db},
		users:     userapi.NewClient(sidecar),
		favorites: favoriteapi.NewClient(sidecar),
		comments:  commentapi.NewClient(sidecar),
		sdk:       sidecar.SDK(),
	}
	return server.Serve(ctx, log, "127.0.0.1:"+env["APP_PORT"], newServer(log, env["APP_API_TOKEN"], t), nil)
}

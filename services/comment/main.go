// Command comment owns comments. A comment is announced on the broker, applied at once to a hot
// read model in the state store, and persisted to PostgreSQL in batches by the event consumer.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/groupcommit"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "comment:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv server.Getenv) error {
	log := logging.New("comment")
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
	st := &store{db: db}
	s := &comments{
		hot:     lww.Store{SDK: sidecar.SDK(), Name: daprc.StateStore},
		sdk:     sidecar.SDK(),
		store:   st,
		authors: publishapi.NewAuthors(publishapi.NewClient(sidecar)),
	}
	persisted := groupcommit.New(log, st.save)
	go persisted.Run(ctx)
	return server.Serve(ctx, log, "127.0.0.1:"+env["APP_PORT"], newServer(log, env["APP_API_TOKEN"], s, persisted.Commit), nil)
}

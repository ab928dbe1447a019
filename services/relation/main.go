// Command relation owns follows. A follow is announced on the broker, applied at once to a hot
// read model in the state store, and persisted to PostgreSQL in batches by the event consumer
// (services/internal/delayed).
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

func main() { boot.Main("relation", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := delayed.Start(ctx, "relation", getenv, schema, migrations)
	if err != nil {
		return err
	}
	defer svc.Close()
	f := &follows{
		hot:   svc.Hot,
		sdk:   svc.SDK(),
		store: &store{db: svc.DB},
		users: userapi.NewKnown(userapi.NewClient(svc.Sidecar)),
	}
	go svc.KeepRestored(ctx, f.restore)
	return svc.Serve(ctx, newServer(ctx, svc, f))
}

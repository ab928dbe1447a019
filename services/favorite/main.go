// Command favorite owns likes. A like is announced on the broker, applied at once to a hot read
// model in the state store, and persisted to PostgreSQL in batches by the event consumer
// (services/internal/delayed).
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

func main() { boot.Main("favorite", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := delayed.Start(ctx, "favorite", getenv, schema, migrations)
	if err != nil {
		return err
	}
	defer svc.Close()
	l := newLikes(svc.Hot, svc.SDK(), &store{db: svc.DB}, publishapi.NewAuthors(publishapi.NewClient(svc.Sidecar)))
	go svc.KeepRestored(ctx, l.restore)
	return svc.Serve(ctx, newServer(ctx, svc, l))
}

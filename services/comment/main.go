// Command comment owns comments. A comment is announced on the broker, applied at once to a hot
// read model in the state store, and persisted to PostgreSQL in batches by the event consumer
// (services/internal/delayed).
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

func main() { boot.Main("comment", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := delayed.Start(ctx, "comment", getenv, schema, migrations)
	if err != nil {
		return err
	}
	defer svc.Close()
	s := &comments{
		hot:     svc.Hot,
		sdk:     svc.SDK(),
		store:   &store{db: svc.DB},
		authors: publishapi.NewAuthors(publishapi.NewClient(svc.Sidecar)),
	}
	go svc.KeepRestored(ctx, s.restore)
	return svc.Serve(ctx, newServer(ctx, svc, s))
}

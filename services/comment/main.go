// Command comment owns comments. A comment is announced on the broker, applied at once to a hot
// read model in the state store, and persisted to PostgreSQL in batches by the event consumer.
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/groupcommit"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// service names the process; its keys in the shared state store start with it.
const service = "comment"

func main() { boot.Main(service, run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := boot.Start(ctx, service, getenv, boot.Options{Schema: schema, Migrations: migrations, Sidecar: true})
	if err != nil {
		return err
	}
	defer svc.Close()
	st := &store{db: svc.DB}
	s := &comments{
		hot:     lww.Open(ctx, svc.Sidecar.SDK(), daprc.StateStore, service),
		sdk:     svc.Sidecar.SDK(),
		store:   st,
		authors: publishapi.NewAuthors(publishapi.NewClient(svc.Sidecar)),
	}
	persisted := groupcommit.New(svc.Log, st.save)
	go persisted.Run(ctx)
	go lww.KeepRestored(ctx, s.hot, service, svc.Log, s.restore)
	return svc.Serve(ctx, newServer(svc.Log, svc.AppToken(), s, persisted.Commit))
}

// Command user owns accounts: credentials (bcrypt hashes) and profiles.
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/server"
)

func main() { boot.Main("user", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := boot.Start(ctx, "user", getenv, boot.Options{Schema: schema, Migrations: migrations, Sidecar: false})
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.Serve(ctx, newServer(svc.Log, svc.AppToken(), &store{db: svc.DB}))
}

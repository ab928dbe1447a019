// Command feed serves the timeline: newest-first pages of published videos from its own
// projection, fed by the publish service (a direct index call and the video.published event).
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

func main() { boot.Main("feed", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := boot.Start(ctx, "feed", getenv, boot.Options{Schema: schema, Migrations: migrations, Sidecar: true})
	if err != nil {
		return err
	}
	defer svc.Close()
	t := &timeline{store: &store{db: svc.DB}, users: userapi.NewClient(svc.Sidecar)}
	return svc.Serve(ctx, newServer(svc.Log, svc.AppToken(), t))
}

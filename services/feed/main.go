// Command feed serves the timeline: newest-first pages of published videos from its own
// projection, fed by the publish service (a direct index call and the video.published event),
// with the counters other services publish.
package main

import (
	"context"
	"time"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/counters"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/relationapi"
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
	state := lww.Store{SDK: svc.Sidecar.SDK(), Name: daprc.StateStore}
	t := &timeline{
		store: &store{db: svc.DB},
		users: userapi.NewClient(svc.Sidecar),
		counters: &counters.Reader{State: state, Owners: counters.Owners{
			Favorites: favoriteapi.NewClient(svc.Sidecar),
			Comments:  commentapi.NewClient(svc.Sidecar),
			Relations: relationapi.NewClient(svc.Sidecar),
		}},
		state: state,
	}
	go t.keepVersionPublished(logging.WithLogger(ctx, svc.Log), time.Second)
	return svc.Serve(ctx, newServer(svc.Log, svc.AppToken(), t))
}

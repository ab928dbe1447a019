// Command message owns chat messages. A message is announced on the broker, then given its time
// and made visible at once in its conversation's window in the state store, and persisted to
// PostgreSQL in batches by the event consumer (services/internal/delayed).
package main

import (
	"context"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

func main() { boot.Main("message", run) }

func run(ctx context.Context, getenv server.Getenv) error {
	svc, err := delayed.Start(ctx, "message", getenv, schema, migrations)
	if err != nil {
		return err
	}
	defer svc.Close()
	s := &messages{
		hot:   svc.Hot,
		sdk:   svc.SDK(),
		store: &store{db: svc.DB},
		users: userapi.NewKnown(userapi.NewClient(svc.Sidecar)),
	}
	return svc.Serve(ctx, newServer(ctx, svc, s))
}

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
	// Windows and inboxes are read from the store on every change, never from this process's
	// memory of its own last write (lww.Recent): that memory could answer "already there" for a
	// message the store has lost since, and the consumer relies on the answer.
	hot := svc.Hot
	hot.Recent = nil
	s := &messages{
		hot:   hot,
		sdk:   svc.SDK(),
		store: &store{db: svc.DB},
		users: userapi.NewKnown(userapi.NewClient(svc.Sidecar)),
	}
	return svc.Serve(ctx, newServer(ctx, svc, s))
}

// Package delayed is the skeleton every service with delayed writes shares (favorite, comment,
// relation, message).
//
// An action announces its change on the broker, makes it visible in a hot model in the state
// store, and answers: the broker holds the change before anyone can see it, and every later read
// sees it. A consumer of the change's topic then persists it to PostgreSQL: concurrent deliveries
// are gathered into one statement (groupcommit), and each delivery is acknowledged only after its
// statement committed and the hot model was checked, so a crash anywhere only delays the work and
// the broker delivers the change again. Changes are idempotent, so a redelivery changes nothing.
package delayed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/gorilla/mux"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/doutok/doutok/services/internal/boot"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/groupcommit"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
)

// Service is a running service with delayed writes.
type Service struct {
	*boot.Service
	// Name names the service; its keys in the shared state store start with it.
	Name string
	// Hot is the service's hot model in the state store.
	Hot hotmodel.Store
}

// Start boots the service: configuration, its PostgreSQL schema, its sidecar, its hot model.
func Start(ctx context.Context, name string, getenv server.Getenv, schema string, migrations fs.FS) (*Service, error) {
	svc, err := boot.Start(ctx, name, getenv, boot.Options{Schema: schema, Migrations: migrations, Sidecar: true})
	if err != nil {
		return nil, err
	}
	if err := createDeadLetters(ctx, svc.DB); err != nil {
		svc.Close()
		return nil, err
	}
	return &Service{Service: svc, Name: name, Hot: hotmodel.Open(svc.Sidecar.SDK(), daprc.StateStore)}, nil
}

// SDK is the sidecar client for publishing and other building blocks.
func (s *Service) SDK() dapr.Client { return s.Sidecar.SDK() }

// KeepRestored rebuilds the hot model with restore whenever the state store has lost it
// (hotmodel.KeepRestored), until ctx ends. Call it in its own goroutine.
func (s *Service) KeepRestored(ctx context.Context, restore func(context.Context) (int, error)) {
	hotmodel.KeepRestored(ctx, s.Hot, s.Name, s.Log, restore)
}

// Consumer persists the events of one topic.
type Consumer[E any] struct {
	Topic string // the topic consumed; poison events go to Topic.dead
	Route string // the route the sidecar delivers them to
	// Valid reports whether an event can be processed at all; one that cannot is dead-lettered.
	Valid func(E) bool
	// Prepare, if set, runs before the save and may complete the event (the time the hot model
	// gave it, say).
	Prepare func(context.Context, E) (E, error)
	// Save persists a batch of events in one statement; it must be idempotent. A batch that fails
	// on its data (pgdb.IsDataError) is saved again event by event, and an event refused on its
	// own is dead-lettered alone.
	Save func(context.Context, []E) error
	// Finish runs after the save: it makes sure the hot model has the event (finishing the work
	// of a request that died after publishing) or records that the event is persisted.
	Finish func(context.Context, E) error
}

// Handler completes a service's router (its internal methods) with health, the subscription list
// and the consumer's delivery route, behind the guard that admits only the service's own
// sidecar. It starts the consumer's group commit, which runs until ctx ends.
func Handler[E any](ctx context.Context, s *Service, r *mux.Router, c Consumer[E]) http.Handler {
	batches := groupcommit.New(s.Log, c.Save, pgdb.IsDataError)
	go batches.Run(ctx)
	go countDeadLetters(ctx, s.DB)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	r.Handle(server.ReadyPath, server.Readyz(s.DB)).Methods(http.MethodGet)
	r.Handle("/dapr/subscribe", events.ListHandler(events.Subscribe(c.Topic, c.Route),
		events.Subscription{PubSubName: daprc.PubSub, Topic: events.DeadLetters(c.Topic), Route: deadRoute(c.Route)})).Methods(http.MethodGet)
	r.Handle(deadRoute(c.Route), keepDeadLetter(s.DB, c.Topic)).Methods(http.MethodPost)
	r.Handle(ReplayPath, replayDeadLetters(s)).Methods(http.MethodPost)
	r.Handle(c.Route, events.Handler(func(ctx context.Context, e E) error {
		if !c.Valid(e) {
			return events.ErrPoison
		}
		if c.Prepare != nil {
			var err error
			if e, err = c.Prepare(ctx, e); err != nil {
				return err
			}
		}
		if err := batches.Commit(ctx, e); err != nil {
			if errors.Is(err, groupcommit.ErrRefused) {
				return fmt.Errorf("%w: %w", events.ErrPoison, err)
			}
			return err
		}
		return c.Finish(ctx, e)
	})).Methods(http.MethodPost)
	return server.Internal(s.Log, s.AppToken(), r)
}

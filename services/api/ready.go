package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// calledApps are the services the gateway calls.
var calledApps = []string{userapi.AppID, publishapi.AppID, feedapi.AppID, favoriteapi.AppID,
	commentapi.AppID, relationapi.AppID, messageapi.AppID}

// startupGate keeps the gateway out of traffic until every service it calls has answered its
// readiness route once through the sidecars. A sidecar refuses calls to its app until its first
// health probe passed, so without the gate the first requests after a start fail (uploads did,
// for about 5 s). After that the gate stays open: a service that goes down later fails only the
// requests that need it (with 503), while the rest of the API keeps working.
type startupGate struct {
	open atomic.Bool
}

// waitForServices opens the gate once every app is ready, or returns when ctx ends.
func (g *startupGate) waitForServices(ctx context.Context, log *zap.Logger, sidecar *daprc.Client, apps []string) {
	for _, app := range apps {
		for {
			attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := sidecar.Ready(attempt, app)
			cancel()
			if err == nil {
				break
			}
			log.Debug("waiting for a service", zap.String("app", app), zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	g.open.Store(true)
	log.Info("every service is ready: taking traffic")
}

// guard marks every request that arrives before the gate opens (refuse); the endpoints answer
// those with 503/50002 (and Retry-After) in their own reply shape, as any other error. Liveness,
// static images and local media need no service and are answered meanwhile.
func (g *startupGate) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.open.Load() {
			r = refuse(r, errStarting)
		}
		next.ServeHTTP(w, r)
	})
}

// errStarting refuses a request that arrived before every service was ready.
var errStarting = apperr.Newf(apperr.Unavailable, "the service is starting, try again")

// refusalKey marks a request refused before its endpoint ran.
type refusalKey struct{}

// refuse marks r as refused with err: a middleware that must turn a request down leaves the
// answer to the endpoint, which knows its reply shape (refusal).
func refuse(r *http.Request, err error) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), refusalKey{}, err))
}

// refusal returns the error a middleware refused r with, or nil.
func refusal(r *http.Request) error {
	err, _ := r.Context().Value(refusalKey{}).(error)
	return err
}

// readyz is the gateway's readiness: success once the gate is open.
func (g *startupGate) readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.open.Load() {
			envelope.Error(w, r, errStarting)
			return
		}
		envelope.OK(w, envelope.Success)
	})
}

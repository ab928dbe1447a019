package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/server"
)

const routeFavoriteChanged = "/events/favorite-changed"

// newServer lists every route of the favorite service; all are internal (sidecar only).
func newServer(log *zap.Logger, appToken string, l *likes, persist func(context.Context, favoriteapi.Changed) error) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+favoriteapi.MethodApply, server.Method(apply(l))).Methods(http.MethodPost)
	r.Handle("/"+favoriteapi.MethodSummary, server.Method(summary(l))).Methods(http.MethodPost)
	r.Handle("/"+favoriteapi.MethodList, server.Method(list(l))).Methods(http.MethodPost)
	r.Handle("/dapr/subscribe", events.ListHandler(
		events.Subscribe(favoriteapi.TopicFavoriteChanged, routeFavoriteChanged),
	)).Methods(http.MethodGet)
	r.Handle(routeFavoriteChanged, onFavoriteChanged(l, persist)).Methods(http.MethodPost)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	return server.Internal(log, appToken, r)
}

// onFavoriteChanged persists a change, then makes sure the hot read model has it (finishing the
// work of a request that crashed after publishing). Only then is the event acknowledged.
func onFavoriteChanged(l *likes, persist func(context.Context, favoriteapi.Changed) error) http.Handler {
	return events.Handler(func(ctx context.Context, c favoriteapi.Changed) error {
		if c.EventID == "" || c.UserID <= 0 || c.VideoID <= 0 || c.AuthorID <= 0 || c.At <= 0 {
			return events.ErrPoison
		}
		if err := persist(ctx, c); err != nil {
			return err
		}
		return l.ensureVisible(ctx, c)
	})
}

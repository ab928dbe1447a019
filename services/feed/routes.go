package main

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

const routeVideoPublished = "/events/video-published"

// newServer lists every route of the feed service; all are internal (sidecar only).
func newServer(log *zap.Logger, appToken string, t *timeline) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+feedapi.MethodPage, server.Method(t.page)).Methods(http.MethodPost)
	r.Handle("/"+feedapi.MethodEntries, server.Method(t.entries)).Methods(http.MethodPost)
	r.Handle("/"+feedapi.MethodIndex, server.Method(index(t))).Methods(http.MethodPost)
	r.Handle("/"+feedapi.MethodPing, server.Healthz()).Methods(http.MethodPost)
	r.Handle("/dapr/subscribe", events.ListHandler(
		events.Subscribe(publishapi.TopicVideoPublished, routeVideoPublished),
	)).Methods(http.MethodGet)
	r.Handle(routeVideoPublished, onVideoPublished(t)).Methods(http.MethodPost)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	r.Handle(server.ReadyPath, server.Readyz(t.store.db)).Methods(http.MethodGet)
	return server.Internal(log, appToken, r)
}

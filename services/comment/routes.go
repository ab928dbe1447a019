package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/server"
)

const routeCommentChanged = "/events/comment-changed"

// newServer lists every route of the comment service; all are internal (sidecar only).
func newServer(log *zap.Logger, appToken string, s *comments, persist func(context.Context, commentapi.Changed) error) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+commentapi.MethodAdd, server.Method(add(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodDelete, server.Method(remove(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodList, server.Method(list(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodCounts, server.Method(counts(s))).Methods(http.MethodPost)
	r.Handle("/dapr/subscribe", events.ListHandler(
		events.Subscribe(commentapi.TopicCommentChanged, routeCommentChanged),
	)).Methods(http.MethodGet)
	r.Handle(routeCommentChanged, onCommentChanged(s, persist)).Methods(http.MethodPost)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	return server.Internal(log, appToken, r)
}

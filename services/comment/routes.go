package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/server"
)

// newServer lists every route of the comment service; all are internal (sidecar only). The
// consumer makes each change visible in its video's window (unless this process's request did),
// persists it, then records it persisted in the window; only then is the event acknowledged.
func newServer(ctx context.Context, svc *delayed.Service, s *comments) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+commentapi.MethodAdd, server.Method(add(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodDelete, server.Method(remove(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodList, server.Method(list(s))).Methods(http.MethodPost)
	r.Handle("/"+commentapi.MethodCounts, server.Method(counts(s))).Methods(http.MethodPost)
	return delayed.Handler(ctx, svc, r, delayed.Consumer[commentapi.Changed]{
		Topic:   commentapi.TopicCommentChanged,
		Route:   "/events/comment-changed",
		Valid:   commentapi.Changed.Valid,
		Prepare: s.prepare,
		Save:    s.store.save,
		Finish:  s.finish,
	})
}

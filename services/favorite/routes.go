package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/server"
)

// newServer lists every route of the favorite service; all are internal (sidecar only). The
// consumer persists each change, then makes sure the hot read model has it (finishing the work
// of a request that crashed after publishing); only then is the event acknowledged.
func newServer(ctx context.Context, svc *delayed.Service, l *likes) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+favoriteapi.MethodApply, server.Method(apply(l))).Methods(http.MethodPost)
	r.Handle("/"+favoriteapi.MethodSummary, server.Method(summary(l))).Methods(http.MethodPost)
	r.Handle("/"+favoriteapi.MethodList, server.Method(list(l))).Methods(http.MethodPost)
	return delayed.Handler(ctx, svc, r, delayed.Consumer[favoriteapi.Changed]{
		Topic:  favoriteapi.TopicFavoriteChanged,
		Route:  "/events/favorite-changed",
		Valid:  favoriteapi.Changed.Valid,
		Save:   l.store.save,
		Finish: l.ensureVisible,
	})
}

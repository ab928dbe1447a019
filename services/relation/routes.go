package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/server"
)

// newServer lists every route of the relation service; all are internal (sidecar only). The
// consumer persists each change, then makes sure the hot read model has it; only then is the
// event acknowledged.
func newServer(ctx context.Context, svc *delayed.Service, f *follows) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+relationapi.MethodApply, server.Method(apply(f))).Methods(http.MethodPost)
	r.Handle("/"+relationapi.MethodSummary, server.Method(summary(f))).Methods(http.MethodPost)
	r.Handle("/"+relationapi.MethodList, server.Method(list(f))).Methods(http.MethodPost)
	return delayed.Handler(ctx, svc, r, delayed.Consumer[relationapi.Changed]{
		Topic:  relationapi.TopicRelationChanged,
		Route:  "/events/relation-changed",
		Valid:  relationapi.Changed.Valid,
		Save:   f.store.save,
		Finish: f.ensureVisible,
	})
}

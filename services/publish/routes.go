package main

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// newServer lists every route of the publish service; all are internal (sidecar only).
func newServer(log *zap.Logger, appToken string, st *store, up *uploader) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+publishapi.MethodUpload, handleUpload(up)).Methods(http.MethodPost)
	r.Handle("/"+publishapi.MethodByAuthor, server.Method(byAuthor(st))).Methods(http.MethodPost)
	r.Handle("/"+publishapi.MethodWorkCounts, server.Method(workCounts(st))).Methods(http.MethodPost)
	r.Handle("/"+publishapi.MethodByIDs, server.Method(byIDs(st))).Methods(http.MethodPost)
	r.Handle("/dapr/subscribe", events.ListHandler()).Methods(http.MethodGet)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	r.Handle(server.ReadyPath, server.Readyz(st.db)).Methods(http.MethodGet)
	return server.Internal(log, appToken, r)
}

package main

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

// newServer lists every route of the user service. All of them are internal: only the service's
// own sidecar, presenting the app API token, may call them.
func newServer(log *zap.Logger, appToken string, st *store) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+userapi.MethodRegister, server.Method(register(st))).Methods(http.MethodPost)
	r.Handle("/"+userapi.MethodLogin, server.Method(login(st))).Methods(http.MethodPost)
	r.Handle("/"+userapi.MethodProfiles, server.Method(profiles(st))).Methods(http.MethodPost)
	r.Handle(server.HealthPath, server.Healthz()).Methods(http.MethodGet)
	r.Handle(server.ReadyPath, server.Readyz(st.db)).Methods(http.MethodGet)
	return server.Internal(log, appToken, r)
}

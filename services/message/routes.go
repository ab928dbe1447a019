package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/doutok/doutok/services/internal/delayed"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/server"
)

// newServer lists every route of the message service; all are internal (sidecar only). The
// consumer gives each message the time its conversation gave it (placing it there if the sending
// request died first), persists it, then marks it persisted in the window; only then is the event
// acknowledged.
func newServer(ctx context.Context, svc *delayed.Service, s *messages) http.Handler {
	r := mux.NewRouter()
	r.Handle("/"+messageapi.MethodSend, server.Method(send(s))).Methods(http.MethodPost)
	r.Handle("/"+messageapi.MethodChat, server.Method(chat(s))).Methods(http.MethodPost)
	r.Handle("/"+messageapi.MethodLatest, server.Method(latest(s))).Methods(http.MethodPost)
	return delayed.Handler(ctx, svc, r, delayed.Consumer[messageapi.Sent]{
		Topic:   messageapi.TopicMessageSent,
		Route:   "/events/message-sent",
		Valid:   valid,
		Prepare: s.prepare,
		Save:    s.store.save,
		Finish:  s.finish,
	})
}

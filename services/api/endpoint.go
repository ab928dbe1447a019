package main

import (
	"net/http"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/params"
)

// access says whether an endpoint needs a token.
type access int

const (
	public   access = iota // no token read
	optional               // missing token = anonymous; present but bad = 401
	required               // missing or bad token = 401
)

// anonymous is the viewer id of a request without a token.
const anonymous int64 = 0

// action is the body of a mobile endpoint: given the parsed request and the viewer (anonymous
// when there is none), it returns the response payload, which must embed envelope.Status.
type action func(r *http.Request, viewer int64) (any, error)

// endpoint adapts an action to HTTP: parameters from query and form, the token, and the envelope.
func endpoint(tokens *auth.Tokens, need access, act action) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := params.Parse(w, r); err != nil {
			envelope.Error(w, r, err)
			return
		}
		viewer, err := viewerOf(tokens, auth.FromRequest(r), need)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		resp, err := act(r, viewer)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, resp)
	})
}

// viewerOf returns the id of the holder of token (as the request carried it), or anonymous.
func viewerOf(tokens *auth.Tokens, token string, need access) (int64, error) {
	if need == public {
		return anonymous, nil
	}
	if token == "" {
		if need == required {
			return 0, apperr.New(apperr.TokenMissing)
		}
		return anonymous, nil
	}
	return tokens.Verify(token)
}

// notImplemented answers the envelope for a mobile route whose service has not landed yet.
func notImplemented() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		envelope.Error(w, r, apperr.New(apperr.NotImplemented))
	})
}

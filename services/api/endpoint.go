package main

import (
	"context"
	"net/http"
	"time"

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

// shape is an endpoint's reply type. failed returns the reply for an error: the error's status,
// and every other field present with its zero value (lists empty, objects null), because clients
// read the fields without checking status_code first.
type shape interface {
	failed(envelope.Status) any
}

// statusReply is the shape of the actions that answer nothing but the status.
type statusReply struct{}

func (statusReply) failed(s envelope.Status) any { return s }

// endpoint adapts an action to HTTP: parameters from query and form, the token, and the envelope
// in the endpoint's shape, errors included.
func endpoint(tokens *auth.Tokens, need access, act action, reply shape) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		resp, err := serve(tokens, need, act, r, w)
		if err != nil {
			if ctx.Err() != nil && apperr.From(err).Code == apperr.Internal {
				// Whatever failed, it failed because a dependency did not answer in time.
				err = apperr.Wrap(apperr.Unavailable, err)
			}
			envelope.ErrorAs(w, r, err, reply.failed)
			return
		}
		envelope.OK(w, resp)
	})
}

// requestTimeout bounds the work of one mobile request (uploads have their own deadlines): a
// dependency that hangs turns into 503 with Retry-After within it, instead of a request that
// never ends. Set once at start-up from REQUEST_TIMEOUT.
var requestTimeout = DefaultRequestTimeout

// DefaultRequestTimeout leaves a client with a 5 s budget room for the network.
const DefaultRequestTimeout = 4 * time.Second

// serve parses the parameters, finds the viewer and runs the action.
func serve(tokens *auth.Tokens, need access, act action, r *http.Request, w http.ResponseWriter) (any, error) {
	if err := refusal(r); err != nil {
		return nil, err
	}
	if err := params.Parse(w, r); err != nil {
		return nil, err
	}
	viewer, err := viewerOf(tokens, auth.FromRequest(r), need)
	if err != nil {
		return nil, err
	}
	return act(r, viewer)
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

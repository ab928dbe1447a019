// Package server holds what every service's main needs: environment lookup, the guard that lets
// only the service's own sidecar call it, and serving with a graceful shutdown.
package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/metrics"
)

// AppTokenHeader is the header in which daprd presents APP_API_TOKEN to its app.
const AppTokenHeader = "dapr-api-token"

// Getenv looks up configuration; tests pass a map-backed function instead of os.Getenv.
type Getenv func(string) string

// Require returns the value of each named variable, or an error naming every missing one.
func (g Getenv) Require(names ...string) (map[string]string, error) {
	values := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := g(n)
		if v == "" {
			missing = append(missing, n)
		}
		values[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables: %v", missing)
	}
	return values, nil
}

// Or returns the variable's value, or def when it is unset.
func (g Getenv) Or(name, def string) string {
	if v := g(name); v != "" {
		return v
	}
	return def
}

// PositiveInt returns the variable as a positive integer, def when it is unset.
func (g Getenv) PositiveInt(name string, def int64) (int64, error) {
	v, err := strconv.ParseInt(g.Or(name, strconv.FormatInt(def, 10)), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%s must be a positive whole number", name)
	}
	return v, nil
}

// HealthPath is the liveness route; it is open to callers without the app token, because the
// sidecar's health probes do not carry it, and it tells nothing.
const HealthPath = "/healthz"

// RequireAppToken rejects every request that does not carry the app API token daprd was given,
// so only this service's own sidecar can call it. The health route is the one exception.
func RequireAppToken(token string) func(http.Handler) http.Handler {
	want := []byte(token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == HealthPath && r.Method == http.MethodGet {
				next.ServeHTTP(w, r)
				return
			}
			got := []byte(r.Header.Get(AppTokenHeader))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				envelope.Error(w, r, apperr.New(apperr.CallerRejected))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Timeouts bound how long one connection may hold a server, so that a client trickling its
// request (or never reading the answer) cannot keep a connection and a goroutine forever.
type Timeouts struct {
	ReadHeader time.Duration // the request line and headers
	Read       time.Duration // the whole request, body included; a route may extend it (Extend)
	Write      time.Duration // from the end of the headers to the end of the answer; likewise
	Idle       time.Duration // a kept-alive connection between two requests
}

// DefaultTimeouts suit requests and answers of ordinary size; routes that take or send large
// bodies extend their own deadlines.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 2 * time.Minute, Idle: 2 * time.Minute}

// MaxHeaderBytes bounds a request's header block (Go's own default is 1 MiB).
const MaxHeaderBytes = 64 << 10

// Extend gives the current request more time: to be read until now+read, to be answered until
// now+write (a zero duration leaves that deadline alone).
func Extend(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	if read > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(read))
	}
	if write > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(write))
	}
}

// Serve listens on addr and serves handler until ctx is cancelled, then drains for up to 10 s.
func Serve(ctx context.Context, log *zap.Logger, addr string, handler http.Handler, limits Timeouts) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: limits.ReadHeader,
		ReadTimeout:       limits.Read,
		WriteTimeout:      limits.Write,
		IdleTimeout:       limits.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	log.Info("listening", zap.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ReadyPath is the readiness route: the service can do its work. Callers reach it by service
// invocation (the gateway, before it takes traffic), which also proves that the service's sidecar
// has found the app healthy and that its name resolves.
const ReadyPath = "/readyz"

// Readyz answers the success envelope while the service's database answers a ping within a
// second, and Unavailable otherwise.
func Readyz(db *sql.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			envelope.Error(w, r, apperr.Wrap(apperr.Unavailable, fmt.Errorf("database: %w", err)))
			return
		}
		envelope.OK(w, envelope.Success)
	})
}

// Healthz answers the success envelope: the process is up and serving.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		envelope.OK(w, envelope.Success)
	})
}

// Internal wraps a domain service's router: request logging, the app-token guard, per-route
// metrics, and envelope answers for unknown routes and methods.
func Internal(log *zap.Logger, appToken string, r *mux.Router) http.Handler {
	r.Use(metrics.Routes)
	UseEnvelopeFallbacks(r)
	return logging.Middleware(log)(RequireAppToken(appToken)(r))
}

// Ops are the routes of a service's ops listener (OPS_ADDR), apart from its app port: the
// probes of an orchestrator and Prometheus's scrapes reach them there, on the pod's address,
// while the app port stays on loopback for the sidecar alone. None of them tells a secret.
func Ops(service string, ready http.Handler) http.Handler {
	r := mux.NewRouter()
	r.Handle("/metrics", metrics.Handler(service)).Methods(http.MethodGet)
	r.Handle(HealthPath, Healthz()).Methods(http.MethodGet)
	r.Handle(ReadyPath, ready).Methods(http.MethodGet)
	UseEnvelopeFallbacks(r)
	return r
}

// UseEnvelopeFallbacks makes unknown paths and wrong methods answer the JSON envelope.
func UseEnvelopeFallbacks(r *mux.Router) {
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		envelope.Error(w, req, apperr.New(apperr.RouteNotFound))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		envelope.Error(w, req, apperr.New(apperr.MethodNotAllowed))
	})
}

// maxMethodBytes bounds the JSON body of an internal method call.
const maxMethodBytes = 1 << 20

// Method adapts an internal JSON method: it decodes the request body into a Req, calls handle,
// and answers its reply (which embeds envelope.Status) or its error as the envelope.
func Method[Req, Reply any](handle func(context.Context, Req) (Reply, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := envelope.Decode(r, maxMethodBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		reply, err := handle(r.Context(), req)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, reply)
	})
}

// LimitBatch refuses a batch request of more than max ids.
func LimitBatch(n, max int) error {
	if n > max {
		return apperr.Newf(apperr.InvalidParameter, "at most %d ids per request", max)
	}
	return nil
}

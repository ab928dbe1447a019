// Package logging sets up zap and carries a request-scoped logger (with the request id and the
// trace id) and the request's trace context through the context, so every line of one request
// can be found together, across services.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/doutok/doutok/services/internal/apperr"
)

// RequestIDHeader carries the request id from the gateway to every service a request touches.
const RequestIDHeader = "X-Request-Id"

// TraceparentHeader is W3C trace context: the sidecars continue the trace it names on every
// invocation and event, and every log line of a request carries its trace id.
const TraceparentHeader = "traceparent"

// A traceparent of version 00 with a trace id and a parent id that are not all zeros.
var validTraceparent = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

// traceOf returns the trace context of a request: its traceparent when well-formed, else a new
// trace (sampled), and the trace id.
func traceOf(r *http.Request) (traceparent, traceID string) {
	tp := r.Header.Get(TraceparentHeader)
	if m := validTraceparent.FindStringSubmatch(tp); m != nil && strings.Trim(m[1], "0") != "" && strings.Trim(m[2], "0") != "" {
		return tp, m[1]
	}
	var ids [24]byte
	_, _ = rand.Read(ids[:])
	traceID = hex.EncodeToString(ids[:16])
	return "00-" + traceID + "-" + hex.EncodeToString(ids[16:]) + "-01", traceID
}

type traceparentKey struct{}

// Traceparent returns the trace context of ctx's request, or "".
func Traceparent(ctx context.Context) string {
	tp, _ := ctx.Value(traceparentKey{}).(string)
	return tp
}

type ctxKey struct{}

// New returns the service's logger: JSON lines by default, human-readable lines with
// LOG_FORMAT=console. LOG_LEVEL sets the level (default info).
func New(service string) *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.Sampling = nil
	// Errors here are expected outcomes (a poison event, a failed batch) that the message and
	// fields explain; only a panic carries its stack, added where it is recovered.
	cfg.DisableStacktrace = true
	if os.Getenv("LOG_FORMAT") == "console" {
		cfg.Encoding = "console"
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	if lvl, err := zapcore.ParseLevel(os.Getenv("LOG_LEVEL")); err == nil && os.Getenv("LOG_LEVEL") != "" {
		cfg.Level = zap.NewAtomicLevelAt(lvl)
	}
	log, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return log.With(zap.String("service", service))
}

// FromContext returns the request's logger, or a no-op logger outside a request.
func FromContext(ctx context.Context) *zap.Logger {
	if log, ok := ctx.Value(ctxKey{}).(*zap.Logger); ok {
		return log
	}
	return zap.NewNop()
}

// WithLogger stores log in ctx.
func WithLogger(ctx context.Context, log *zap.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, log)
}

// RequestID returns the request id of ctx's request, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type requestIDKey struct{}

// A request id from outside is accepted only if it is short and plain, so it cannot forge log lines.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Middleware gives each request an id (kept from X-Request-Id when it looks sane), a trace context
// (kept from traceparent when well-formed, else a new trace), a logger carrying both ids, and one
// access-log line with path, status and latency. It never logs bodies, query strings or
// headers, which carry passwords and tokens.
func Middleware(base *zap.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID.MatchString(id) {
				id = uuid.NewString()
			}
			traceparent, traceID := traceOf(r)
			log := base.With(zap.String("request_id", id), zap.String("trace_id", traceID))
			ctx := context.WithValue(WithLogger(r.Context(), log), requestIDKey{}, id)
			ctx = context.WithValue(ctx, traceparentKey{}, traceparent)
			w.Header().Set(RequestIDHeader, id)
			rec := Record(w)
			defer func() {
				if p := recover(); p != nil {
					log.Error("panic serving request", zap.Any("panic", p), zap.Stack("stack"))
					if !rec.Wrote() {
						rec.Header().Set("Content-Type", "application/json; charset=utf-8")
						rec.WriteHeader(http.StatusInternalServerError)
						_, _ = fmt.Fprintf(rec, `{"status_code":%d,"status_msg":%q}`,
							apperr.Internal, apperr.Catalogue[apperr.Internal].Message)
					}
				}
				log.Info("request",
					zap.String("method", r.Method),
					zap.String("path", r.URL.Path),
					zap.Int("status", rec.Status()),
					zap.Int64("bytes", rec.Bytes()),
					zap.Duration("latency", time.Since(start)),
				)
			}()
			next.ServeHTTP(rec, r.WithContext(ctx))
		})
	}
}

// StatusRecorder is a ResponseWriter that remembers what was answered: the status, the body's
// size, and whether anything was written yet. The access log and the request metrics read it.
type StatusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

// Record wraps w; until a status is written, the status is 200.
func Record(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w, status: http.StatusOK}
}

// Status is the answer's HTTP status.
func (s *StatusRecorder) Status() int { return s.status }

// Bytes is the size of the body written so far.
func (s *StatusRecorder) Bytes() int64 { return s.bytes }

// Wrote tells whether a status or a body has been written.
func (s *StatusRecorder) Wrote() bool { return s.wrote }

func (s *StatusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status = code
		s.wrote = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, deadlines).
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Package boot starts a service process: signals, logging, configuration, its PostgreSQL schema
// and its sidecar, the same way for every service.
package boot

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/pgdb"
	"github.com/doutok/doutok/services/internal/server"
)

// Main runs run with a context that ends on SIGINT or SIGTERM, and exits non-zero with its error.
func Main(name string, run func(ctx context.Context, getenv server.Getenv) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	servePprof(name, os.Getenv)
	err := run(ctx, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Service is what a domain service runs with.
type Service struct {
	Name    string
	Log     *zap.Logger
	Env     map[string]string // the required variables, by name
	DB      *sql.DB
	Sidecar *daprc.Client // nil unless asked for
	opsAddr string
}

// Required are the variables every domain service needs.
var Required = []string{"APP_PORT", "APP_API_TOKEN", "DATABASE_URL"}

// Options say what a domain service needs besides its database.
type Options struct {
	Schema     string // its PostgreSQL schema
	Migrations fs.FS  // holding migrations/*.sql
	Sidecar    bool   // whether it calls its sidecar (state, pub/sub, bindings, invocation)
}

// Start reads the configuration, opens and migrates the database, and connects to the sidecar.
func Start(ctx context.Context, name string, getenv server.Getenv, opts Options) (*Service, error) {
	log := logging.New(name)
	env, err := getenv.Require(Required...)
	if err != nil {
		return nil, err
	}
	db, err := pgdb.Open(ctx, env["DATABASE_URL"], opts.Schema, opts.Migrations)
	if err != nil {
		return nil, err
	}
	s := &Service{Name: name, Log: log, Env: env, DB: db, opsAddr: getenv("OPS_ADDR")}
	if opts.Sidecar {
		if s.Sidecar, err = Sidecar(ctx, getenv); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Sidecar connects to the process's Dapr sidecar, as DAPR_HTTP_PORT, DAPR_GRPC_PORT and
// DAPR_API_TOKEN describe it.
func Sidecar(ctx context.Context, getenv server.Getenv) (*daprc.Client, error) {
	env, err := getenv.Require("DAPR_HTTP_PORT", "DAPR_GRPC_PORT")
	if err != nil {
		return nil, err
	}
	return daprc.Connect(ctx, daprc.Config{
		HTTPPort: env["DAPR_HTTP_PORT"], GRPCPort: env["DAPR_GRPC_PORT"], APIToken: getenv("DAPR_API_TOKEN"),
	})
}

// AppToken is the token the service's sidecar presents; handlers require it.
func (s *Service) AppToken() string { return s.Env["APP_API_TOKEN"] }

// Serve serves handler on the app port (loopback only: only the sidecar calls it) and the ops
// routes on OPS_ADDR, until ctx ends.
func (s *Service) Serve(ctx context.Context, handler http.Handler) error {
	return ServeWithOps(ctx, s.Log, s.opsAddr, server.Ops(s.Name, server.Readyz(s.DB)), func(ctx context.Context) error {
		return server.Serve(ctx, s.Log, "127.0.0.1:"+s.Env["APP_PORT"], handler, server.DefaultTimeouts)
	})
}

// ServeWithOps runs serve and, when opsAddr is set (OPS_ADDR: 127.0.0.1:<port> on a machine,
// :9091 in a pod), the ops routes beside it; it returns when either stops, stopping the other.
func ServeWithOps(ctx context.Context, log *zap.Logger, opsAddr string, ops http.Handler, serve func(context.Context) error) error {
	if opsAddr == "" {
		return serve(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- server.Serve(ctx, log, opsAddr, ops, server.DefaultTimeouts) }()
	go func() { errc <- serve(ctx) }()
	err := <-errc
	cancel()
	if second := <-errc; err == nil {
		err = second
	}
	return err
}

// Close releases the database and the sidecar connection.
func (s *Service) Close() {
	if s.Sidecar != nil {
		s.Sidecar.Close()
	}
	s.DB.Close()
	_ = s.Log.Sync()
}

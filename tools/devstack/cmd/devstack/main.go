// Command devstack runs the whole system locally (`make run`) and stops it (`make stop`).
//
//	devstack run    start everything, print the URL, stream logs; Ctrl-C stops it all
//	devstack stop   stop a running `devstack run` started from this checkout
//	devstack replay-dead-letters   publish the dead letters the services kept again
//	devstack deps   start only PostgreSQL, Redis (and the component set's servers), print the
//	                environment a stock `dapr run -f .` needs (dapr.yaml); Ctrl-C stops them
//
// Settings come from the environment; see the README's configuration table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/doutok/doutok/tools/devstack"
)

func main() {
	commands := map[string]func() error{"run": run, "stop": stop, "replay-dead-letters": replayDeadLetters, "deps": deps}
	var command func() error
	if len(os.Args) == 2 {
		command = commands[os.Args[1]]
	}
	if command == nil {
		fmt.Fprintln(os.Stderr, "usage: devstack run|stop|replay-dead-letters|deps")
		os.Exit(2)
	}
	if err := command(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func config() (devstack.Config, error) {
	root, err := os.Getwd()
	if err != nil {
		return devstack.Config{}, err
	}
	port := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	dataDir := envOr("DOUTOK_DATA_DIR", filepath.Join(root, ".data", "run"))
	return devstack.Config{
		Root:         root,
		DataDir:      dataDir,
		BinDir:       envOr("DOUTOK_BIN_DIR", filepath.Join(root, ".cache", "bin")),
		Daprd:        os.Getenv("DAPRD"),
		PublicPort:   port("DOUTOK_PORT", devstack.DefaultPublicPort),
		PortBase:     port("DOUTOK_PORT_BASE", devstack.DefaultPortBase),
		PostgresPort: port("DOUTOK_PG_PORT", 15432),
		RedisPort:    port("DOUTOK_REDIS_PORT", 16379),
		Infra:        os.Getenv("DOUTOK_INFRA"),
		KafkaPort:    port("DOUTOK_KAFKA_PORT", 19092),
		S3Port:       port("DOUTOK_S3_PORT", 19900),
		// make jaeger's collector, say: http://127.0.0.1:9411/api/v2/spans
		TraceZipkinURL: os.Getenv("DOUTOK_TRACE_ZIPKIN_URL"),
		Logs:           os.Stdout,
		Env:            map[string]string{"LOG_FORMAT": envOr("LOG_FORMAT", "console")},
	}, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func pidFile(cfg devstack.Config) string { return filepath.Join(cfg.DataDir, "devstack.pid") }

func run() error {
	cfg, err := config()
	if err != nil {
		return err
	}
	if cfg.Daprd == "" {
		return errors.New("DAPRD is not set: start through `make run`, which builds the pinned daprd")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile(cfg), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile(cfg))

	started := time.Now()
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if os.Getenv("DOUTOK_DEMO") != "0" {
		if err := stack.SeedDemo(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "  demo content not added:", err)
		}
	}
	fmt.Printf("\n  DouTok is up in %s: %s  (data in %s; Ctrl-C or `make stop` to stop)\n\n",
		time.Since(started).Round(100*time.Millisecond), stack.PublicURL(), cfg.DataDir)
	select {
	case <-ctx.Done():
		fmt.Println("\n  stopping…")
	case err = <-stack.Exited():
		fmt.Fprintln(os.Stderr, "\n  devstack:", err, "- stopping everything")
	}
	stack.Stop()
	return err
}

// deps starts what the apps depend on and prints the environment of a `dapr run -f .`, which
// starts the apps and their sidecars from dapr.yaml.
func deps() error {
	cfg, err := config()
	if err != nil {
		return err
	}
	cfg.DependenciesOnly = true
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	// The tokens are secrets: written to a file only its owner reads, never printed.
	env := stack.SidecarEnv()
	var lines strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&lines, "%s=%s\n", k, env[k])
	}
	envFile := filepath.Join(cfg.DataDir, "dapr-run.env")
	if err := os.WriteFile(envFile, []byte(lines.String()), 0o600); err != nil {
		stack.Stop()
		return err
	}
	fmt.Printf("\n  PostgreSQL and Redis are up. In another shell, at the repository's root:\n\n"+
		"  set -a; . %s; set +a\n  dapr run -f .\n\n"+
		"  or, with tye (its sidecars read the resources joined in %s):\n\n"+
		"  set -a; . %s; set +a\n  export DAPR_RUNTIME_PATH=$PWD/.cache/dapr-runtime\n  cd tye && tye run\n\n"+
		"  (Ctrl-C here stops PostgreSQL and Redis.)\n", envFile, stack.TyeResourcesDir(), envFile)
	select {
	case <-ctx.Done():
	case err = <-stack.Exited():
	}
	stack.Stop()
	return err
}

// stop signals the running devstack, which stops its children, and waits until it is gone.
func stop() error {
	cfg, err := config()
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(pidFile(cfg))
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Println("nothing running")
		return nil
	}
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("bad pid file %s", pidFile(cfg))
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		os.Remove(pidFile(cfg))
		fmt.Println("nothing running")
		return nil
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			fmt.Println("stopped")
			return nil
		}
	}
	return fmt.Errorf("devstack (pid %d) still running after 60 s", pid)
}

// replayDeadLetters publishes again what the running stack's services kept as dead letters.
func replayDeadLetters() error {
	cfg, err := config()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	replayed, err := devstack.ReplayDeadLetters(ctx, cfg)
	for name, n := range replayed {
		fmt.Printf("%s: %d dead letters published again\n", name, n)
	}
	return err
}

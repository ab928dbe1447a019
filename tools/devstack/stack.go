// Package devstack runs the whole system on one machine without Docker: a project-local
// PostgreSQL and Redis, then every service with its own daprd sidecar, all on loopback. `make run`
// uses it through cmd/devstack; the end-to-end tests start their own stack with it on other
// ports and another data folder.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Service describes one app of the stack.
type Service struct {
	Name string
	// Public services listen on the public port, which is also their sidecar's app port (the
	// path of a Dapr ingress); the others listen on loopback and take calls only from their
	// sidecar.
	Public bool
	// DeadLetters: the service keeps the dead letters of its topic and replays them on request
	// (services/internal/delayed).
	DeadLetters bool
}

// Services are the apps of the system, in start order.
var Services = []Service{
	{Name: "user"},
	{Name: "publish"},
	{Name: "feed"},
	{Name: "favorite", DeadLetters: true},
	{Name: "comment", DeadLetters: true},
	{Name: "relation", DeadLetters: true},
	{Name: "message", DeadLetters: true},
	{Name: "api", Public: true},
}

// The ports of `make run` (cmd/devstack), unless DOUTOK_PORT and DOUTOK_PORT_BASE move them;
// dapr.yaml names the same.
const (
	DefaultPublicPort = 8080
	DefaultPortBase   = 18000
)

// Config places a stack.
type Config struct {
	Root         string // repository root: components/ and dapr/ are read from here
	DataDir      string // PostgreSQL, Redis, media, secrets, name resolution; kept between runs
	BinDir       string // built service binaries, one per service name
	Daprd        string // the pinned daprd binary
	PublicPort   int    // the gateway's port
	PortBase     int    // first of the internal ports: 10 per service
	PostgresPort int
	RedisPort    int
	// Infra names the component set: InfraLocal ("" too) or InfraKafkaS3, whose broker and S3
	// server the stack runs on KafkaPort and S3Port (infraset.go).
	Infra     string
	KafkaPort int
	S3Port    int
	Logs      io.Writer // every child's output, line by line behind [name]
	Env       map[string]string
	// SecondInstances names services that run twice, the second instance (processes
	// "<name>-2" and "<name>-2-dapr") with the same app id on ports after the last service's:
	// replicas as Kubernetes would run them, for tests.
	SecondInstances []string
	// TraceZipkinURL is where the sidecars send their spans (a Zipkin v2 endpoint, which Jaeger
	// also offers); empty sends them nowhere.
	TraceZipkinURL string
	// DependenciesOnly starts only what the apps depend on (PostgreSQL, Redis, the component
	// set's servers) and prepares the Dapr resources, for a stock `dapr run -f .` to start the
	// apps and sidecars (dapr.yaml); SidecarEnv says what that run's environment needs.
	DependenciesOnly bool
}

// Ports of one service, derived from PortBase and its position in Services.
type Ports struct {
	App, DaprHTTP, DaprGRPC, DaprInternal, Metrics int
	Ops                                            int // the app's ops listener: /metrics, /healthz, /readyz (OPS_ADDR)
}

// instance is one running copy of a service: its port slot and its process name.
type instance struct {
	Service
	slot int
	name string
}

// instances lists every copy of every service the stack runs, in start order.
func (c Config) instances() []instance {
	var out []instance
	for i, svc := range Services {
		out = append(out, instance{Service: svc, slot: i, name: svc.Name})
	}
	for k, name := range c.SecondInstances {
		for _, svc := range Services {
			if svc.Name == name {
				out = append(out, instance{Service: svc, slot: len(Services) + k, name: name + "-2"})
			}
		}
	}
	return out
}

// InstancePorts returns the ports of every running copy of the named service.
func (c Config) InstancePorts(service string) []Ports {
	var out []Ports
	for _, in := range c.instances() {
		if in.Service.Name == service {
			out = append(out, c.PortsOf(in.slot))
		}
	}
	return out
}

// PortsOf returns the ports of the i-th service.
func (c Config) PortsOf(i int) Ports {
	base := c.PortBase + 10*i
	return Ports{App: base, DaprHTTP: base + 1, DaprGRPC: base + 2, DaprInternal: base + 3, Metrics: base + 4, Ops: base + 5}
}

// Stack is a running system.
type Stack struct {
	cfg      Config
	logs     *logMux
	appToken string
	apiToken string
	// daprEnv is what the components' envRef entries read, given to every sidecar.
	daprEnv map[string]string
	// The S3 server's root credentials (kafka-s3 set), new at every start.
	s3Access, s3Secret string

	mu    sync.Mutex
	procs []*proc
	byKey map[string]*proc
}

// Start brings the stack up and returns once every part is healthy. On failure it stops whatever
// it started.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	s := &Stack{
		cfg:      cfg,
		logs:     &logMux{out: cfg.Logs},
		appToken: randomHex(24),
		apiToken: randomHex(24),
		byKey:    map[string]*proc{},
		s3Access: "doutok-dev-" + randomHex(6),
		s3Secret: randomHex(24),
	}
	if err := s.checkInfraSet(); err != nil {
		return nil, err
	}
	if err := s.checkPortsFree(); err != nil {
		return nil, err
	}
	if err := s.writeAPIToken(); err != nil {
		return nil, err
	}
	if err := s.bringUp(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) bringUp(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(s.cfg.DataDir, 0o755); err != nil {
		return err
	}
	if err := s.startPostgres(ctx); err != nil {
		return err
	}
	if err := s.startRedis(ctx); err != nil {
		return err
	}
	if err := s.startInfraSet(ctx); err != nil {
		return err
	}
	daprEnv, err := s.prepareDaprResources()
	if err != nil {
		return err
	}
	s.daprEnv = daprEnv
	if s.cfg.DependenciesOnly {
		return s.joinResourcesForTye()
	}
	for _, in := range s.cfg.instances() {
		if err := s.startService(in); err != nil {
			return err
		}
	}
	return s.waitHealthy(ctx, 90*time.Second)
}

// checkPortsFree fails fast, naming the port, instead of hanging on a half-started stack.
func (s *Stack) checkPortsFree() error {
	ports := map[int]string{
		s.cfg.PublicPort:   "public API",
		s.cfg.PostgresPort: "PostgreSQL",
		s.cfg.RedisPort:    "Redis",
	}
	for port, what := range s.infraSetPorts() {
		ports[port] = what
	}
	for _, in := range s.cfg.instances() {
		p := s.cfg.PortsOf(in.slot)
		for port, what := range map[int]string{p.App: "app", p.DaprHTTP: "dapr http", p.DaprGRPC: "dapr grpc", p.DaprInternal: "dapr internal", p.Metrics: "dapr metrics", p.Ops: "ops"} {
			ports[port] = in.name + " " + what
		}
	}
	for port, what := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return fmt.Errorf("port %d (%s) is already in use: stop what holds it (`make stop` if it is an earlier run) or choose other ports", port, what)
		}
		ln.Close()
	}
	return nil
}

func (s *Stack) start(name string, cmd *exec.Cmd, stopWith syscall.Signal) error {
	p, err := startProc(s.logs, name, cmd, stopWith)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.byKey[name] = p
	s.mu.Unlock()
	return nil
}

// localRateLimits is the local profile of the gateway's rate limits (README, "Limits"): test
// suites register, log in and write from 127.0.0.1 by the hundreds, in bursts. Failed logins per
// username keep their production budget. The environment (LOGIN_PER_IP=off make run) and
// Config.Env override these.
var localRateLimits = map[string]string{
	"LOGIN_PER_IP":    "1000,10ms",
	"REGISTER_PER_IP": "1000,10ms",
	"WRITES_PER_USER": "1000,10ms",
}

// serviceEnv is the environment of service i.
func (s *Stack) serviceEnv(i int, svc Service) map[string]string {
	p := s.cfg.PortsOf(i)
	env := map[string]string{
		"APP_PORT":        strconv.Itoa(p.App),
		"DAPR_HTTP_PORT":  strconv.Itoa(p.DaprHTTP),
		"DAPR_GRPC_PORT":  strconv.Itoa(p.DaprGRPC),
		"APP_API_TOKEN":   s.appToken,
		"DAPR_API_TOKEN":  s.apiToken,
		"DATABASE_URL":    s.cfg.DatabaseURL(),
		"PUBLIC_BASE_URL": s.PublicURL(),
		"OPS_ADDR":        "127.0.0.1:" + strconv.Itoa(p.Ops),
	}
	if svc.Public {
		env["PUBLIC_ADDR"] = "127.0.0.1:" + strconv.Itoa(s.cfg.PublicPort)
		// play_url and cover_url point at MediaBaseURL. On the local set that is the gateway's
		// /media/ route, serving the media binding's folder; on the kafka-s3 set the bucket.
		env["PUBLIC_MEDIA_BASE_URL"] = s.MediaBaseURL()
		if s.cfg.ComponentSet() == InfraLocal {
			env["MEDIA_DIR"] = s.MediaDir()
		}
		// The web client, as `make web` builds it (the gateway says so at / when it is not).
		env["WEB_DIR"] = filepath.Join(s.cfg.Root, "web", "dist")
		for k, v := range localRateLimits {
			if os.Getenv(k) == "" {
				env[k] = v
			}
		}
	}
	for k, v := range s.cfg.Env {
		env[k] = v
	}
	return env
}

// startService starts a service's sidecar and the service itself. Neither waits for the other:
// daprd reports healthy only once the app's port is open.
func (s *Stack) startService(in instance) error {
	if err := s.startSidecar(in); err != nil {
		return err
	}
	return s.startApp(in)
}

func (s *Stack) startApp(in instance) error {
	cmd := exec.Command(filepath.Join(s.cfg.BinDir, in.Name))
	cmd.Dir = s.cfg.Root
	cmd.Env = envWith(s.serviceEnv(in.slot, in.Service))
	return s.start(in.name, cmd, syscall.SIGTERM)
}

func (s *Stack) startSidecar(in instance) error {
	cmd := exec.Command(s.cfg.Daprd, s.sidecarArgs(in)...)
	cmd.Dir = s.cfg.DataDir
	// DAPR_HOST_IP: the name resolver records this address; loopback keeps invocation on the
	// machine.
	cmd.Env = envWith(s.SidecarEnv())
	return s.start(in.name+"-dapr", cmd, syscall.SIGTERM)
}

// SidecarEnv is the environment every sidecar gets (and the apps' tokens): what the components
// read with envRef, the name resolver's file and address, and the two API tokens.
func (s *Stack) SidecarEnv() map[string]string {
	env := maps.Clone(s.daprEnv)
	env["APP_API_TOKEN"], env["DAPR_API_TOKEN"], env["DAPR_HOST_IP"] = s.appToken, s.apiToken, "127.0.0.1"
	return env
}

// sidecarArgs are the daprd flags of an instance's sidecar. dapr.yaml, the run file of a stock
// Dapr CLI, says the same for `make run`'s ports (TestRunFileMatchesTheOrchestrator).
func (s *Stack) sidecarArgs(in instance) []string {
	svc := in.Service
	p := s.cfg.PortsOf(in.slot)
	args := []string{
		"--app-id", svc.Name,
		"--mode", "standalone",
		"--dapr-http-port", strconv.Itoa(p.DaprHTTP),
		"--dapr-grpc-port", strconv.Itoa(p.DaprGRPC),
		"--dapr-internal-grpc-port", strconv.Itoa(p.DaprInternal),
		"--metrics-port", strconv.Itoa(p.Metrics),
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1",
		"--resources-path", s.resourcePaths()[0],
		"--resources-path", s.resourcePaths()[1],
		"--config", s.configPath(),
		// Room for a 64 MiB upload in one request (the invocation, the media binding).
		"--max-body-size", "128Mi",
		"--log-level", s.daprdLogLevel(),
	}
	if svc.Public {
		// The gateway's sidecar forwards invocations of "api" to the public port, as a Dapr
		// ingress does on a cluster: /v1.0/invoke/api/method/douyin/... on this sidecar is the
		// whole mobile API. No health check: the gateway takes no events.
		args = append(args, "--app-port", strconv.Itoa(s.cfg.PublicPort), "--app-protocol", "http")
	} else {
		// With health checks, a sidecar whose app is down stops taking events off the broker
		// instead of burning their retries; they wait in the stream until the app is back.
		args = append(args, "--app-port", strconv.Itoa(p.App), "--app-protocol", "http",
			"--enable-app-health-check", "--app-health-check-path", "/healthz",
			"--app-health-probe-interval", "2", "--app-health-threshold", "3",
			// A busy 2-core machine (bcrypt, ffmpeg) can delay a health answer past the default
			// 500 ms without the app being down.
			"--app-health-probe-timeout", "1500")
	}
	return args
}

// waitHealthy waits until every sidecar answers its health check and the gateway is ready (it
// takes traffic only once every service it calls is), and fails at once if a process exits
// meanwhile.
func (s *Stack) waitHealthy(ctx context.Context, timeout time.Duration) error {
	healthy := func(url string) error {
		if err := s.firstExit(); err != nil {
			return fatalError{err}
		}
		return answersOK(url)
	}
	var checks []string
	for _, in := range s.cfg.instances() {
		checks = append(checks, fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", s.cfg.PortsOf(in.slot).DaprHTTP))
		if in.Public {
			checks = append(checks, s.PublicURL()+"/readyz")
		}
	}
	deadline := time.Now().Add(timeout)
	for _, url := range checks {
		if err := waitFor(ctx, time.Until(deadline), url, func() error { return healthy(url) }); err != nil {
			if strings.HasSuffix(url, "/readyz") {
				return fmt.Errorf("%w; %s", err, s.unreadyServices())
			}
			return err
		}
	}
	return nil
}

// unreadyServices says which services the gateway is still waiting for, asking each one's
// readiness route through the gateway's sidecar as the gateway does.
func (s *Stack) unreadyServices() string {
	sidecar, token := s.SidecarHTTP("api")
	var unready []string
	for _, svc := range Services {
		if svc.Public {
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, sidecar+"/v1.0/invoke/"+svc.Name+"/method/readyz", nil)
		req.Header.Set("dapr-api-token", token)
		resp, err := healthClient.Do(req)
		if err != nil {
			unready = append(unready, svc.Name+": "+err.Error())
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			unready = append(unready, fmt.Sprintf("%s: HTTP %d %s", svc.Name, resp.StatusCode, body))
		}
	}
	if len(unready) == 0 {
		return "every service answers its readiness through the gateway's sidecar now"
	}
	return "not ready through the gateway's sidecar: " + strings.Join(unready, "; ")
}

var healthClient = &http.Client{Timeout: 2 * time.Second}

// answersOK reports whether a health URL answers 2xx.
func answersOK(url string) error {
	resp, err := healthClient.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return nil
}

// fatalError stops a wait at once: waiting longer cannot help.
type fatalError struct{ error }

// PublicURL is the gateway's base URL.
func (s *Stack) PublicURL() string {
	return "http://localhost:" + strconv.Itoa(s.cfg.PublicPort)
}

func (s *Stack) snapshot() []*proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*proc(nil), s.procs...)
}

// firstExit returns the exit of the first process that has ended, or nil.
func (s *Stack) firstExit() error {
	for _, p := range s.snapshot() {
		if p.exited() {
			return p.exitError()
		}
	}
	return nil
}

// Exited returns a channel that yields the first process that ends without Stop being called.
func (s *Stack) Exited() <-chan error {
	ch := make(chan error, 1)
	go func() {
		for {
			if err := s.firstExit(); err != nil {
				ch <- err
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return ch
}

// Stop stops every app and sidecar at once, then the broker and servers they depend on (Redis,
// PostgreSQL, and the kafka-s3 set's), in reverse start order.
func (s *Stack) Stop() {
	var wg sync.WaitGroup
	var infra []*proc
	for _, p := range s.snapshot() {
		if isInfraProc(p.name) {
			infra = append(infra, p)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(15 * time.Second) }()
	}
	wg.Wait()
	for i := len(infra) - 1; i >= 0; i-- {
		infra[i].stop(15 * time.Second)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// WithRedisDown stops Redis, runs fn, and starts Redis again on the same port and data, so tests
// can check that reads degrade to PostgreSQL instead of failing.
func (s *Stack) WithRedisDown(ctx context.Context, fn func()) error {
	s.mu.Lock()
	redis := s.byKey["redis"]
	s.mu.Unlock()
	if redis == nil {
		return fmt.Errorf("redis is not part of this stack")
	}
	redis.stop(15 * time.Second)
	s.forget("redis")
	fn()
	if err := s.startRedis(ctx); err != nil {
		return err
	}
	return s.waitSidecarsReachRedis(ctx, 30*time.Second)
}

// waitSidecarsReachRedis waits until every sidecar reads the state store and publishes to the
// broker again: a sidecar's Redis client keeps answering its last dial error for a while after
// Redis is back. A sidecar without one of the components says so, which is fine.
func (s *Stack) waitSidecarsReachRedis(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, in := range s.cfg.instances() {
		base := fmt.Sprintf("http://127.0.0.1:%d/v1.0", s.cfg.PortsOf(in.slot).DaprHTTP)
		for _, probe := range [][2]string{
			{http.MethodGet, base + "/state/statestore/devstack-probe"},
			{http.MethodPost, base + "/publish/pubsub/devstack.probe"},
		} {
			for {
				err := s.sidecarAnswers(ctx, probe[0], probe[1])
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%s's sidecar does not reach Redis: %w", in.name, err)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

// sidecarAnswers sends a probe to a sidecar's API and fails on a transport error or a 5xx, unless
// the sidecar answers that it has no such component.
func (s *Stack) sidecarAnswers(ctx context.Context, method, url string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", s.apiToken)
	resp, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var daprErr struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&daprErr)
	if resp.StatusCode >= 500 && !strings.HasSuffix(daprErr.ErrorCode, "_NOT_CONFIGURED") && !strings.HasSuffix(daprErr.ErrorCode, "_NOT_FOUND") {
		return fmt.Errorf("%s %s answered %d %s", method, url, resp.StatusCode, daprErr.ErrorCode)
	}
	return nil
}

// WipeStateStore deletes every key of the state store component (its keys start with the
// component's name), leaving the broker's streams alone: what a state store that lost its data
// looks like to the services. It returns how many keys it deleted.
func (s *Stack) WipeStateStore(ctx context.Context) (int, error) {
	const script = `local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
return #keys`
	out, err := exec.CommandContext(ctx, "redis-cli", "-p", strconv.Itoa(s.cfg.RedisPort), "--no-raw",
		"EVAL", script, "0", "statestore||*").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("redis-cli: %w: %s", err, out)
	}
	var n int
	if _, err := fmt.Sscanf(string(out), "(integer) %d", &n); err != nil {
		return 0, fmt.Errorf("redis-cli answered %q", out)
	}
	return n, nil
}

// RebuildReadModel makes owner rebuild its read model in the state store from PostgreSQL, and
// waits until it has: for data written into owner's tables directly (the benchmark seeds videos
// by SQL). It deletes the marker that says the model is complete, as a loss would
// (hotmodel.KeepRestored), and waits for it to be written again.
func (s *Stack) RebuildReadModel(ctx context.Context, owner string) error {
	marker := "statestore||" + owner + ":hot-model"
	redis := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(s.cfg.RedisPort)}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := redis("DEL", marker); err != nil {
		return fmt.Errorf("redis-cli DEL: %w: %s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := redis("EXISTS", marker)
		if err == nil && out == "1" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not rebuild its read model (EXISTS %s: %s %v)", owner, marker, out, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PID returns the process id of a named process of the stack ("api", "api-dapr", "redis", …), or 0.
func (s *Stack) PID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.byKey[name]; p != nil && !p.exited() {
		return p.cmd.Process.Pid
	}
	return 0
}

// DatabaseURL returns the connection string of the project database, for the services, tools
// and tests.
func (c Config) DatabaseURL() string { return c.databaseURL(Database) }

func (c Config) databaseURL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.PostgresPort, database)
}

// daprdLogLevel keeps the sidecars quiet (their start-up warnings are expected here) unless
// DAPRD_LOG_LEVEL asks for more.
func (s *Stack) daprdLogLevel() string {
	if lvl := os.Getenv("DAPRD_LOG_LEVEL"); lvl != "" {
		return lvl
	}
	return "error"
}

// Kill ends a named process and its children with SIGKILL, as a crash would ("favorite",
// "favorite-dapr", "postgres", "redis", …).
func (s *Stack) Kill(name string) error {
	s.mu.Lock()
	p := s.byKey[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no process %q", name)
	}
	p.kill()
	s.forget(name)
	return nil
}

// forget drops a stopped process from the stack, so that it neither counts as an unexpected
// exit nor is stopped again.
func (s *Stack) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byKey[name]
	s.procs = slices.DeleteFunc(s.procs, func(q *proc) bool { return q == p })
	delete(s.byKey, name)
}

// Pause stops a named process and its children with SIGSTOP: a hung dependency (a database
// that accepts connections and never answers). Kill or Resume it afterwards.
func (s *Stack) Pause(name string) error { return s.signal(name, syscall.SIGSTOP) }

// Resume lets a paused process run again.
func (s *Stack) Resume(name string) error { return s.signal(name, syscall.SIGCONT) }

func (s *Stack) signal(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.byKey[name]
	s.mu.Unlock()
	if p == nil || p.exited() {
		return fmt.Errorf("no running process %q", name)
	}
	p.signalAll(sig)
	return nil
}

// Restart starts a killed service, sidecar, PostgreSQL ("postgres") or Redis ("redis") again with
// its settings and data, and waits until it is usable: a service's sidecar reports healthy, the
// database answers, every sidecar reaches Redis.
func (s *Stack) Restart(ctx context.Context, name string) error {
	switch name {
	case "postgres":
		return s.startPostgres(ctx)
	case "redis":
		if err := s.startRedis(ctx); err != nil {
			return err
		}
		return s.waitSidecarsReachRedis(ctx, time.Minute)
	}
	if ok, err := s.restartInfraSet(ctx, name); ok {
		return err
	}
	for _, in := range s.cfg.instances() {
		var err error
		switch name {
		case in.name:
			err = s.startApp(in)
		case in.name + "-dapr":
			err = s.startSidecar(in)
		default:
			continue
		}
		if err != nil {
			return err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", s.cfg.PortsOf(in.slot).DaprHTTP)
		return waitFor(ctx, time.Minute, url, func() error { return answersOK(url) })
	}
	return fmt.Errorf("no process %q", name)
}

// MetricsURL returns the Prometheus endpoint of an instance's sidecar ("favorite", "favorite-2"),
// or "" for no such instance.
func (s *Stack) MetricsURL(instanceName string) string {
	for _, in := range s.cfg.instances() {
		if in.name == instanceName {
			return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.cfg.PortsOf(in.slot).Metrics)
		}
	}
	return ""
}

// SidecarHTTP returns the HTTP address of a service's sidecar and the token it requires, for
// tests that talk to Dapr directly (publishing an event twice, say).
func (s *Stack) SidecarHTTP(service string) (string, string) {
	for i, svc := range Services {
		if svc.Name == service {
			return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.PortsOf(i).DaprHTTP), s.apiToken
		}
	}
	return "", ""
}

package devstack

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// runFile is the part of a Dapr CLI multi-app run file that dapr.yaml uses; decoding is strict,
// so a field this test does not compare is an error rather than silently ignored.
type runFile struct {
	Version int        `yaml:"version"`
	Common  runFileApp `yaml:"common"`
	Apps    []runFileApp
}

type runFileApp struct {
	AppID                  string            `yaml:"appID"`
	AppDirPath             string            `yaml:"appDirPath"`
	AppPort                int               `yaml:"appPort"`
	DaprHTTPPort           int               `yaml:"daprHTTPPort"`
	DaprGRPCPort           int               `yaml:"daprGRPCPort"`
	DaprInternalGRPCPort   int               `yaml:"daprInternalGRPCPort"`
	MetricsPort            int               `yaml:"metricsPort"`
	EnableAppHealthCheck   bool              `yaml:"enableAppHealthCheck"`
	AppHealthCheckPath     string            `yaml:"appHealthCheckPath"`
	AppHealthProbeInterval int               `yaml:"appHealthProbeInterval"`
	AppHealthThreshold     int               `yaml:"appHealthThreshold"`
	AppHealthProbeTimeout  int               `yaml:"appHealthProbeTimeout"`
	Command                []string          `yaml:"command"`
	Env                    map[string]string `yaml:"env"`
	ResourcesPaths         []string          `yaml:"resourcesPaths"`
	ConfigFilePath         string            `yaml:"configFilePath"`
	RuntimePath            string            `yaml:"runtimePath"`
	APIListenAddresses     string            `yaml:"apiListenAddresses"`
	AppProtocol            string            `yaml:"appProtocol"`
	MaxBodySize            string            `yaml:"maxBodySize"`
	LogLevel               string            `yaml:"logLevel"`
}

// daprdArgs are the flags the Dapr CLI gives daprd for an app of the run file (its common part
// filled in), with paths made absolute against root.
func (a runFileApp) daprdArgs(common runFileApp, root string) map[string][]string {
	abs := func(p string) string { return filepath.Join(root, p) }
	flags := map[string][]string{}
	add := func(name, value string) {
		if value != "" && value != "0" && value != "false" {
			flags[name] = append(flags[name], value)
		}
	}
	add("--app-id", a.AppID)
	add("--dapr-http-port", strconv.Itoa(a.DaprHTTPPort))
	add("--dapr-grpc-port", strconv.Itoa(a.DaprGRPCPort))
	add("--dapr-internal-grpc-port", strconv.Itoa(a.DaprInternalGRPCPort))
	add("--metrics-port", strconv.Itoa(a.MetricsPort))
	add("--app-port", strconv.Itoa(a.AppPort))
	add("--dapr-listen-addresses", common.APIListenAddresses)
	for _, p := range common.ResourcesPaths {
		add("--resources-path", abs(p))
	}
	add("--config", abs(common.ConfigFilePath))
	add("--max-body-size", common.MaxBodySize)
	add("--log-level", common.LogLevel)
	if a.AppPort != 0 {
		add("--app-protocol", common.AppProtocol)
	}
	if a.EnableAppHealthCheck {
		flags["--enable-app-health-check"] = []string{""}
	}
	add("--app-health-check-path", a.AppHealthCheckPath)
	add("--app-health-probe-interval", strconv.Itoa(a.AppHealthProbeInterval))
	add("--app-health-threshold", strconv.Itoa(a.AppHealthThreshold))
	add("--app-health-probe-timeout", strconv.Itoa(a.AppHealthProbeTimeout))
	return flags
}

// flagsOf reads daprd's arguments as flag → values ("" for a flag without a value).
func flagsOf(args []string) map[string][]string {
	flags := map[string][]string{}
	for i := 0; i < len(args); i++ {
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			flags[args[i]] = append(flags[args[i]], args[i+1])
			i++
			continue
		}
		flags[args[i]] = []string{""}
	}
	return flags
}

// noRunFileField are the orchestrator's daprd flags a run file cannot express (dapr.yaml says
// so): daprd's default mode, and two listen addresses the CLI leaves at their default.
var noRunFileField = []string{"--mode", "--dapr-internal-grpc-listen-address", "--metrics-listen-address"}

// makeRunStack is the stack `make run` starts, with the orchestrator's defaults rather than this
// shell's overrides, unstarted: the run files are compared with it.
func makeRunStack(t *testing.T) (*Stack, string) {
	for _, name := range append([]string{"DAPRD_LOG_LEVEL"}, slices.Collect(maps.Keys(localRateLimits))...) {
		t.Setenv(name, "")
	}
	root := repoRoot(t)
	return &Stack{cfg: Config{Root: root, DataDir: filepath.Join(root, ".data", "run"), BinDir: filepath.Join(root, ".cache", "bin"),
		PublicPort: DefaultPublicPort, PortBase: DefaultPortBase, PostgresPort: 15432, RedisPort: 16379,
		Env: map[string]string{"LOG_FORMAT": "console"}}}, root
}

// decodeStrictYAML decodes the file at path into v; an unknown key fails the test, as a misspelt
// key would otherwise be ignored by the tool that reads the file.
func decodeStrictYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
}

// dapr.yaml starts every service of the orchestrator, on `make run`'s ports, with the same daprd
// flags, resources and app environment: a service or a sidecar flag added to devstack alone fails
// here.
func TestRunFileMatchesTheOrchestrator(t *testing.T) {
	s, root := makeRunStack(t)
	var rf runFile
	decodeStrictYAML(t, filepath.Join(root, "dapr.yaml"), &rf)
	if rf.Version != 1 {
		t.Fatalf("dapr.yaml version %d", rf.Version)
	}
	var ids []string
	for _, app := range rf.Apps {
		ids = append(ids, app.AppID)
	}
	if names := serviceNames(); !slices.Equal(ids, names) {
		t.Fatalf("dapr.yaml starts %v; the orchestrator starts %v (in this order)", ids, names)
	}
	// `make run-deps` links the pinned daprd where the CLI looks for it.
	if rf.Common.RuntimePath != "./.cache/dapr-runtime" {
		t.Errorf("runtimePath %q; the Makefile's dapr-runtime target fills ./.cache/dapr-runtime", rf.Common.RuntimePath)
	}
	for i, in := range s.cfg.instances() {
		app := rf.Apps[i]
		want := flagsOf(s.sidecarArgs(in))
		for _, f := range noRunFileField {
			delete(want, f)
		}
		if got := app.daprdArgs(rf.Common, root); !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: dapr.yaml gives daprd\n  %v\nthe orchestrator\n  %v", in.Name, got, want)
		}
		if want := []string{filepath.Join(".cache", "bin", in.Name)}; !slices.Equal(app.Command, want) || app.AppDirPath != "." {
			t.Errorf("%s: command %v in %q, want %v in \".\"", in.Name, app.Command, app.AppDirPath, want)
		}
		// The CLI sets the app's ports from the run file.
		env := maps.Clone(rf.Common.Env)
		maps.Copy(env, app.Env)
		env["DAPR_HTTP_PORT"], env["DAPR_GRPC_PORT"] = strconv.Itoa(app.DaprHTTPPort), strconv.Itoa(app.DaprGRPCPort)
		env["APP_PORT"] = strconv.Itoa(app.AppPort)
		checkRunEnv(t, "dapr.yaml", s, in, env)
	}
}

// serviceNames are the orchestrator's services, in start order.
func serviceNames() []string {
	var names []string
	for _, svc := range Services {
		names = append(names, svc.Name)
	}
	return names
}

// checkRunEnv compares the environment a run file gives an app (with the ports its tool sets)
// with the orchestrator's: the tokens come from the shell (make run-deps writes them), paths are
// relative to the repository's root, and the gateway listens on PUBLIC_ADDR (APP_PORT is only
// its sidecar's app port there).
func checkRunEnv(t *testing.T, file string, s *Stack, in instance, got map[string]string) {
	t.Helper()
	want := s.serviceEnv(in.slot, in.Service)
	delete(want, "APP_API_TOKEN")
	delete(want, "DAPR_API_TOKEN")
	if in.Public {
		delete(want, "APP_PORT")
		delete(got, "APP_PORT")
	}
	for _, name := range []string{"MEDIA_DIR", "WEB_DIR"} {
		if dir, ok := got[name]; ok {
			got[name] = filepath.Join(s.cfg.Root, dir)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s: %s gives the app\n  %v\nthe orchestrator\n  %v", in.Name, file, got, want)
	}
}

// The images' build file has a final stage, named after it, for every service the orchestrator
// runs (deploy/Dockerfile): a service added without one fails here.
func TestDockerfileBuildsEveryService(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]string{} // stage name → the binary it copies
	var current string
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 4 && fields[0] == "FROM" && strings.EqualFold(fields[2], "AS"):
			current = fields[3]
		case len(fields) == 4 && fields[0] == "COPY" && fields[1] == "--from=build" && fields[3] == "/app":
			stages[current] = strings.TrimPrefix(fields[2], "/out/")
		}
	}
	for _, svc := range Services {
		if stages[svc.Name] != svc.Name {
			t.Errorf("deploy/Dockerfile has no stage %q copying /out/%s (stages: %v)", svc.Name, svc.Name, stages)
		}
	}
	if len(stages) != len(Services) {
		t.Errorf("deploy/Dockerfile has %d service stages; the orchestrator runs %d services", len(stages), len(Services))
	}
}

package devstack

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// tyeFile is the part of tye's schema that tye/tye.yaml uses; decoding is strict, so a
// misspelt key fails the test instead of being ignored by tye.
type tyeFile struct {
	Name       string         `yaml:"name"`
	Extensions []tyeExtension `yaml:"extensions"`
	Services   []tyeService   `yaml:"services"`
}

type tyeExtension struct {
	Name               string                    `yaml:"name"`
	ComponentsPath     string                    `yaml:"components-path"`
	Config             string                    `yaml:"config"`
	AppProtocol        string                    `yaml:"app-protocol"`
	LogLevel           string                    `yaml:"log-level"`
	HTTPMaxRequestSize int                       `yaml:"http-max-request-size"`
	Services           map[string]tyeDaprService `yaml:"services"`
}

type tyeDaprService struct {
	HTTPPort    int `yaml:"http-port"`
	GRPCPort    int `yaml:"grpc-port"`
	MetricsPort int `yaml:"metrics-port"`
}

type tyeService struct {
	Name             string       `yaml:"name"`
	Executable       string       `yaml:"executable"`
	WorkingDirectory string       `yaml:"workingDirectory"`
	Bindings         []tyeBinding `yaml:"bindings"`
	Env              []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
}

type tyeBinding struct {
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol"`
}

// tyeCannotSay are the orchestrator's daprd flags that tye's Dapr extension has no setting for
// (tye.yaml's header says so to its reader).
var tyeCannotSay = []string{"--mode", "--dapr-internal-grpc-port", "--dapr-listen-addresses",
	"--dapr-internal-grpc-listen-address", "--metrics-listen-address", "--enable-app-health-check",
	"--app-health-check-path", "--app-health-probe-interval", "--app-health-threshold", "--app-health-probe-timeout"}

// tye/tye.yaml runs every service of the orchestrator, on `make run`'s ports, with the same
// environment and the sidecar flags tye can express; its one components path holds exactly the
// resources every other run reads.
func TestTyeFileMatchesTheOrchestrator(t *testing.T) {
	s, root := makeRunStack(t)
	var tf tyeFile
	decodeStrictYAML(t, filepath.Join(root, "tye", "tye.yaml"), &tf)
	if len(tf.Extensions) != 1 || tf.Extensions[0].Name != "dapr" {
		t.Fatalf("tye.yaml's extensions %v, want the one dapr extension", tf.Extensions)
	}
	dapr := tf.Extensions[0]
	tyeDir := filepath.Join(root, "tye")
	if got := filepath.Join(tyeDir, dapr.ComponentsPath); got != s.TyeResourcesDir() || dapr.Config != tyeConfigName {
		t.Errorf("components-path %s and config %q; `make run-deps` joins the resources in %s, the Configuration as %s.yaml",
			got, dapr.Config, s.TyeResourcesDir(), tyeConfigName)
	}

	var names []string
	for _, svc := range tf.Services {
		names = append(names, svc.Name)
	}
	if want := serviceNames(); !slices.Equal(names, want) || len(dapr.Services) != len(want) {
		t.Fatalf("tye.yaml runs %v with %d sidecar settings; the orchestrator runs %v (in this order)", names, len(dapr.Services), want)
	}
	for i, in := range s.cfg.instances() {
		svc, sidecar := tf.Services[i], dapr.Services[in.Name]
		if len(svc.Bindings) != 1 || svc.Bindings[0].Protocol != "http" {
			t.Fatalf("%s: bindings %v, want the one http binding (the sidecar's app port)", in.Name, svc.Bindings)
		}
		// The flags tye's extension passes to `dapr run` for this service.
		got := map[string][]string{
			"--app-id":         {in.Name},
			"--app-port":       {strconv.Itoa(svc.Bindings[0].Port)},
			"--app-protocol":   {dapr.AppProtocol},
			"--dapr-http-port": {strconv.Itoa(sidecar.HTTPPort)},
			"--dapr-grpc-port": {strconv.Itoa(sidecar.GRPCPort)},
			"--metrics-port":   {strconv.Itoa(sidecar.MetricsPort)},
			"--log-level":      {dapr.LogLevel},
			"--config":         {s.configPath()},  // linked as <components-path>/doutok.yaml, checked below
			"--resources-path": s.resourcePaths(), // joined in components-path, checked below
			"--max-body-size":  {strconv.Itoa(dapr.HTTPMaxRequestSize) + "Mi"},
		}
		want := flagsOf(s.sidecarArgs(in))
		for _, f := range tyeCannotSay {
			delete(want, f)
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: tye.yaml gives its sidecar\n  %v\nthe orchestrator\n  %v", in.Name, got, want)
		}
		if exe := filepath.Join(tyeDir, svc.Executable); exe != filepath.Join(s.cfg.BinDir, in.Name) ||
			filepath.Join(tyeDir, svc.WorkingDirectory) != root {
			t.Errorf("%s: executable %s in %s, want %s in the repository's root", in.Name, exe, svc.WorkingDirectory, filepath.Join(s.cfg.BinDir, in.Name))
		}
		// tye's extension gives the app its sidecar's ports.
		env := map[string]string{}
		for _, e := range svc.Env {
			env[e.Name] = e.Value
		}
		env["DAPR_HTTP_PORT"], env["DAPR_GRPC_PORT"] = strconv.Itoa(sidecar.HTTPPort), strconv.Itoa(sidecar.GRPCPort)
		checkRunEnv(t, "tye.yaml", s, in, env)
	}

	// The joined folder links exactly the resources and the Configuration.
	s.cfg.DataDir = t.TempDir()
	if err := s.joinResourcesForTye(); err != nil {
		t.Fatal(err)
	}
	links, err := os.ReadDir(s.TyeResourcesDir())
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, l := range links {
		target, err := os.Readlink(filepath.Join(s.TyeResourcesDir(), l.Name()))
		if err != nil {
			t.Fatal(err)
		}
		targets[target] = l.Name()
	}
	wantTargets := []string{s.configPath()}
	for _, dir := range s.resourcePaths() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		wantTargets = append(wantTargets, files...)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(targets)), slices.Sorted(slices.Values(wantTargets))) {
		t.Errorf("the joined resources link %v, want %v", slices.Sorted(maps.Keys(targets)), wantTargets)
	}
	if targets[s.configPath()] != tyeConfigName+".yaml" {
		t.Errorf("dapr/config.yaml is linked as %q, want %s.yaml", targets[s.configPath()], tyeConfigName)
	}
}

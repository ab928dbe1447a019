package devstack

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"
)

// deploy/prometheus/local.yml scrapes every app's ops port and every sidecar's metrics port of
// `make run`, each labelled with its app.
func TestPrometheusScrapesEveryLocalPort(t *testing.T) {
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeStrictYAML(t, filepath.Join(repoRoot(t), "deploy", "prometheus", "local.yml"), &cfg)
	got := map[string]string{} // job/target -> app
	for _, job := range cfg.ScrapeConfigs {
		for _, group := range job.StaticConfigs {
			for _, target := range group.Targets {
				got[job.JobName+" "+target] = group.Labels["app"]
			}
		}
	}
	c := Config{PortBase: DefaultPortBase}
	want := map[string]string{}
	for i, svc := range Services {
		p := c.PortsOf(i)
		want[fmt.Sprintf("doutok 127.0.0.1:%d", p.Ops)] = svc.Name
		want[fmt.Sprintf("dapr 127.0.0.1:%d", p.Metrics)] = svc.Name
	}
	if !maps.Equal(got, want) {
		t.Errorf("local.yml scrapes (job target: app)\n  %v\nthe orchestrator serves\n  %v", got, want)
	}
}

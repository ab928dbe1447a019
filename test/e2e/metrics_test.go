//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doutok/doutok/tools/devstack"
)

// Every service answers its probes and Prometheus's scrape on its ops listener (OPS_ADDR), and
// the metrics move with real traffic: a like is counted on the gateway's route, and its event as
// processed (with its delay) by the favorite service's consumer.
func TestEveryServiceServesProbesAndMetricsOnItsOpsPort(t *testing.T) {
	sameOnEverySet(t)
	for _, svc := range devstack.Services {
		for _, ports := range stackCf.InstancePorts(svc.Name) {
			checkOps(t, svc.Name, fmt.Sprintf("http://127.0.0.1:%d", ports.Ops))
		}
	}

	author, fan := register(t, "metricsauthor"), register(t, "metricsfan")
	video := publishedVideo(t, author)
	likeRoute := map[string]string{"service": "api", "route": "/douyin/favorite/action", "method": "POST", "code": "200"}
	processed := map[string]string{"service": "favorite", "topic": "favorite.changed", "outcome": "processed"}
	likesBefore, eventsBefore := opsMetric(t, "api", "doutok_http_requests_total", likeRoute), opsMetric(t, "favorite", "doutok_events_total", processed)
	do(t, http.MethodPost, "/douyin/favorite/action/", url.Values{
		"video_id": {strconv.FormatInt(video, 10)}, "action_type": {"1"}, "token": {fan.Token}}, nil, nil).expect(t, 200, 0)

	if got := opsMetric(t, "api", "doutok_http_requests_total", likeRoute); got != likesBefore+1 {
		t.Errorf("the gateway counted %v likes answered 200, want %v", got, likesBefore+1)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		got := opsMetric(t, "favorite", "doutok_events_total", processed)
		return got > eventsBefore, fmt.Sprintf("favorite's processed favorite.changed events: %v, before the like %v", got, eventsBefore)
	})
	delay := map[string]string{"service": "favorite", "topic": "favorite.changed"}
	if n := opsMetric(t, "favorite", "doutok_event_delay_seconds_count", delay); n < 1 {
		t.Errorf("favorite observed no event delay (%v)", n)
	}
	if _, ok := opsMetricOK(t, "favorite", "doutok_dead_letters_waiting", map[string]string{"service": "favorite"}); !ok {
		t.Error("favorite exports no doutok_dead_letters_waiting")
	}

	// Every dapr_* series the Grafana dashboard queries is one the sidecars export once a like
	// went through (the doutok_* ones are checked by the metrics package's unit test).
	var sidecars strings.Builder
	for _, svc := range devstack.Services {
		for _, ports := range stackCf.InstancePorts(svc.Name) {
			_, body := opsGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports.Metrics))
			sidecars.WriteString(body)
		}
	}
	raw, err := os.ReadFile(filepath.Join(stackCf.Root, "deploy", "grafana", "doutok.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`\bdapr_[a-z_]+`).FindAllString(string(raw), -1) {
		if !strings.Contains(sidecars.String(), "\n"+name+"{") {
			exported := map[string]bool{}
			for _, m := range regexp.MustCompile(`(?m)^dapr_[a-z_]+`).FindAllString(sidecars.String(), -1) {
				exported[m] = true
			}
			t.Errorf("the dashboard queries %s, which no sidecar exports; they export %v", name, slices.Sorted(maps.Keys(exported)))
		}
	}
}

// checkOps checks one copy's probes and scrape.
func checkOps(t *testing.T, service, base string) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := opsGet(t, base+path); status != http.StatusOK || !strings.Contains(body, `"status_code":0`) {
			t.Errorf("%s %s%s: HTTP %d %s", service, base, path, status, body)
		}
	}
	if _, body := opsGet(t, base+"/metrics"); !strings.Contains(body, "\ngo_goroutines ") {
		t.Errorf("%s %s/metrics has no Go runtime metrics:\n%.300s", service, base, body)
	}
}

func opsGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// opsMetric is the sum of one series over every copy of a service, 0 when it is not there yet.
func opsMetric(t *testing.T, service, name string, labels map[string]string) float64 {
	v, _ := opsMetricOK(t, service, name, labels)
	return v
}

// opsMetricOK adds up the series of name whose labels include labels over the /metrics of every
// copy of the service.
func opsMetricOK(t *testing.T, service, name string, labels map[string]string) (sum float64, found bool) {
	t.Helper()
	for _, ports := range stackCf.InstancePorts(service) {
		v, ok := scrapeMetric(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports.Ops), name, labels)
		sum, found = sum+v, found || ok
	}
	return sum, found
}

// scrapeMetric adds up the series of name whose labels include labels on one Prometheus endpoint
// (the text format: `name{k="v",...} value`); found is false when there is none.
func scrapeMetric(t *testing.T, url, name string, labels map[string]string) (sum float64, found bool) {
	t.Helper()
	_, body := opsGet(t, url)
	lines := bufio.NewScanner(strings.NewReader(body))
series:
	for lines.Scan() {
		line := lines.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		for k, v := range labels {
			if !strings.Contains(line, k+`="`+v+`"`) {
				continue series
			}
		}
		value, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%s: unreadable series %q", url, line)
		}
		sum, found = sum+value, true
	}
	return sum, found
}

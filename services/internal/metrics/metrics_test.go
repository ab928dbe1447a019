package metrics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
)

// scrape serves one request of each kind through the collectors and returns the exposition.
func scrape(t *testing.T) string {
	t.Helper()
	r := mux.NewRouter()
	r.Use(Routes)
	r.HandleFunc("/douyin/feed", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/douyin/feed", nil))
	Event("favorite.changed", Processed, time.Now().Add(-time.Second))
	DeadLettersWaiting(2)

	w := httptest.NewRecorder()
	Handler("api").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w.Body.String()
}

func TestMetricsAreLabelledWithTheServiceAndTheRouteTemplate(t *testing.T) {
	body := scrape(t)
	for _, want := range []string{
		`doutok_http_requests_total{code="429",method="GET",route="/douyin/feed",service="api"} 1`,
		`doutok_http_request_duration_seconds_count{method="GET",route="/douyin/feed",service="api"} 1`,
		`doutok_events_total{outcome="processed",service="api",topic="favorite.changed"} 1`,
		`doutok_event_delay_seconds_count{service="api",topic="favorite.changed"} 1`,
		`doutok_dead_letters_waiting{service="api"} 2`,
		"\ngo_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape has no %q", want)
		}
	}
}

// Every doutok_* series the Grafana dashboard queries is one the services export.
func TestTheDashboardQueriesOnlyExportedMetrics(t *testing.T) {
	body := scrape(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "grafana", "doutok.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	names := regexp.MustCompile(`\bdoutok_[a-z_]+`)
	queried := 0
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			for _, name := range names.FindAllString(target.Expr, -1) {
				queried++
				if !strings.Contains(body, "\n"+name+"{") {
					t.Errorf("panel %q queries %s, which no service exports", p.Title, name)
				}
			}
		}
	}
	if queried == 0 {
		t.Error("the dashboard queries no doutok_* metric")
	}
}

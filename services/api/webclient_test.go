package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

func TestWebClientServesItsPageAndAssetsOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"index.html": "<!doctype html><title>DouTok</title>", "assets/index-abc123.js": "console.log(1)",
		"secret.txt": "not served"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := newWebClient(dir, "http://localhost:8080", "http://127.0.0.1:9000/doutok-media")
	r := mux.NewRouter()
	r.Handle("/", c.page())
	r.PathPrefix(webAssetsPrefix).Handler(c.assets())

	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	page := get("/")
	if page.Code != 200 || !strings.Contains(page.Body.String(), "<title>DouTok</title>") || page.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /: %d %q %v", page.Code, page.Body, page.Header())
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "media-src 'self' http://localhost:8080 http://127.0.0.1:9000;") ||
		!strings.Contains(csp, "script-src 'self';") {
		t.Errorf("the page's policy %q", csp)
	}
	if csp := newWebClient(dir, "http://localhost:8080", "http://localhost:8080/media").policy; !strings.Contains(csp, "media-src 'self' http://localhost:8080;") {
		t.Errorf("one origin named twice: %q", csp)
	}
	js := get("/assets/index-abc123.js")
	if js.Code != 200 || js.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(js.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("GET the script: %d %v", js.Code, js.Header())
	}
	for _, path := range []string{"/assets/../secret.txt", "/assets/%2e%2e%2fsecret.txt", "/assets/missing.js", "/assets/", "/assets/index-abc123.js.txt"} {
		if w := get(path); w.Code != http.StatusNotFound && w.Code != http.StatusMovedPermanently || strings.Contains(w.Body.String(), "not served") {
			t.Errorf("GET %s: %d %q", path, w.Code, w.Body)
		}
	}

	if err := os.Remove(filepath.Join(dir, "index.html")); err != nil {
		t.Fatal(err)
	}
	if w := get("/"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "make web") {
		t.Errorf("GET / with no build: %d %q", w.Code, w.Body)
	}
}

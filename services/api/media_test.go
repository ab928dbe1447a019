package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mediaServer(t *testing.T) http.Handler {
	t.Helper()
	dir := t.TempDir()
	page := []byte("<html><script>alert(1)</script></html>")
	for name, data := range map[string][]byte{
		"video-1.mp4":     append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 200)...),
		"cover-1.jpg":     {0xff, 0xd8, 0xff, 0xe0},
		"video-old.webm":  {0x1a, 0x45, 0xdf, 0xa3},
		"video-old.video": page,
		"page.html":       page,
		"page.mp4.html":   page,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.mp4"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := testDeps(t)
	d.mediaDir = dir
	return newServer(d)
}

func TestMediaIsServedAsAllowedTypesOnly(t *testing.T) {
	h := mediaServer(t)
	for path, want := range map[string]string{
		"/media/video-1.mp4":    "video/mp4",
		"/media/cover-1.jpg":    "image/jpeg",
		"/media/video-old.webm": "video/webm",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != want {
			t.Errorf("%s: HTTP %d %q, want 200 %q", path, rec.Code, rec.Header().Get("Content-Type"), want)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(rec.Header().Get("Content-Security-Policy"), "sandbox;") {
			t.Errorf("%s: headers %v", path, rec.Header())
		}
	}
}

func TestMediaKeepsRanges(t *testing.T) {
	h := mediaServer(t)
	req := httptest.NewRequest(http.MethodGet, "/media/video-1.mp4", nil)
	req.Header.Set("Range", "bytes=4-11")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "ftypmp42" || rec.Header().Get("Content-Type") != "video/mp4" {
		t.Fatalf("HTTP %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestMissingOrUnservableMediaIsTheJSON404(t *testing.T) {
	h := mediaServer(t)
	for _, path := range []string{
		"/media/video-missing.mp4",
		"/media/video-old.video",
		"/media/page.html",
		"/media/page.mp4.html",
		"/media/folder.mp4",
		"/media/video..mp4",
		"/media/.hidden.mp4",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
			!strings.Contains(rec.Body.String(), `"status_code":40010`) {
			t.Errorf("%s: HTTP %d %q %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
)

// The web client (web/, built by `npm run build` into web/dist) is served on the API's own
// origin, so it needs no CORS: its page at /, its hashed files under /assets/. It routes with
// the URL's fragment (#/feed), so no other path is its.
const webAssetsPrefix = "/assets/"

// webAssetTypes are the Content-Types the client's files are served with, by extension; any
// other file is not served.
var webAssetTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

// webClient serves the built client from dir.
type webClient struct {
	dir    string
	policy string // the page's Content-Security-Policy
}

// newWebClient serves dir's client. Its page may load pictures and videos from the API's public
// origin and the media origin (an S3 bucket, on that set) besides its own, and nothing else:
// scripts, styles and API calls are its own origin's.
func newWebClient(dir string, publicBaseURL, mediaBaseURL string) *webClient {
	sources := "'self'"
	for _, u := range []string{publicBaseURL, mediaBaseURL} {
		if parsed, err := url.Parse(u); err == nil && parsed.Host != "" {
			if origin := " " + parsed.Scheme + "://" + parsed.Host; !strings.Contains(sources+" ", origin+" ") {
				sources += origin
			}
		}
	}
	return &webClient{dir: dir, policy: "default-src 'self'; script-src 'self'; connect-src 'self'; " +
		"style-src 'self' 'unsafe-inline'; img-src " + sources + " data:; media-src " + sources + "; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"}
}

// page answers GET / with the client's page, which is never cached: it names the current build's
// hashed files.
func (c *webClient) page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := filepath.Join(c.dir, "index.html")
		if _, err := os.Stat(path); err != nil {
			envelope.Error(w, r, apperr.Newf(apperr.RouteNotFound, "the web client is not built (make web)"))
			return
		}
		c.secure(w)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFile(w, r, path)
	})
}

// assets serves the client's built files; their names carry a hash of their content, so they are
// cached for good.
func (c *webClient) assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, webAssetsPrefix)
		contentType, ok := webAssetTypes[filepath.Ext(name)]
		if !ok || !plainFileName.MatchString(name) || strings.Contains(name, "..") {
			envelope.Error(w, r, apperr.New(apperr.RouteNotFound))
			return
		}
		path := filepath.Join(c.dir, "assets", name)
		if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
			envelope.Error(w, r, apperr.New(apperr.RouteNotFound))
			return
		}
		c.secure(w)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeFile(w, r, path)
	})
}

func (c *webClient) secure(w http.ResponseWriter) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", c.policy)
	w.Header().Set("Referrer-Policy", "same-origin")
}

// webClientIn serves the client built in dir (WEB_DIR), or none when dir is empty.
func webClientIn(dir, publicBaseURL, mediaBaseURL string) *webClient {
	if dir == "" {
		return nil
	}
	return newWebClient(dir, publicBaseURL, mediaBaseURL)
}

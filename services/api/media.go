package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// plainFileName is what a stored object key or a built web file's name looks like: no folders,
// no dot-dot.
var plainFileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// mediaTypes is the only Content-Types media is served with, by the key's extension. Publish
// stores .mp4 videos and .jpg covers. Earlier versions stored some uploads as they came, under
// their container's extension: those still play as the video types below. Keys ending .video
// (a container with no type of its own, where pages disguised as videos were kept) and anything
// else are not served at all.
var mediaTypes = map[string]string{
	".mp4":  "video/mp4",
	".jpg":  "image/jpeg",
	".webm": "video/webm",
	".ts":   "video/mp2t",
	".avi":  "video/x-msvideo",
	".flv":  "video/x-flv",
}

// mediaPolicy is the Content-Security-Policy of media: should a browser open a file as a page
// anyway, it runs in a sandbox (a unique origin, no scripts) that may load nothing but the
// picture or video itself.
const mediaPolicy = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"

// handleMedia serves stored videos and covers from the local media folder, with HTTP Range
// support (players seek), as what they are and never as a page. A missing file answers the JSON
// envelope. In production the media URLs point at object storage or a CDN instead, which must
// send the same headers.
func handleMedia(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", mediaPolicy)
		name := strings.TrimPrefix(r.URL.Path, "/media/")
		contentType, ok := mediaTypes[filepath.Ext(name)]
		if !ok || !plainFileName.MatchString(name) || strings.Contains(name, "..") {
			envelope.Error(w, r, apperr.New(apperr.MediaNotFound))
			return
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			envelope.Error(w, r, apperr.New(apperr.MediaNotFound))
			return
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil || !info.Mode().IsRegular() {
			envelope.Error(w, r, apperr.New(apperr.MediaNotFound))
			return
		}
		// A video may be large: a slow player gets the time to read it.
		server.Extend(w, 0, publishapi.TransferTime(info.Size()))
		w.Header().Set("Content-Type", contentType)
		// Keys are unique and never rewritten, so the files can be cached for good.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, name, info.ModTime(), f)
	})
}

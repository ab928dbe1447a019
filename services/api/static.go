package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"time"
)

// Paths of the default profile images, served by the gateway itself so they load on any install.
const (
	defaultAvatarPath     = "/static/avatar.png"
	defaultBackgroundPath = "/static/background.png"
)

// defaultImages renders the default avatar and background once at start-up: plain gradients,
// generated rather than committed as binaries.
func defaultImages() map[string][]byte {
	return map[string][]byte{
		defaultAvatarPath:     gradientPNG(256, 256, color.RGBA{0xfe, 0x2c, 0x55, 0xff}, color.RGBA{0x25, 0xf4, 0xee, 0xff}),
		defaultBackgroundPath: gradientPNG(1080, 480, color.RGBA{0x16, 0x18, 0x23, 0xff}, color.RGBA{0x5a, 0x2d, 0x82, 0xff}),
	}
}

func gradientPNG(w, h int, from, to color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := float64(x+y) / float64(w+h)
			img.Set(x, y, color.RGBA{
				R: uint8(float64(from.R)*(1-t) + float64(to.R)*t),
				G: uint8(float64(from.G)*(1-t) + float64(to.G)*t),
				B: uint8(float64(from.B)*(1-t) + float64(to.B)*t),
				A: 0xff,
			})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// handleStatic serves the generated images, with Range support via http.ServeContent.
func handleStatic(images map[string][]byte) http.Handler {
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		img, ok := images[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeContent(w, r, strings.TrimPrefix(r.URL.Path, "/static/"), started, bytes.NewReader(img))
	})
}

//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeMedia runs ffmpeg to write name in dir and returns the file's bytes.
func makeMedia(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	path := filepath.Join(dir, name)
	args = append(append([]string{"-v", "error", "-y"}, args...), path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A second of generated picture (and tone), the input of the clips below.
var (
	testPicture = []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1"}
	testTone    = []string{"-f", "lavfi", "-i", "sine=frequency=440", "-t", "1"}
)

// fetchMedia downloads a media URL and checks it is served as wantType, never as something a
// browser would run.
func fetchMedia(t *testing.T, url, wantType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != wantType || len(body) == 0 {
		t.Fatalf("%s: HTTP %d %q, %d bytes", url, resp.StatusCode, h.Get("Content-Type"), len(body))
	}
	if onKafkaS3() {
		// An object store sends no nosniff or CSP: what keeps a stored file from acting as a page
		// of the API is that it is served from another origin, with the type set at upload.
		if strings.HasPrefix(url, baseURL) {
			t.Fatalf("%s is served from the API's origin %s", url, baseURL)
		}
		return body
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("%s: nosniff %q, CSP %q", url, h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
	}
	return body
}

// ffprobeOut runs ffprobe on data with the given arguments before the file name.
func ffprobeOut(t *testing.T, data []byte, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", append(append([]string{"-v", "error"}, args...), path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// checkStoredMP4 checks the published video is an MP4 with H.264 video (and AAC audio when
// withAudio), its index ahead of its data, served with a JPEG cover, and returns its bytes.
func checkStoredMP4(t *testing.T, v videoJSON, withAudio bool) []byte {
	t.Helper()
	if !strings.HasSuffix(v.PlayURL, ".mp4") || !strings.HasSuffix(v.CoverURL, ".jpg") {
		t.Fatalf("play_url %s, cover_url %s", v.PlayURL, v.CoverURL)
	}
	video := fetchMedia(t, v.PlayURL, "video/mp4")
	want := "h264"
	if withAudio {
		want = "h264\naac"
	}
	if codecs := ffprobeOut(t, video, "-show_entries", "stream=codec_name", "-of", "csv=p=0"); codecs != want {
		t.Fatalf("stored streams %q, want %q", codecs, want)
	}
	if format := ffprobeOut(t, video, "-show_entries", "format=format_name", "-of", "csv=p=0"); !strings.Contains(format, "mov,mp4") {
		t.Fatalf("stored format %q", format)
	}
	// faststart: players read the index first.
	if moov, mdat := bytes.Index(video, []byte("moov")), bytes.Index(video, []byte("mdat")); moov < 0 || moov > mdat {
		t.Fatalf("moov at %d, mdat at %d", moov, mdat)
	}
	if cover := fetchMedia(t, v.CoverURL, "image/jpeg"); !bytes.HasPrefix(cover, []byte{0xff, 0xd8, 0xff}) {
		t.Fatalf("cover is not a JPEG: % x", cover[:min(8, len(cover))])
	}
	return video
}

// An HTML page followed by an MPEG program stream is a video to ffmpeg and a page to a browser
// that sniffs. What is stored is ffmpeg's MP4, without the page, served as video/mp4.
func TestMediaPageBeforeAVideoIsStoredAsMP4Only(t *testing.T) {
	a := register(t, "polyglot")
	ps := makeMedia(t, t.TempDir(), "clip.mpg", append(testPicture, "-c:v", "mpeg1video", "-f", "mpeg")...)
	page := []byte("<html><body><script>alert(document.cookie)</script></body></html>\n")
	upload(t, a.Token, "polyglot", append(page, ps...)).expect(t, 200, 0)
	video := checkStoredMP4(t, publishList(t, a, a.ID)[0], false)
	if bytes.Contains(video, []byte("<script")) {
		t.Fatal("the stored video still holds the page")
	}
}

// Playlists and concat lists make ffmpeg open other files or URLs: they are not videos.
func TestMediaPlaylistsAndConcatListsAreRefused(t *testing.T) {
	a := register(t, "playlist")
	dir := t.TempDir()
	makeMedia(t, dir, "segment.ts", append(testPicture, "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts")...)
	hls := func(uri string) []byte {
		return []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n" + uri + "\n#EXT-X-ENDLIST\n")
	}
	// A DASH manifest as ffmpeg writes it, its segments reached by an absolute file URL.
	makeMedia(t, dir, "manifest.mpd", append(testPicture, "-c:v", "libx264", "-preset", "ultrafast", "-f", "dash")...)
	mpd, err := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	mpd = bytes.Replace(mpd, []byte("<Period"), []byte("<BaseURL>file://"+dir+"/</BaseURL>\n<Period"), 1)
	for name, data := range map[string][]byte{
		"HLS, file":       hls("file://" + filepath.Join(dir, "segment.ts")),
		"HLS, http":       hls("http://127.0.0.1:9/segment.ts"),
		"concat list":     []byte("ffconcat version 1.0\nfile 'original'\nfile '" + filepath.Join(dir, "segment.ts") + "'\n"),
		"DASH manifest":   mpd,
		"image sequence":  makeMedia(t, dir, "frame.png", append(testPicture, "-frames:v", "1")...),
		"a page, no more": []byte("<html><script>alert(1)</script></html>"),
	} {
		upload(t, a.Token, name, data).expect(t, 200, 10006)
	}
	if list := publishList(t, a, a.ID); len(list) != 0 {
		t.Fatalf("%d refused uploads were published", len(list))
	}
}

// What browsers cannot play as it is (VP8 in WebM, MPEG-4 Part 2 in AVI) is stored as H.264/AAC
// in MP4.
func TestMediaOtherCodecsAreStoredAsH264MP4(t *testing.T) {
	a := register(t, "transcode")
	dir := t.TempDir()
	webm := makeMedia(t, dir, "clip.webm", append(append(testPicture, testTone...), "-c:v", "libvpx", "-c:a", "libvorbis")...)
	avi := makeMedia(t, dir, "clip.avi", append(testPicture, "-c:v", "mpeg4")...)
	upload(t, a.Token, "webm", webm).expect(t, 200, 0)
	checkStoredMP4(t, publishList(t, a, a.ID)[0], true)
	upload(t, a.Token, "avi", avi).expect(t, 200, 0)
	checkStoredMP4(t, publishList(t, a, a.ID)[0], false)
}

// An H.264/AAC MP4 is remuxed: its streams are stored as they came, packet for packet.
func TestMediaH264MP4IsRemuxedNotEncoded(t *testing.T) {
	a := register(t, "remux")
	clip := testClip(t)
	upload(t, a.Token, "remux", clip).expect(t, 200, 0)
	video := checkStoredMP4(t, publishList(t, a, a.ID)[0], true)
	packets := func(data []byte) string {
		path := filepath.Join(t.TempDir(), "clip")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0", "-c", "copy", "-f", "streamhash", "-").CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg streamhash: %v: %s", err, out)
		}
		return string(out)
	}
	if stored, uploaded := packets(video), packets(clip); stored != uploaded {
		t.Fatalf("stored streams differ from the upload's:\n%s\n%s", stored, uploaded)
	}
}

func TestMediaMissingFileIsTheJSON404(t *testing.T) {
	if onKafkaS3() {
		// The gateway has no /media/ route then; the bucket answers a missing key with 404 and
		// lists nothing to anonymous readers.
		for path, want := range map[string]int{"/video-00000000-0000-0000-0000-000000000000.mp4": 404, "/": 403} {
			resp, err := http.Get(stack.MediaBaseURL() + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("bucket %s: HTTP %d, want %d", path, resp.StatusCode, want)
			}
		}
		get(t, "/media/video-00000000-0000-0000-0000-000000000000.mp4", nil).expect(t, 404, 40001)
		return
	}
	get(t, "/media/video-00000000-0000-0000-0000-000000000000.mp4", nil).expect(t, 404, 40010)
	get(t, "/media/video-legacy.video", nil).expect(t, 404, 40010)
	get(t, "/media/page.html", nil).expect(t, 404, 40010)
}

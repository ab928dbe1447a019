package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/publishapi"
)

// testPublisher is a publisher without a publish service, for receive alone.
func testPublisher(t testing.TB, maxBytes int64) (*publisher, *auth.Tokens) {
	t.Helper()
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", auth.MinKeyBytes)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Writes unlimited: the fuzzer uploads far more often than any user may.
	limits, err := rateLimitsFrom(func(name string) string {
		if name == "WRITES_PER_USER" {
			return "off"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return &publisher{tokens: tokens, maxBytes: maxBytes, tmpDir: t.TempDir(), slots: newUploadSlots(8, 2), limits: limits}, tokens
}

// leftBehind fails if receive left a spooled file or a user's upload slot.
func leftBehind(t testing.TB, p *publisher) {
	t.Helper()
	files, err := os.ReadDir(p.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) > 0 {
		t.Fatalf("%d temporary files left behind", len(files))
	}
	if len(p.slots.perUser) > 0 || p.slots.total != 0 {
		t.Fatalf("upload slots left taken: %v, %d", p.slots.perUser, p.slots.total)
	}
}

// The codes an upload's body can earn before the publish service sees it.
var receiveCodes = map[apperr.Code]bool{
	apperr.InvalidParameter: true, apperr.BodyTooLarge: true, apperr.TokenMissing: true, apperr.TokenInvalid: true,
	apperr.TokenExpired: true, apperr.MissingVideo: true, apperr.InvalidTitle: true, apperr.TooManyUploads: true,
}

// tokenMark in a fuzzed body stands for a valid token of user fuzzUser, so that the fuzzer
// reaches past authentication.
const (
	tokenMark = "@TOKEN@"
	fuzzUser  = 7
)

func part(boundary, name, filename, value string) string {
	disposition := `form-data; name="` + name + `"`
	if filename != "" {
		disposition += `; filename="` + filename + `"`
	}
	return "--" + boundary + "\r\nContent-Disposition: " + disposition + "\r\n\r\n" + value + "\r\n"
}

// Whatever the body, receive never panics, answers a complete upload or a catalogue code, keeps
// the video within its limit, and leaves no file and no slot behind once released; nor does it
// keep the body in memory.
func FuzzReceive(f *testing.F) {
	const b = "B0undary"
	good := part(b, "token", "", tokenMark) + part(b, "title", "", "a title") + part(b, "data", "v.mp4", "VIDEO") + "--" + b + "--\r\n"
	f.Add([]byte(good), b, "", "")
	f.Add([]byte(good), "other", "", "")
	f.Add([]byte(good[:len(good)-10]), b, "", "")                                                 // truncated
	f.Add([]byte(part(b, "data", "v", strings.Repeat("x", 2000))+"--"+b+"--"), b, tokenMark, "t") // over the limit
	f.Add([]byte(part(b, "data", "v", "VIDEO")+"--"+b+"--"), b, tokenMark, "")                    // no title
	f.Add([]byte(part(b, "data", "v", "VIDEO")+"--"+b+"--"), b, "", "title")                      // no token
	f.Add([]byte(part(b, "title", "", "\x00")+part(b, "data", "v", "V")+"--"+b+"--"), b, tokenMark, "")
	f.Add([]byte(part(b, "token", "", "junk")+part(b, "data", "v", "V")+"--"+b+"--"), b, "", "t")
	f.Add([]byte(part(b, "data", "v", "")+part(b, "data", "w", "second")+"--"+b+"--"), b, tokenMark, "t")
	f.Add([]byte(part(b, "data", "v", "V")+part(b, "token", "", tokenMark)+part(b, "token", "", tokenMark)+"--"+b+"--"), b, "", "t")
	f.Add([]byte("--"+b+"\r\nContent-Disposition: form-data; name=\"data\"\r\n"+strings.Repeat("X: y\r\n", 50)), b, tokenMark, "t")
	f.Add([]byte("--"+b+"--"), b, tokenMark, "t")
	f.Add([]byte(""), "", tokenMark, "t")
	f.Add([]byte("\xff\xfe\x00"), "\xff", "", "")
	p, tokens := testPublisher(f, 1<<10)
	valid, err := tokens.Issue(fuzzUser)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary, token, title string) {
		body = bytes.ReplaceAll(body, []byte(tokenMark), []byte(valid))
		token = strings.ReplaceAll(token, tokenMark, valid)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := p.receive(context.Background(), bytes.NewReader(body), boundary, token, title)
		runtime.ReadMemStats(&after)
		// The parser's buffers and a field's 64 KiB, plus what the body itself may hold in
		// headers: never the body many times over.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+uint64(4*len(body)) {
			t.Fatalf("receive allocated %d bytes for a body of %d", alloc, len(body))
		}
		if err != nil {
			if code := apperr.From(err).Code; !receiveCodes[code] {
				t.Fatalf("receive: %v is not a code an upload's body may earn", err)
			}
			leftBehind(t, p)
			return
		}
		info, statErr := got.video.Stat()
		switch {
		case got.viewer != fuzzUser:
			t.Fatalf("upload accepted for user %d", got.viewer)
		case got.size <= 0 || got.size > p.maxBytes:
			t.Fatalf("video of %d bytes accepted, the limit is %d", got.size, p.maxBytes)
		case statErr != nil || info.Size() != got.size:
			t.Fatalf("spooled file: %v, %d bytes, want %d", statErr, info.Size(), got.size)
		case publishapi.ValidateTitle(got.title) != nil:
			t.Fatalf("title %q accepted", got.title)
		}
		p.release(got)
		leftBehind(t, p)
	})
}

// A video far larger than any buffer is streamed to disk, not held in memory.
func TestReceiveStreamsTheVideoToDisk(t *testing.T) {
	const size = 32 << 20
	p, tokens := testPublisher(t, size)
	token, _ := tokens.Issue(fuzzUser)
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("title", "big")
	_, _ = mw.CreateFormFile("data", "big.mp4")
	body := io.MultiReader(&head, io.LimitReader(zeroes{}, size), strings.NewReader("\r\n--"+mw.Boundary()+"--\r\n"))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := p.receive(context.Background(), body, mw.Boundary(), token, "")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got.size != size {
		t.Fatalf("spooled %d bytes, want %d", got.size, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("receiving %d MiB allocated %d bytes", size>>20, alloc)
	}
	p.release(got)
	leftBehind(t, p)
}

type zeroes struct{}

func (zeroes) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

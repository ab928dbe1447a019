//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"
)

// Text PostgreSQL cannot store (a NUL) or that carries control characters is refused with the
// field's business error before anything is acknowledged, published or written.
func TestControlCharactersAreRefusedBeforeAnythingIsAcknowledged(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "ctl")
	v := publishedVideo(t, a)

	comment(t, a, v, "a\x00b").expect(t, 200, 10008)
	comment(t, a, v, "bell\x07").expect(t, 200, 10008)
	comment(t, a, v, "two\nlines\tok").expect(t, 200, 0)
	if list := comments(t, a, v); len(list) != 1 || list[0].Content != "two\nlines\tok" {
		t.Fatalf("comments after refused ones: %+v", list)
	}

	// Login with a NUL in the name is a failed login, not a database error.
	postQuery(t, "/douyin/user/login/", url.Values{"username": {"\x00"}, "password": {"secret123"}}).expect(t, 200, 20004)
	postQuery(t, "/douyin/user/login/", url.Values{"username": {a.Name}, "password": {"secret\x00123"}}).expect(t, 200, 20004)
	postQuery(t, "/douyin/user/register/", url.Values{"username": {uniqueName("ok")}, "password": {"secret\x01123"}}).expect(t, 200, 10004)

	// A bad title is refused by the gateway, whether it comes before or after the video: nothing
	// reaches the media store.
	before := mediaFiles(t)
	upload(t, a.Token, "nul\x00title", testClip(t)).expect(t, 200, 10005)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("data", "clip.mp4")
	_, _ = part.Write(testClip(t))
	_ = mw.WriteField("title", "escape\x1b[31m")
	_ = mw.WriteField("token", a.Token)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	send(t, req).expect(t, 200, 10005)
	time.Sleep(200 * time.Millisecond) // a write that slipped through would land by now
	if after := mediaFiles(t); after != before {
		t.Fatalf("refused uploads left files in the media store: %d before, %d after", before, after)
	}
}

func mediaFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(stack.MediaDir())
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// A multipart upload may carry its token and title in the query string, as every other endpoint
// may; a bad token there is refused before the body is read.
func TestUploadParametersInTheQueryString(t *testing.T) {
	a := register(t, "query")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("data", "clip.mp4")
	_, _ = part.Write(testClip(t))
	_ = mw.Close()
	post := func(query url.Values) reply {
		req, _ := http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/?"+query.Encode(), bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return send(t, req)
	}
	post(url.Values{"token": {"not-a-token"}, "title": {"query title"}}).expect(t, 401, 20002)
	post(url.Values{"title": {"query title"}}).expect(t, 401, 20001)
	post(url.Values{"token": {a.Token}, "title": {"query title"}}).expect(t, 200, 0)
	if list := publishList(t, a, a.ID); len(list) != 1 || list[0].Title != "query title" {
		t.Fatalf("publish list after a query-string upload: %+v", list)
	}
}

// One user may have uploadsPerUser uploads in progress (MAX_UPLOADS_PER_USER); beyond that an
// upload is refused with 429 and a time to retry, and the slots come back when the uploads end.
func TestConcurrentUploadsOfOneUserAreCapped(t *testing.T) {
	a := register(t, "capped")
	var held []*io.PipeWriter
	defer func() {
		for _, pw := range held {
			pw.CloseWithError(errors.New("test over"))
		}
	}()
	heldClient := &http.Client{}
	for range uploadsPerUser {
		pr, pw := io.Pipe()
		held = append(held, pw)
		mw := multipart.NewWriter(pw)
		req, _ := http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		go func() {
			if resp, err := heldClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		// The token comes first, then the video starts and never ends: the upload holds its slot.
		// (More than the client's 4 KiB buffer, so that the token reaches the server.)
		go func() {
			_ = mw.WriteField("token", a.Token)
			part, _ := mw.CreateFormFile("data", "clip.mp4")
			_, _ = part.Write(make([]byte, 64<<10))
		}()
	}
	// The probe's token is checked (and its slot taken) before its title, which is refused: it
	// answers 429 while the user's slots are full and 10005 otherwise, and holds no slot after.
	probe := func() reply { return upload(t, a.Token, "refused\x00title", nil) }
	eventually(t, 20*time.Second, func() (bool, string) {
		r := probe()
		return r.HTTPStatus == http.StatusTooManyRequests, fmt.Sprintf("with %d uploads held open: HTTP %d %s", uploadsPerUser, r.HTTPStatus, r.Raw)
	})
	r := probe().expect(t, http.StatusTooManyRequests, 40008)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("a refused upload says no Retry-After: %v", r.Header)
	}
	for _, pw := range held {
		pw.CloseWithError(errors.New("client gave up"))
	}
	held = nil
	eventually(t, 20*time.Second, func() (bool, string) {
		r := probe()
		return r.code(t) == 10005, fmt.Sprintf("after the held uploads ended: HTTP %d %s", r.HTTPStatus, r.Raw)
	})
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	clipOnce sync.Once
	clip     []byte
	clipErr  error
)

// testClip is a real 2-second H.264/AAC MP4 made with ffmpeg.
func testClip(t *testing.T) []byte {
	t.Helper()
	data, err := sharedClip()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sharedClip makes the 2-second H.264/AAC clip once per run.
func sharedClip() ([]byte, error) {
	clipOnce.Do(func() {
		dir, err := os.MkdirTemp("", "doutok-clip-")
		if err != nil {
			clipErr = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "clip.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x568:rate=25",
			"-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
			"-pix_fmt", "yuv420p", "-c:a", "aac", path).CombinedOutput()
		if err != nil {
			clipErr = fmt.Errorf("ffmpeg: %v: %s", err, out)
			return
		}
		clip, clipErr = os.ReadFile(path)
	})
	return clip, clipErr
}

// upload sends a publish request as the mobile client does: multipart with data, title, token.
// A nil data leaves the part out; an empty token leaves the field out.
func upload(t *testing.T, token, title string, data []byte) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if token != "" {
		_ = mw.WriteField("token", token)
	}
	_ = mw.WriteField("title", title)
	if data != nil {
		part, _ := mw.CreateFormFile("data", "clip.mp4")
		_, _ = part.Write(data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(t, req)
}

type videoJSON struct {
	ID     int64 `json:"id"`
	Author struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		WorkCount int64  `json:"work_count"`
	} `json:"author"`
	PlayURL  string `json:"play_url"`
	CoverURL string `json:"cover_url"`
	Title    string `json:"title"`
}

type feedJSON struct {
	VideoList []videoJSON `json:"video_list"`
	NextTime  int64       `json:"next_time"`
}

func feedPage(t *testing.T, query url.Values) feedJSON {
	t.Helper()
	var f feedJSON
	r := get(t, "/douyin/feed/", query).expect(t, 200, 0)
	if list, ok := r.Body["video_list"].([]any); !ok || list == nil {
		t.Fatalf("video_list is not a list: %s", r.Raw)
	}
	r.decode(t, &f)
	if len(f.VideoList) > 30 {
		t.Fatalf("feed page has %d videos, at most 30 allowed", len(f.VideoList))
	}
	return f
}

func publishList(t *testing.T, viewer account, userID int64) []videoJSON {
	t.Helper()
	var out struct {
		VideoList []videoJSON `json:"video_list"`
	}
	get(t, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(userID, 10)}, "token": {viewer.Token}}).
		expect(t, 200, 0).decode(t, &out)
	return out.VideoList
}

var videoFields = []string{"id", "author", "play_url", "cover_url", "favorite_count", "comment_count", "is_favorite", "title"}

func TestPublishThenListAndFeedShowItAtOnce(t *testing.T) {
	a := register(t, "pub")
	viewer := register(t, "viewer")
	title := "first video " + uniqueName("t")
	upload(t, a.Token, title, testClip(t)).expect(t, 200, 0)

	list := publishList(t, viewer, a.ID)
	if len(list) != 1 || list[0].Title != title || list[0].Author.ID != a.ID || list[0].Author.WorkCount != 1 {
		t.Fatalf("publish list after one upload: %+v", list)
	}
	// The feed shows it at once, anonymous and with a token, with every field present.
	for _, q := range []url.Values{nil, {"token": {viewer.Token}}} {
		r := get(t, "/douyin/feed/", q).expect(t, 200, 0)
		videos := r.Body["video_list"].([]any)
		found := false
		for _, v := range videos {
			m := v.(map[string]any)
			if int64(m["id"].(float64)) != list[0].ID {
				continue
			}
			found = true
			for _, f := range videoFields {
				if _, ok := m[f]; !ok {
					t.Errorf("video field %q missing: %v", f, m)
				}
			}
			author := m["author"].(map[string]any)
			for _, f := range userFields {
				if _, ok := author[f]; !ok {
					t.Errorf("author field %q missing: %v", f, author)
				}
			}
			if author["work_count"].(float64) != 1 || m["favorite_count"].(float64) != 0 || m["is_favorite"] != false {
				t.Errorf("unexpected counters: %v", m)
			}
		}
		if !found {
			t.Fatalf("feed does not show video %d right after publishing: %s", list[0].ID, r.Raw)
		}
	}

	// A second upload: newest first, and work_count is exact everywhere.
	upload(t, a.Token, "second", testClip(t)).expect(t, 200, 0)
	list = publishList(t, a, a.ID)
	if len(list) != 2 || list[0].Title != "second" || list[1].Title != title || list[0].Author.WorkCount != 2 {
		t.Fatalf("publish list after two uploads: %+v", list)
	}
	var info struct {
		User struct {
			WorkCount int64 `json:"work_count"`
		} `json:"user"`
	}
	get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}, "token": {a.Token}}).expect(t, 200, 0).decode(t, &info)
	if info.User.WorkCount != 2 {
		t.Fatalf("user info work_count %d, want 2", info.User.WorkCount)
	}
	// An empty list is [] for a user without videos.
	r := get(t, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(viewer.ID, 10)}, "token": {viewer.Token}}).expect(t, 200, 0)
	if !strings.Contains(string(r.Raw), `"video_list":[]`) {
		t.Fatalf("empty publish list: %s", r.Raw)
	}
}

func TestMediaURLsServeTheVideoWithRangesAndAJPEGCover(t *testing.T) {
	a := register(t, "media")
	upload(t, a.Token, "media check", testClip(t)).expect(t, 200, 0)
	v := publishList(t, a, a.ID)[0]

	resp, err := http.Get(v.PlayURL)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" || len(full) < 1000 {
		t.Fatalf("play_url: HTTP %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(full))
	}
	if !bytes.Contains(full[:64], []byte("ftyp")) {
		t.Fatalf("play_url is not an MP4: % x", full[:16])
	}
	req, _ := http.NewRequest(http.MethodGet, v.PlayURL, nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(part) != 100 || !bytes.Equal(part, full[:100]) {
		t.Fatalf("range request: HTTP %d, %d bytes", resp.StatusCode, len(part))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 0-99/%d", len(full)) {
		t.Fatalf("Content-Range %q", cr)
	}

	resp, err = http.Get(v.CoverURL)
	if err != nil {
		t.Fatal(err)
	}
	cover, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || len(cover) < 500 ||
		!bytes.HasPrefix(cover, []byte{0xff, 0xd8, 0xff}) {
		t.Fatalf("cover_url: HTTP %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(cover))
	}
	// The cover is a frame of the video: ffprobe reads it as a JPEG of the video's size.
	out, err := probeBytes(cover)
	if err != nil || !strings.Contains(out, "mjpeg") || !strings.Contains(out, "320") {
		t.Fatalf("cover probe: %v %s", err, out)
	}
	// Files outside the media folder are not reachable.
	for _, p := range []string{"/media/..%2Fsecrets.json", "/media/../secrets.json", "/media/.hidden"} {
		resp, err := http.Get(baseURL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("%s answered 200", p)
		}
	}
}

func probeBytes(b []byte) (string, error) {
	f, err := os.CreateTemp("", "probe-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	_, _ = f.Write(b)
	f.Close()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv", f.Name()).CombinedOutput()
	return string(out), err
}

func TestFeedPagesThroughManyVideosWithoutRepeatsOrGaps(t *testing.T) {
	a := register(t, "pager")
	const n = 36
	// Published 6 at a time, so several land in the same millisecond.
	clip := testClip(t)
	replies := make([]reply, n)
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			replies[i] = upload(t, a.Token, fmt.Sprintf("page video %02d", i), clip)
		}()
	}
	wg.Wait()
	for _, r := range replies {
		r.expect(t, 200, 0)
	}
	ids := map[int64]bool{}
	for _, v := range publishList(t, a, a.ID) {
		ids[v.ID] = true
	}
	if len(ids) != n {
		t.Fatalf("publish list has %d videos, want %d", len(ids), n)
	}
	seen := map[int64]bool{}
	ours := 0
	latest := url.Values{}
	prevNext := int64(1 << 62)
	for page := 0; ours < n; page++ {
		if page > 1000 {
			t.Fatal("paging does not end")
		}
		f := feedPage(t, latest)
		if len(f.VideoList) == 0 {
			t.Fatalf("feed ran out after %d of our %d videos", ours, n)
		}
		if f.NextTime >= prevNext {
			t.Fatalf("next_time did not decrease: %d then %d", prevNext, f.NextTime)
		}
		prevNext = f.NextTime
		for _, v := range f.VideoList {
			if seen[v.ID] {
				t.Fatalf("video %d served twice", v.ID)
			}
			seen[v.ID] = true
			if ids[v.ID] {
				ours++
			}
		}
		latest = url.Values{"latest_time": {strconv.FormatInt(f.NextTime, 10)}}
	}
	// The author's list is newest first: the same relative order as the feed.
	list := publishList(t, a, a.ID)
	for i := 1; i < len(list); i++ {
		if list[i-1].ID == list[i].ID {
			t.Fatalf("duplicate in publish list")
		}
	}
}

func TestFeedLatestTimeInSecondsOrMilliseconds(t *testing.T) {
	a := register(t, "clock")
	upload(t, a.Token, "before the boundary", testClip(t)).expect(t, 200, 0)
	time.Sleep(1100 * time.Millisecond)
	boundary := time.Now().Unix()
	time.Sleep(50 * time.Millisecond)
	upload(t, a.Token, "after the boundary", testClip(t)).expect(t, 200, 0)

	inSeconds := feedPage(t, url.Values{"latest_time": {strconv.FormatInt(boundary, 10)}})
	inMillis := feedPage(t, url.Values{"latest_time": {strconv.FormatInt(boundary*1000, 10)}})
	if len(inSeconds.VideoList) == 0 {
		t.Fatal("latest_time in seconds was not read as seconds")
	}
	if fmt.Sprint(inSeconds) != fmt.Sprint(inMillis) {
		t.Fatalf("seconds and milliseconds disagree:\n%v\n%v", inSeconds, inMillis)
	}
	for _, v := range inSeconds.VideoList {
		if v.Title == "after the boundary" && v.Author.ID == a.ID {
			t.Fatal("a video published after latest_time was served")
		}
	}
	if inSeconds.VideoList[0].Title != "before the boundary" || inSeconds.VideoList[0].Author.ID != a.ID {
		t.Fatalf("newest video before the boundary should come first, got %q", inSeconds.VideoList[0].Title)
	}
	// Strictly before: asking before the oldest video of a page excludes that video.
	again := feedPage(t, url.Values{"latest_time": {strconv.FormatInt(inMillis.NextTime, 10)}})
	for _, v := range again.VideoList {
		if v.ID == inMillis.VideoList[len(inMillis.VideoList)-1].ID {
			t.Fatal("the video at next_time was served again")
		}
	}
	// Before every video: an empty page, [] not null, next_time = now.
	before := time.Now().UnixMilli()
	empty := get(t, "/douyin/feed/", url.Values{"latest_time": {"1000"}}).expect(t, 200, 0)
	if !strings.Contains(string(empty.Raw), `"video_list":[]`) {
		t.Fatalf("empty feed page: %s", empty.Raw)
	}
	if next := int64(empty.Body["next_time"].(float64)); next < before || next > time.Now().UnixMilli() {
		t.Fatalf("empty page next_time %d is not now", next)
	}
	get(t, "/douyin/feed/", url.Values{"latest_time": {"yesterday"}}).expect(t, 200, 10001)
	get(t, "/douyin/feed/", url.Values{"token": {"garbage"}}).expect(t, 401, 20002)
}

func TestBadUploadsAreBusinessErrors(t *testing.T) {
	a := register(t, "badup")
	clip := testClip(t)
	upload(t, a.Token, "no data", nil).expect(t, 200, 10007)
	upload(t, a.Token, "empty data", []byte{}).expect(t, 200, 10007)
	upload(t, a.Token, "text", []byte("this is not a video, whatever its name says")).expect(t, 200, 10006)
	upload(t, a.Token, "truncated", clip[:2048]).expect(t, 200, 10006)
	readme, _ := os.ReadFile(filepath.Join(stackCf.Root, "README.md"))
	upload(t, a.Token, "markdown", readme).expect(t, 200, 10006)
	upload(t, a.Token, "", clip).expect(t, 200, 10005)
	upload(t, a.Token, strings.Repeat("x", 101), clip).expect(t, 200, 10005)
	upload(t, "", "no token", clip).expect(t, 401, 20001)
	upload(t, "garbage", "bad token", clip).expect(t, 401, 20002)
	// Nothing was published by any of these.
	if list := publishList(t, a, a.ID); len(list) != 0 {
		t.Fatalf("bad uploads published %d videos", len(list))
	}
	// 100 characters, unicode, is fine.
	upload(t, a.Token, strings.Repeat("视", 100), clip).expect(t, 200, 0)
	// Publish list errors.
	get(t, "/douyin/publish/list/", url.Values{"user_id": {"abc"}, "token": {a.Token}}).expect(t, 200, 10001)
	get(t, "/douyin/publish/list/", url.Values{"user_id": {"9007199254740000"}, "token": {a.Token}}).expect(t, 200, 30002)
	get(t, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}}).expect(t, 401, 20001)
}

func TestUploadOverTheLimitIs413(t *testing.T) {
	a := register(t, "big")
	const size = 65 << 20
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("token", a.Token)
	_ = mw.WriteField("title", "too big")
	_, _ = mw.CreateFormFile("data", "big.mp4")
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	body := io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(zeros{}, size), strings.NewReader(tail))

	// With a Content-Length: refused before the body is read.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}, Timeout: time.Minute}
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/", body)
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(raw), `"status_code":40003`) {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}

	// Without a Content-Length (chunked): refused once the limit is crossed.
	body = io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(zeros{}, size), strings.NewReader(tail))
	req, _ = http.NewRequest(http.MethodPost, baseURL+"/douyin/publish/action/", io.NopCloser(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(raw), `"status_code":40003`) {
		t.Fatalf("chunked: HTTP %d %s", resp.StatusCode, raw)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestFeedFallsBackToPostgresWhenTheCacheIsDown(t *testing.T) {
	a := register(t, "cache")
	upload(t, a.Token, "cached or not", testClip(t)).expect(t, 200, 0)
	want := fmt.Sprint(feedPage(t, nil).VideoList)
	err := stack.WithRedisDown(context.Background(), func() {
		if got := fmt.Sprint(feedPage(t, nil).VideoList); got != want {
			t.Errorf("feed without Redis differs:\n%s\n%s", got, want)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(feedPage(t, nil).VideoList); got != want {
		t.Errorf("feed after Redis came back differs:\n%s\n%s", got, want)
	}
}

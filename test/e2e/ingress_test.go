//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// On a cluster the mobile client comes in through an ingress that has its own Dapr sidecar and
// reaches the gateway by service invocation (app id "api"). Locally the gateway's sidecar plays
// that part: the whole mobile API answers the same at /v1.0/invoke/api/method/douyin/..., uploads
// and media Range requests included.
func TestTheMobileAPIThroughTheGatewaysSidecar(t *testing.T) {
	sidecar, apiToken := stack.SidecarHTTP("api")
	invokeBase := sidecar + "/v1.0/invoke/api/method"
	through := func(method, path string, query url.Values, contentType string, body io.Reader) reply {
		t.Helper()
		u := invokeBase + path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("dapr-api-token", apiToken)
		return send(t, req)
	}

	name := uniqueName("ingress")
	r := through(http.MethodPost, "/douyin/user/register/", url.Values{"username": {name}, "password": {"secret123"}}, "", nil).expect(t, 200, 0)
	var reg struct {
		UserID int64  `json:"user_id"`
		Token  string `json:"token"`
	}
	r.decode(t, &reg)
	a := account{ID: reg.UserID, Token: reg.Token}

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("token", a.Token)
	_ = mw.WriteField("title", "through the sidecar")
	part, _ := mw.CreateFormFile("data", "clip.mp4")
	_, _ = part.Write(testClip(t))
	_ = mw.Close()
	through(http.MethodPost, "/douyin/publish/action/", nil, mw.FormDataContentType(), &form).expect(t, 200, 0)

	var list struct {
		VideoList []videoJSON `json:"video_list"`
	}
	through(http.MethodGet, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}, "token": {a.Token}}, "", nil).
		expect(t, 200, 0).decode(t, &list)
	if len(list.VideoList) != 1 || list.VideoList[0].Title != "through the sidecar" {
		t.Fatalf("publish list through the sidecar: %+v", list.VideoList)
	}
	video := list.VideoList[0]
	id := strconv.FormatInt(video.ID, 10)
	through(http.MethodPost, "/douyin/favorite/action/", url.Values{"video_id": {id}, "action_type": {"1"}, "token": {a.Token}}, "", nil).expect(t, 200, 0)
	through(http.MethodPost, "/douyin/comment/action/", nil, "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"video_id": {id}, "action_type": {"1"}, "comment_text": {"hello"}, "token": {a.Token}}.Encode())).expect(t, 200, 0)
	// The same answers as the public port gives.
	if liked := favoriteList(t, a, a.ID); len(liked) != 1 || liked[0] != video.ID {
		t.Fatalf("favorite list after a like through the sidecar: %v", liked)
	}
	var comments struct {
		CommentList []struct {
			Content string `json:"content"`
		} `json:"comment_list"`
	}
	through(http.MethodGet, "/douyin/comment/list/", url.Values{"video_id": {id}, "token": {a.Token}}, "", nil).expect(t, 200, 0).decode(t, &comments)
	if len(comments.CommentList) != 1 || comments.CommentList[0].Content != "hello" {
		t.Fatalf("comment list through the sidecar: %+v", comments.CommentList)
	}
	through(http.MethodGet, "/douyin/feed/", nil, "", nil).expect(t, 200, 0)
	through(http.MethodGet, "/douyin/no/such/route/", nil, "", nil).expect(t, 404, 40001)

	if onKafkaS3() {
		return // the media are served by the bucket, not the gateway
	}
	key := strings.TrimPrefix(video.PlayURL, stack.MediaBaseURL()+"/")
	req, _ := http.NewRequest(http.MethodGet, invokeBase+"/media/"+key, nil)
	req.Header.Set("dapr-api-token", apiToken)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	partial, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	whole := fetchMedia(t, video.PlayURL, "video/mp4")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(partial, whole[:100]) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("media Range through the sidecar: HTTP %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(partial))
	}
}

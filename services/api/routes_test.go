package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/auth"
)

func testServer(t *testing.T) (http.Handler, *auth.Tokens) {
	t.Helper()
	d := testDeps(t)
	return newServer(d), d.tokens
}

// testServerWith is the gateway without its services, within the given rate limits.
func testServerWith(t *testing.T, limits *rateLimits) (http.Handler, *auth.Tokens) {
	t.Helper()
	d := testDeps(t)
	d.limits = limits
	return newServer(d), d.tokens
}

// testDeps are the gateway's parts without its services: default limits, the gate open.
func testDeps(t *testing.T) deps {
	t.Helper()
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", auth.MinKeyBytes)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	limits, err := rateLimitsFrom(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	open := &startupGate{}
	open.open.Store(true)
	return deps{log: zap.NewNop(), tokens: tokens, images: defaultImages(), limits: limits, gate: open}
}

func TestTheGatewayRefusesTrafficUntilItsServicesAreReady(t *testing.T) {
	d := testDeps(t)
	gate := &startupGate{}
	d.gate = gate
	h := newServer(d)
	for path, want := range map[string]int{"/douyin/feed": 503, "/readyz": 503, "/healthz": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want || (want == 503 && (rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"status_code":50002`))) {
			t.Errorf("%s before the services are ready: HTTP %d %s, want %d", path, rec.Code, rec.Body, want)
		}
		if path == "/douyin/feed" && !strings.Contains(rec.Body.String(), `"video_list":[]`) {
			t.Errorf("the feed's refusal lost its reply shape: %s", rec.Body)
		}
	}
	gate.open.Store(true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != 200 {
		t.Errorf("/readyz once ready: HTTP %d", rec.Code)
	}
}

func TestRoutesAnswerWithAndWithoutTrailingSlash(t *testing.T) {
	h, _ := testServer(t)
	for _, path := range []string{"/douyin/user/", "/douyin/user"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?user_id=1", nil))
		// No token: the route matched and asked for one (a miss would be 404).
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"status_code":20001`) {
			t.Errorf("%s: HTTP %d %s", path, rec.Code, rec.Body)
		}
	}
}

func TestViewerOf(t *testing.T) {
	_, tokens := testServer(t)
	good, _ := tokens.Issue(9)
	for _, tc := range []struct {
		need   access
		token  string
		viewer int64
		fails  bool
	}{
		{optional, "", anonymous, false},
		{optional, good, 9, false},
		{optional, "junk", 0, true},
		{required, "", 0, true},
		{required, good, 9, false},
		{public, "junk", anonymous, false},
	} {
		viewer, err := viewerOf(tokens, tc.token, tc.need)
		if viewer != tc.viewer || (err != nil) != tc.fails {
			t.Errorf("need=%d token=%q: viewer %d err %v", tc.need, tc.token, viewer, err)
		}
	}
}

func TestStaticImagesServeRanges(t *testing.T) {
	h, _ := testServer(t)
	req := httptest.NewRequest(http.MethodGet, defaultAvatarPath, nil)
	req.Header.Set("Range", "bytes=0-9")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || rec.Body.Len() != 10 {
		t.Fatalf("HTTP %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

// Every endpoint answers its errors in its own shape: the mobile client reads the fields
// without checking status_code first.
func TestErrorsKeepTheEndpointsShape(t *testing.T) {
	h, _ := testServer(t)
	for path, want := range map[string]string{
		"GET /douyin/feed/?latest_time=x":     `"video_list":[],"next_time":0`,
		"GET /douyin/user/":                   `"user":null`,
		"GET /douyin/publish/list/":           `"video_list":[]`,
		"POST /douyin/favorite/action/":       `"status_msg":"token is required"}`,
		"GET /douyin/favorite/list/":          `"video_list":[]`,
		"POST /douyin/comment/action/":        `"comment":null`,
		"GET /douyin/comment/list/":           `"comment_list":[]`,
		"POST /douyin/relation/action/":       `"status_msg":"token is required"}`,
		"GET /douyin/relation/follow/list/":   `"user_list":[]`,
		"GET /douyin/relation/follower/list/": `"user_list":[]`,
		"GET /douyin/relation/friend/list/":   `"user_list":[]`,
		"GET /douyin/message/chat/":           `"message_list":[]`,
		"POST /douyin/message/action/":        `"status_msg":"token is required"}`,
	} {
		method, target, _ := strings.Cut(path, " ")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		if body := rec.Body.String(); !strings.Contains(body, want) || !strings.HasPrefix(body, `{"status_code":`) {
			t.Errorf("%s: HTTP %d %s, want it to contain %s", path, rec.Code, body, want)
		}
	}
}

// Comments and messages are checked before they leave the gateway: on the way to their service,
// JSON would turn invalid UTF-8 into U+FFFD, valid text the service would store. (The test
// server has no services: reaching one would panic.)
func TestInvalidUTF8TextIsRefusedAtTheGateway(t *testing.T) {
	h, tokens := testServer(t)
	token, _ := tokens.Issue(9)
	for target, code := range map[string]string{
		"/douyin/comment/action/?video_id=1&action_type=1&comment_text=%ff%fe":  `"status_code":10008`,
		"/douyin/comment/action/?video_id=1&action_type=1&comment_text=%c0%80":  `"status_code":10008`,
		"/douyin/message/action/?to_user_id=2&action_type=1&content=a%ed%a0%80": `"status_code":10009`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target+"&token="+token, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), code) {
			t.Errorf("%s: HTTP %d %s, want %s", target, rec.Code, rec.Body, code)
		}
	}
}

func TestOversizedRequestsAreRefusedInTheEndpointsShape(t *testing.T) {
	h, _ := testServer(t)
	long := httptest.NewRequest(http.MethodGet, "/douyin/feed?latest_time="+strings.Repeat("9", maxQueryBytes), nil)
	heavy := httptest.NewRequest(http.MethodPost, "/douyin/user/login?username=a&password=b", nil)
	heavy.Header.Set("X-Padding", strings.Repeat("p", maxHeaderBytes))
	for _, tc := range []struct {
		req         *http.Request
		status      int
		code, field string
	}{
		{long, http.StatusRequestURITooLong, `"status_code":40006`, `"video_list":[]`},
		{heavy, http.StatusRequestHeaderFieldsTooLarge, `"status_code":40007`, `"token":""`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.req)
		body := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(body, tc.code) || !strings.Contains(body, tc.field) {
			t.Errorf("%s: HTTP %d %s", tc.req.URL.Path, rec.Code, body)
		}
	}
}

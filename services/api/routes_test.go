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
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", auth.MinKeyBytes)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return newServer(deps{log: zap.NewNop(), tokens: tokens, images: defaultImages()}), tokens
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

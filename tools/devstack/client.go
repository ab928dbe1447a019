package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// The public API as tools drive it (demo seeding, the benchmark); tests use their own client,
// which also checks what a mobile client would see.

// apiReply is the part of an answer these calls read.
type apiReply struct {
	StatusCode int    `json:"status_code"`
	StatusMsg  string `json:"status_msg"`
	UserID     int64  `json:"user_id"`
	Token      string `json:"token"`
}

// errRefused is a business error of the API (a non-zero status_code).
var errRefused = errors.New("refused")

// Register creates an account and returns its id and token.
func (s *Stack) Register(ctx context.Context, name, password string) (int64, string, error) {
	return s.account(ctx, "/douyin/user/register/", name, password)
}

// Login returns the id and a token of an existing account.
func (s *Stack) Login(ctx context.Context, name, password string) (int64, string, error) {
	return s.account(ctx, "/douyin/user/login/", name, password)
}

func (s *Stack) account(ctx context.Context, path, name, password string) (int64, string, error) {
	q := url.Values{"username": {name}, "password": {password}}
	out, err := s.post(ctx, path+"?"+q.Encode(), "", nil)
	return out.UserID, out.Token, err
}

// Follow makes the token's holder follow user to.
func (s *Stack) Follow(ctx context.Context, token string, to int64) error {
	q := url.Values{"token": {token}, "to_user_id": {strconv.FormatInt(to, 10)}, "action_type": {"1"}}
	_, err := s.post(ctx, "/douyin/relation/action/?"+q.Encode(), "", nil)
	return err
}

// SendMessage sends content from the token's holder to user to.
func (s *Stack) SendMessage(ctx context.Context, token string, to int64, content string) error {
	q := url.Values{"token": {token}, "to_user_id": {strconv.FormatInt(to, 10)}, "action_type": {"1"}, "content": {content}}
	_, err := s.post(ctx, "/douyin/message/action/?"+q.Encode(), "", nil)
	return err
}

// Upload publishes a video file, streaming it as the multipart body (never whole in memory).
func (s *Stack) Upload(ctx context.Context, token, title, path string) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(func() error {
			_ = mw.WriteField("token", token)
			_ = mw.WriteField("title", title)
			part, err := mw.CreateFormFile("data", filepath.Base(path))
			if err != nil {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(part, f); err != nil {
				return err
			}
			return mw.Close()
		}())
	}()
	_, err := s.post(ctx, "/douyin/publish/action/", mw.FormDataContentType(), pr)
	if err != nil {
		return fmt.Errorf("upload %q: %w", title, err)
	}
	return nil
}

// post sends a request to the gateway and reads its envelope; a non-zero status_code is an error
// that wraps errRefused.
func (s *Stack) post(ctx context.Context, pathAndQuery, contentType string, body io.Reader) (apiReply, error) {
	var out apiReply
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.PublicURL()+pathAndQuery, body)
	if err != nil {
		return out, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("%s: HTTP %d: %w", req.URL.Path, resp.StatusCode, err)
	}
	if out.StatusCode != 0 {
		return out, fmt.Errorf("%s: %w: %d %s", req.URL.Path, errRefused, out.StatusCode, out.StatusMsg)
	}
	return out, nil
}

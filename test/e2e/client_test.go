//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// reply is one HTTP answer of the API.
type reply struct {
	HTTPStatus int
	Header     http.Header
	Raw        []byte
	Body       map[string]any
}

// code returns status_code; the envelope must always carry it.
func (r reply) code(t *testing.T) int {
	t.Helper()
	v, ok := r.Body["status_code"].(float64)
	if !ok {
		t.Fatalf("no numeric status_code in %s", r.Raw)
	}
	return int(v)
}

// expect checks the HTTP status and status_code of a reply.
func (r reply) expect(t *testing.T, httpStatus, code int) reply {
	t.Helper()
	if r.HTTPStatus != httpStatus || r.code(t) != code {
		t.Fatalf("want HTTP %d code %d, got HTTP %d: %s", httpStatus, code, r.HTTPStatus, r.Raw)
	}
	if msg, ok := r.Body["status_msg"].(string); !ok || (code != 0 && msg == "") {
		t.Fatalf("status_msg missing or empty in %s", r.Raw)
	}
	return r
}

// decode unmarshals the raw body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Raw, v); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// do sends a request with parameters in the query string and, if form is non-nil, as a
// url-encoded body, the two ways the mobile client sends them.
func do(t *testing.T, method, path string, query, form url.Values, header http.Header) reply {
	t.Helper()
	u := baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{HTTPStatus: resp.StatusCode, Header: resp.Header, Raw: raw}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q, body %s", req.Method, req.URL.Path, ct, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&r.Body); err != nil {
		t.Fatalf("%s %s: body is not one JSON object: %v: %s", req.Method, req.URL.Path, err, raw)
	}
	if dec.More() {
		t.Fatalf("%s %s: body holds more than one JSON value: %s", req.Method, req.URL.Path, raw)
	}
	return r
}

func get(t *testing.T, path string, query url.Values) reply {
	t.Helper()
	return do(t, http.MethodGet, path, query, nil, nil)
}

func postQuery(t *testing.T, path string, query url.Values) reply {
	t.Helper()
	return do(t, http.MethodPost, path, query, nil, nil)
}

func postForm(t *testing.T, path string, form url.Values) reply {
	t.Helper()
	return do(t, http.MethodPost, path, nil, form, nil)
}

var nameSeq atomic.Int64

// uniqueName returns a fresh username (at most 32 characters) so tests never collide.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano()%1e9, nameSeq.Add(1))
}

// account is a registered test user.
type account struct {
	ID    int64
	Name  string
	Token string
}

func register(t *testing.T, prefix string) account {
	t.Helper()
	name := uniqueName(prefix)
	var out struct {
		UserID int64  `json:"user_id"`
		Token  string `json:"token"`
	}
	postQuery(t, "/douyin/user/register/", url.Values{"username": {name}, "password": {"secret123"}}).
		expect(t, 200, 0).decode(t, &out)
	if out.UserID <= 0 || out.Token == "" {
		t.Fatalf("register %s: id %d token %q", name, out.UserID, out.Token)
	}
	return account{ID: out.UserID, Name: name, Token: out.Token}
}

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// The sweep sends every endpoint, in every parameter, every kind of hostile value, in the query
// string and in the body, alone and duplicated; wrong methods, paths and content types; giant,
// truncated and lying bodies. Whatever it sends, the answer must be the envelope: never a 5xx,
// never a stack trace, JSON with an integer status_code and a string status_msg, the endpoint's
// shape, and a non-zero status_code whenever the contract calls the input invalid.

// rule says whether the contract refuses a parameter's value (missing: not sent at all). A
// value it does not refuse may still fail for other reasons; the sweep then asserts only the
// envelope.
type rule func(value string, missing bool) bool

func always(string, bool) bool { return true }

// isID is the contract's ID: a positive integer below 2^53 (spaces around it are tolerated).
func isID(v string) bool {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return err == nil && id > 0 && id < 1<<53
}

func idRule(v string, missing bool) bool { return missing || !isID(v) }

// optionalIDRule is user info's user_id: missing or empty means the viewer.
func optionalIDRule(v string, missing bool) bool { return !missing && v != "" && !isID(v) }

// timeRule is latest_time and pre_msg_time: optional, else a non-negative integer.
func timeRule(v string, missing bool) bool {
	if missing || strings.TrimSpace(v) == "" {
		return false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return err != nil || n < 0
}

// actionRule is action_type: one of the allowed numbers.
func actionRule(allowed ...int) rule {
	return func(v string, missing bool) bool {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return missing || err != nil || !slices.Contains(allowed, n)
	}
}

// textRule is a comment or a message: 1 to max characters, not only spaces, valid UTF-8 whose
// only control characters are newline and tab.
func textRule(max int) rule {
	return func(v string, missing bool) bool {
		n := utf8.RuneCountInString(v)
		return missing || n < 1 || n > max || strings.TrimSpace(v) == "" || !utf8.ValidString(v) ||
			strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
	}
}

// usernameRule is register's: 1 to 32 characters, no spaces or control characters.
func usernameRule(v string, missing bool) bool {
	n := utf8.RuneCountInString(v)
	return missing || n < 1 || n > 32 || !utf8.ValidString(v) ||
		strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) })
}

// param is one parameter of an endpoint, with a value that passes.
type param struct {
	name, valid string
	refuses     rule
}

type access int

const (
	noToken access = iota
	optionalToken
	requiredToken
)

// sweepRoute is an endpoint, or one way of calling it (comment add and delete are two).
type sweepRoute struct {
	method, path string
	auth         access
	shape        map[string]any
	params       []param
}

// hashes tells the routes on which every request that gets past validation hashes a password
// (a core for tens of milliseconds): the sweep sends their values only in the query and the body.
func (r sweepRoute) hashes() bool {
	return r.path == "/douyin/user/register/" || r.path == "/douyin/user/login/"
}

// hostile is a value as it appears on the wire, percent-encoding included.
type hostile struct{ label, raw string }

// hostileValues are sent in every parameter; relativeValues add spellings of the valid value.
var hostileValues = []hostile{
	{"empty", ""},
	{"minus one", "-1"},
	{"zero", "0"},
	{"huge", "99999999999999999999"},
	{"2^63", "9223372036854775808"},
	{"max int64", "9223372036854775807"},
	{"below min int64", "-9223372036854775809"},
	{"2^53", "9007199254740992"},
	{"unknown id", "9007199254740991"},
	{"decimal", "1.5"},
	{"exponent", "1e3"},
	{"hex", "0x10"},
	{"letters", "abc"},
	{"json null", "null"},
	{"json object", "%7B%22a%22%3A1%7D"},
	{"10 KB of digits", strings.Repeat("9", 10<<10)},
	{"10 KB of letters", strings.Repeat("x", 10<<10)},
	{"1 KB of emoji", strings.Repeat("%F0%9F%99%82", 256)},
	{"invalid UTF-8", "%ff%fe"},
	{"overlong UTF-8 NUL", "%c0%80"},
	{"lone surrogate", "%ed%a0%80"},
	{"NUL", "%00"},
	{"NUL inside", "ab%00cd"},
	{"control characters", "%01%1b%7f"},
	{"CRLF", "a%0d%0aX-Injected%3A%201"},
	{"tab and newline", "a%09b%0ac"},
	{"spaces only", "%20%20%20"},
	{"plus sign", "+"},
	{"chinese", "%E5%90%8D%E5%AD%97"},
	{"emoji", "%F0%9F%99%82%F0%9F%91%8D%F0%9F%8F%BD"},
	{"RTL override", "%E2%80%AEabc"},
	{"zero-width space", "%E2%80%8B"},
	{"BOM then digit", "%EF%BB%BF1"},
	{"fullwidth digits", "%EF%BC%91%EF%BC%92"},
	{"arabic-indic digits", "%D9%A1%D9%A2"},
	{"combining marks", "a%CC%81%CC%82%CC%83"},
	{"SQL", "%27%20OR%20%271%27%3D%271"},
	{"format verbs", "%25s%25n%25v"},
	{"template", "%7B%7B.%7D%7D"},
	{"path traversal", "..%2F..%2Fetc%2Fpasswd"},
	{"bare percent", "%"},
	{"bad escape", "%zz"},
	{"semicolon", "1%3B2;3"},
}

func relativeValues(valid string) []hostile {
	v := url.QueryEscape(valid)
	return []hostile{
		{"valid with spaces", "%20" + v + "%20"},
		{"valid with plus", "%2B" + v},
		{"valid with a zero", "0" + v},
		{"valid with .0", v + ".0"},
		{"valid with NUL", v + "%00"},
		{"valid with a newline", v + "%0a"},
	}
}

// decoded is what the server reads of a raw value, and whether the request's parameters parse
// at all (a malformed escape or a semicolon makes the whole query or body invalid).
func decoded(raw string) (string, bool) {
	v, err := url.QueryUnescape(raw)
	return v, err == nil && !strings.Contains(raw, ";")
}

// probe is one request of the sweep and what its answer must be.
type probe struct {
	name   string
	send   func() (*http.Response, []byte, error)
	refuse bool           // the input is invalid: status_code must not be 0
	shape  map[string]any // the endpoint's reply fields, nil for the bare envelope
	status int            // the HTTP status the answer must have, 0 for any below 500
}

var sweepClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 16},
}

// request sends method path?query with a body of the content type; ct "" sends no Content-Type.
func request(method, path, query, ct string, body []byte, header http.Header) func() (*http.Response, []byte, error) {
	return func() (*http.Response, []byte, error) {
		u := baseURL + path
		if query != "" {
			u += "?" + query
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, u, rd)
		if err != nil {
			return nil, nil, err
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := sweepClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp, raw, err
	}
}

// rawExchange sends head and then body on a connection of its own, half-closes it (the server
// sees the end of the body, whatever the Content-Length said) and reads the answer meanwhile: a
// server may answer, and stop reading, before a large body is all sent.
func rawExchange(head string, body io.Reader) func() (*http.Response, []byte, error) {
	return func() (*http.Response, []byte, error) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
		if err != nil {
			return nil, nil, err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			w := bufio.NewWriter(conn)
			_, _ = io.WriteString(w, head)
			_, _ = io.Copy(w, body)
			_ = w.Flush()
			_ = conn.(*net.TCPConn).CloseWrite()
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp, raw, err
	}
}

// judge lists what is wrong with an answer.
func judge(p probe, resp *http.Response, raw []byte) []string {
	var bad []string
	if resp.StatusCode >= 500 {
		bad = append(bad, fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	if p.status != 0 && resp.StatusCode != p.status {
		bad = append(bad, fmt.Sprintf("HTTP %d, want %d", resp.StatusCode, p.status))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		bad = append(bad, fmt.Sprintf("Content-Type %q", ct))
	}
	for _, leak := range []string{"goroutine", "panic", "runtime error", ".go:"} {
		if bytes.Contains(raw, []byte(leak)) {
			bad = append(bad, "body shows "+leak)
		}
	}
	if resp.Request != nil && resp.Request.Method == http.MethodHead {
		return bad
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || dec.More() {
		return append(bad, "body is not one JSON object")
	}
	num, ok := body["status_code"].(json.Number)
	code, err := num.Int64()
	if !ok || err != nil {
		return append(bad, "status_code is not an integer")
	}
	msg, ok := body["status_msg"].(string)
	switch {
	case !ok:
		bad = append(bad, "status_msg is not a string")
	case code != 0 && msg == "":
		bad = append(bad, "empty status_msg beside an error code")
	}
	switch {
	case code == 0 && resp.StatusCode != http.StatusOK:
		bad = append(bad, fmt.Sprintf("status_code 0 with HTTP %d", resp.StatusCode))
	case code == 0 && p.refuse:
		bad = append(bad, "status_code 0 for invalid input")
	}
	if code != 0 && (code < 10000 || code > 59999) {
		bad = append(bad, fmt.Sprintf("status_code %d is outside the catalogue's ranges", code))
	}
	// Answers from the endpoint itself keep its shape; those from in front of it (unknown route,
	// wrong method, over-long query, rate limit) are the bare envelope.
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestURITooLong,
		http.StatusRequestHeaderFieldsTooLarge, http.StatusTooManyRequests:
		return bad
	}
	for f, zero := range p.shape {
		got, ok := body[f]
		switch {
		case !ok:
			bad = append(bad, "field "+f+" missing")
		case code == 0:
		case reflect.DeepEqual(zero, anyNumber{}):
			if _, isNum := got.(json.Number); !isNum {
				bad = append(bad, "field "+f+" is not a number")
			}
		case zero == 0.0:
			if n, isNum := got.(json.Number); !isNum || n.String() != "0" {
				bad = append(bad, "field "+f+" is not 0 on an error")
			}
		case !reflect.DeepEqual(got, zero):
			bad = append(bad, fmt.Sprintf("field %s is %v on an error, want %v", f, got, zero))
		}
	}
	if code != 0 && len(body) != 2+len(p.shape) {
		bad = append(bad, fmt.Sprintf("%d fields on an error, want %d", len(body), 2+len(p.shape)))
	}
	return bad
}

// runSweep sends the probes, workers at a time, and reports every wrong answer (a few of each
// kind in full).
func runSweep(t *testing.T, probes []probe, workers int) {
	t.Helper()
	var mu sync.Mutex
	var retried atomic.Int64
	failures := map[string][]string{}
	work := make(chan probe)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				resp, raw, err := p.send()
				if err == nil && transientlyUnavailable(resp, raw) {
					// A dependency's passing failure (an invocation lost between two sidecars, say)
					// is a correct answer, not the input's doing: the same request once more must
					// then succeed. One the input causes comes back and fails the sweep.
					retried.Add(1)
					time.Sleep(time.Second)
					resp, raw, err = p.send()
				}
				var bad []string
				if err != nil {
					bad = []string{"no answer: " + err.Error()}
				} else {
					bad = judge(p, resp, raw)
				}
				if len(bad) == 0 {
					continue
				}
				if len(raw) > 300 {
					raw = append(raw[:300:300], "…"...)
				}
				mu.Lock()
				kind := strings.Join(bad, "; ")
				failures[kind] = append(failures[kind], fmt.Sprintf("%s → %s", p.name, raw))
				mu.Unlock()
			}
		}()
	}
	for _, p := range probes {
		work <- p
	}
	close(work)
	wg.Wait()
	if n := retried.Load(); n > 0 {
		t.Logf("%d answers were 503/50002 with Retry-After and were sent once more", n)
	}
	for kind, cases := range failures {
		t.Errorf("%d answers: %s", len(cases), kind)
		for _, c := range cases[:min(len(cases), 5)] {
			t.Errorf("    %s", c)
		}
	}
}

// transientlyUnavailable reports a 503/50002 answer with Retry-After: the system's way of saying
// "not now", which a client retries.
func transientlyUnavailable(resp *http.Response, raw []byte) bool {
	var env struct {
		StatusCode int `json:"status_code"`
	}
	return resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
		json.Unmarshal(raw, &env) == nil && env.StatusCode == 50002
}

// sweepWorld is what the sweep's valid values name: two users, a video, a comment.
type sweepWorld struct {
	a, b             account
	video, comment   int64
	password         string
	aID, bID, vidStr string
}

func newSweepWorld(t *testing.T) sweepWorld {
	a, b := register(t, "sweep"), register(t, "sweepb")
	video := publishedVideo(t, a)
	var out struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, a, video, "the sweep's comment").expect(t, 200, 0).decode(t, &out)
	return sweepWorld{a: a, b: b, video: video, comment: out.Comment.ID, password: "secret123",
		aID: strconv.FormatInt(a.ID, 10), bID: strconv.FormatInt(b.ID, 10), vidStr: strconv.FormatInt(video, 10)}
}

// sweepRoutes are the 16 endpoints (comment action twice: add and delete), each with the
// parameters it reads and a value of each that passes. The upload has a sweep of its own.
func sweepRoutes(w sweepWorld) []sweepRoute {
	get, post := http.MethodGet, http.MethodPost
	never := func(string, bool) bool { return false }
	return []sweepRoute{
		{get, "/douyin/feed/", optionalToken, feedShape, []param{{"latest_time", "", timeRule}}},
		// The valid username is taken, so register never succeeds with both valid values; its
		// password is not the sweep's, so the users it creates with hostile names cannot log in.
		{post, "/douyin/user/register/", noToken, accountShape, []param{{"username", w.a.Name, usernameRule}, {"password", "other-secret", always}}},
		{post, "/douyin/user/login/", noToken, accountShape, []param{{"username", w.a.Name, always}, {"password", w.password, always}}},
		{get, "/douyin/user/", requiredToken, userShape, []param{{"user_id", w.aID, optionalIDRule}}},
		{get, "/douyin/publish/list/", requiredToken, videoShape, []param{{"user_id", w.aID, idRule}}},
		{post, "/douyin/favorite/action/", requiredToken, actionShape, []param{{"video_id", w.vidStr, idRule}, {"action_type", "1", actionRule(1, 2)}}},
		{get, "/douyin/favorite/list/", requiredToken, videoShape, []param{{"user_id", w.aID, idRule}}},
		{post, "/douyin/comment/action/", requiredToken, commentShape, []param{{"video_id", w.vidStr, idRule},
			{"action_type", "1", actionRule(1, 2)}, {"comment_text", "sweeping", textRule(500)}, {"comment_id", "", never}}},
		{post, "/douyin/comment/action/", requiredToken, commentShape, []param{{"video_id", w.vidStr, idRule},
			{"action_type", "2", actionRule(1, 2)}, {"comment_id", strconv.FormatInt(w.comment, 10), idRule}}},
		{get, "/douyin/comment/list/", requiredToken, commentsShape, []param{{"video_id", w.vidStr, idRule}}},
		{post, "/douyin/relation/action/", requiredToken, actionShape, []param{{"to_user_id", w.bID, idRule}, {"action_type", "1", actionRule(1, 2)}}},
		{get, followListPath, requiredToken, usersShape, []param{{"user_id", w.aID, idRule}}},
		{get, followerListPath, requiredToken, usersShape, []param{{"user_id", w.aID, idRule}}},
		{get, friendListPath, requiredToken, usersShape, []param{{"user_id", w.aID, idRule}}},
		{get, "/douyin/message/chat/", requiredToken, chatShape, []param{{"to_user_id", w.bID, idRule}, {"pre_msg_time", "0", timeRule}}},
		{post, "/douyin/message/action/", requiredToken, actionShape, []param{{"to_user_id", w.bID, idRule},
			{"action_type", "1", actionRule(1)}, {"content", "sweeping", textRule(1000)}}},
	}
}

func pair(name, raw string) string { return name + "=" + raw }

// validPairs are the route's parameters with their valid values, but the one named skip.
func validPairs(r sweepRoute, skip string) []string {
	var out []string
	for _, p := range r.params {
		if p.name != skip && p.valid != "" {
			out = append(out, pair(p.name, url.QueryEscape(p.valid)))
		}
	}
	return out
}

func joined(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return strings.Join(all, "&")
}

const formType = "application/x-www-form-urlencoded"

// parameterProbes sends each parameter of each route each hostile value, in the query and in the
// body, and when every is set also duplicated (hostile first, then last) and split between query
// and body (the body's value is read first).
func parameterProbes(r sweepRoute, token string, every bool) []probe {
	var probes []probe
	var tokenPair []string
	if r.auth != noToken && token != "" {
		tokenPair = []string{pair("token", url.QueryEscape(token))}
	}
	add := func(name, query string, body []byte, refuse bool) {
		ct := ""
		if body != nil {
			ct = formType
		}
		probes = append(probes, probe{name: r.method + " " + r.path + " " + name, send: request(r.method, r.path, query, ct, body, nil),
			refuse: refuse, shape: r.shape})
	}
	post := r.method == http.MethodPost
	for _, p := range r.params {
		others := validPairs(r, p.name)
		add(p.name+" missing", joined(tokenPair, others), nil, p.refuses("", true))
		if post {
			add(p.name+" missing, body", joined(tokenPair), []byte(joined(others)), p.refuses("", true))
		}
		values := hostileValues
		if p.valid != "" {
			values = append(slices.Clip(values), relativeValues(p.valid)...)
		}
		for _, h := range values {
			v, ok := decoded(h.raw)
			bad := pair(p.name, h.raw)
			valid := []string{pair(p.name, url.QueryEscape(p.valid))}
			refuse := !ok || p.refuses(v, false)
			// Where the valid value is read first, only a malformed request must fail.
			add(p.name+"="+h.label, joined(tokenPair, others, []string{bad}), nil, refuse)
			if post {
				add(p.name+"="+h.label+" in the body", joined(tokenPair), []byte(joined(others, []string{bad})), refuse)
			}
			if !every {
				continue
			}
			add(p.name+"="+h.label+" first of two", joined(tokenPair, others, []string{bad}, valid), nil, refuse)
			add(p.name+"="+h.label+" last of two", joined(tokenPair, others, valid, []string{bad}), nil, !ok)
			if post {
				add(p.name+"="+h.label+" in the query, valid in the body", joined(tokenPair, []string{bad}), []byte(joined(others, valid)), !ok)
				add(p.name+"="+h.label+" in the body, valid in the query", joined(tokenPair, valid), []byte(joined(others, []string{bad})), refuse)
			}
		}
	}
	return probes
}

// tokenProbes sends each route hostile tokens, as the parameter and in the header, with valid
// other parameters.
func tokenProbes(t *testing.T, r sweepRoute, w sweepWorld, key []byte) []probe {
	if r.auth == noToken {
		return nil
	}
	var probes []probe
	add := func(name, query string, header http.Header, refuse bool) {
		probes = append(probes, probe{name: r.method + " " + r.path + " " + name, send: request(r.method, r.path, query, "", nil, header),
			refuse: refuse, shape: r.shape})
	}
	others := validPairs(r, "")
	required := r.auth == requiredToken
	add("no token", joined(others), nil, required)
	forged := func(sub string, exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
			Issuer: "doutok", Subject: sub, ExpiresAt: jwt.NewNumericDate(exp),
		}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hour := time.Now().Add(time.Hour)
	// A token signed with our key for the user, valid for 80 years: not an invalid input.
	lasting := forged(w.aID, time.Unix(math.MaxInt32*2, 0))
	add("token lasting 80 years", joined(others, []string{pair("token", lasting)}), nil, false)
	tokens := []hostile{
		{"valid then x", url.QueryEscape(w.a.Token + "x")},
		{"valid with a newline", url.QueryEscape(w.a.Token[:len(w.a.Token)-3] + "\n" + w.a.Token[len(w.a.Token)-3:])},
		{"valid cut short", url.QueryEscape(w.a.Token[:len(w.a.Token)-3])},
		{"bearer in the parameter", url.QueryEscape("Bearer " + w.a.Token)},
		{"subject 0", forged("0", hour)},
		{"subject -1", forged("-1", hour)},
		{"subject letters", forged("abc", hour)},
		{"subject huge", forged("99999999999999999999", hour)},
		{"subject empty", forged("", hour)},
		{"expired", forged(w.aID, time.Now().Add(-time.Minute))},
	}
	for _, h := range append(slices.Clip(hostileValues), tokens...) {
		v, ok := decoded(h.raw)
		refuse := !ok || v != "" || required
		bad := pair("token", h.raw)
		add("token="+h.label, joined(others, []string{bad}), nil, refuse)
		add("token="+h.label+" first of two", joined(others, []string{bad, pair("token", url.QueryEscape(w.a.Token))}), nil, refuse)
		// Header values cannot hold control characters; the rest go in Authorization too (where
		// spaces around the token do not count).
		if ok && !strings.ContainsFunc(v, unicode.IsControl) {
			add("bearer "+h.label, joined(others), http.Header{"Authorization": {"Bearer " + v}}, required || strings.TrimSpace(v) != "")
		}
	}
	for _, h := range []string{"Bearer", "Bearer ", "Basic " + w.a.Token, w.a.Token, "Bearer  " + w.a.Token + "  x"} {
		add(fmt.Sprintf("Authorization %.12q", h), joined(others), http.Header{"Authorization": {h}}, required)
	}
	return probes
}

// methodProbes sends every route every other method, and the route under paths that are not it.
func methodProbes(routes []sweepRoute) []probe {
	var probes []probe
	seen := map[string]bool{}
	for _, r := range routes {
		if seen[r.path] {
			continue
		}
		seen[r.path] = true
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
			http.MethodOptions, http.MethodHead, http.MethodTrace, "PROPFIND"} {
			if m != r.method {
				probes = append(probes, probe{name: m + " " + r.path, send: request(m, r.path, "", "", nil, nil),
					refuse: true, status: http.StatusMethodNotAllowed})
			}
		}
		// Paths that are not the route, and spellings of it that a server may serve or refuse.
		trimmed := strings.TrimSuffix(r.path, "/")
		for path, notIt := range map[string]bool{
			strings.ToUpper(r.path): true,
			trimmed + "/extra/":     true,
			trimmed + "%00/":        true,
			trimmed + ".json":       true,
			strings.Replace(r.path, "/douyin/", "/douyin//", 1):     false,
			strings.Replace(r.path, "/douyin/", "/douyin/./", 1):    false,
			strings.Replace(r.path, "/douyin/", "/douyin/x/../", 1): false,
			trimmed + "%2F": false,
		} {
			probes = append(probes, probe{name: r.method + " " + path, send: request(r.method, path, "", "", nil, nil), refuse: notIt, shape: r.shape})
		}
	}
	return probes
}

// bodyProbes sends wrong content types, giant bodies and bodies cut short to every route.
func bodyProbes(routes []sweepRoute, token string) []probe {
	var probes []probe
	host := strings.TrimPrefix(baseURL, "http://")
	for _, r := range routes {
		query := ""
		if r.auth != noToken {
			query = pair("token", url.QueryEscape(token))
		}
		form := joined(validPairs(r, ""))
		name := r.method + " " + r.path
		add := func(what string, send func() (*http.Response, []byte, error), refuse bool) {
			probes = append(probes, probe{name: name + " " + what, send: send, refuse: refuse, shape: r.shape})
		}
		post := r.method == http.MethodPost
		// Parameters only in a body the server cannot read as a form: a POST misses them.
		for _, ct := range []string{"", "text/plain", "application/json", "multipart/form-data",
			"multipart/form-data; boundary=nope", "multipart/mixed; boundary=x", "application/x-www-form-urlencoded; charset=\"",
			"%%%", "application/x-www-form-urlencoded; charset=utf-16"} {
			body := []byte(form)
			if ct == "application/json" {
				body, _ = json.Marshal(map[string]string{"video_id": "1", "user_id": "1"})
			}
			refuse := post && ct != formType+"; charset=utf-16"
			add(fmt.Sprintf("Content-Type %q", ct), request(r.method, r.path, query, ct, body, nil), refuse)
		}
		giant := func(n int) io.Reader {
			return io.MultiReader(strings.NewReader(form+"&pad="), io.LimitReader(repeatByte('a'), int64(n)))
		}
		const mib = 1 << 20
		for _, size := range []int{1 << 20, 3 * mib} {
			head := fmt.Sprintf("%s %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
				r.method, r.path, query, host, formType, len(form)+len("&pad=")+size)
			add(fmt.Sprintf("%d MiB body", size/mib), rawExchange(head, giant(size)), post)
		}
		chunked := fmt.Sprintf("%s %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n",
			r.method, r.path, query, host, formType)
		add("3 MiB chunked body", rawExchange(chunked, chunks(giant(3*mib))), post)
		multi := fmt.Sprintf("%s %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n",
			r.method, r.path, query, host, 3*mib+200)
		add("3 MiB multipart field", rawExchange(multi, io.MultiReader(strings.NewReader("--B\r\nContent-Disposition: form-data; name=\"pad\"\r\n\r\n"),
			io.LimitReader(repeatByte('a'), 3*mib), strings.NewReader("\r\n--B--\r\n"))), post)
		// A body that ends before its Content-Length: the client hung up.
		lying := fmt.Sprintf("%s %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			r.method, r.path, query, host, formType, len(form)+1000)
		add("body shorter than its Content-Length", rawExchange(lying, strings.NewReader(form+"&")), post)
	}
	return probes
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// chunks encodes r in HTTP/1.1 chunked transfer coding.
func chunks(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(pw, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_, _ = io.WriteString(pw, "0\r\n\r\n")
				pw.Close()
				return
			}
		}
	}()
	return pr
}

// uploadProbes are the upload's own sweep: hostile titles and tokens in the query string and
// as fields, beside data that is not a video (so none is published); wrong content types;
// bodies cut short, lying about their length, or over the form limit without being multipart.
// They run one at a time, as the uploads of one user are capped.
func uploadProbes(w sweepWorld) []probe {
	const path = "/douyin/publish/action/"
	host := strings.TrimPrefix(baseURL, "http://")
	junk := bytes.Repeat([]byte("not a video "), 4<<10)
	multipartBody := func(fields [][2]string, data []byte) ([]byte, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, f := range fields {
			_ = mw.WriteField(f[0], f[1])
		}
		if data != nil {
			part, _ := mw.CreateFormFile("data", "v.mp4")
			_, _ = part.Write(data)
		}
		_ = mw.Close()
		return b.Bytes(), mw.FormDataContentType()
	}
	var probes []probe
	add := func(name string, send func() (*http.Response, []byte, error)) {
		// Nothing here is a video: every answer is an error.
		probes = append(probes, probe{name: "upload " + name, send: send, refuse: true, shape: actionShape})
	}
	token := url.QueryEscape(w.a.Token)
	for _, h := range hostileValues {
		v, _ := decoded(h.raw)
		body, ct := multipartBody([][2]string{{"token", w.a.Token}, {"title", v}}, junk)
		add("title field "+h.label, request(http.MethodPost, path, "", ct, body, nil))
		body, ct = multipartBody(nil, junk)
		add("title in the query "+h.label, request(http.MethodPost, path, "token="+token+"&title="+h.raw, ct, body, nil))
		body, ct = multipartBody([][2]string{{"token", v}, {"title", "sweep"}}, junk)
		add("token field "+h.label, request(http.MethodPost, path, "", ct, body, nil))
		body, ct = multipartBody([][2]string{{"title", "sweep"}}, junk)
		add("token in the query "+h.label, request(http.MethodPost, path, "token="+h.raw, ct, body, nil))
	}
	full, ct := multipartBody([][2]string{{"token", w.a.Token}, {"title", "sweep"}}, junk)
	for _, cut := range []int{0, 1, 10, 50, 100, 200, 300, len(full) / 2, len(full) - 10, len(full) - 1} {
		add(fmt.Sprintf("body cut at %d", cut), request(http.MethodPost, path, "", ct, full[:cut], nil))
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			path, host, ct, len(full))
		add(fmt.Sprintf("body lying about its length, ends at %d", cut), rawExchange(head, bytes.NewReader(full[:cut])))
	}
	for _, c := range []string{"", "text/plain", "application/json", formType, "multipart/form-data",
		"multipart/form-data; boundary=", "multipart/form-data; boundary=wrong", "multipart/mixed; boundary=" + strings.TrimPrefix(ct, "multipart/form-data; boundary="),
		"multipart/form-data; boundary=\"unterminated", strings.Repeat("x", 2000)} {
		add(fmt.Sprintf("Content-Type %.40q", c), request(http.MethodPost, path, "token="+token+"&title=sweep", c, full, nil))
	}
	// Parts the reader must bound or skip: a huge header, many small parts, a second data part.
	var many strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&many, "--B\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n", i)
	}
	many.WriteString("--B--\r\n")
	add("2000 parts", request(http.MethodPost, path, "token="+token+"&title=sweep", "multipart/form-data; boundary=B", []byte(many.String()), nil))
	hugeHeader := "--B\r\nContent-Disposition: form-data; name=\"data\"\r\nX-Pad: " + strings.Repeat("p", 2<<20) + "\r\n\r\nx\r\n--B--\r\n"
	add("a 2 MiB part header", request(http.MethodPost, path, "token="+token+"&title=sweep", "multipart/form-data; boundary=B", []byte(hugeHeader), nil))
	twice, ct2 := multipartBody([][2]string{{"token", w.a.Token}, {"token", "junk"}, {"title", "sweep"}, {"title", "\x00"}}, junk)
	add("fields twice, the second bad", request(http.MethodPost, path, "", ct2, twice, nil))
	big := fmt.Sprintf("POST %s?token=%s&title=sweep HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, token, host, formType, 3<<20)
	add("3 MiB url-encoded body", rawExchange(big, io.LimitReader(repeatByte('a'), 3<<20)))
	return probes
}

func TestSweepEveryEndpointWithHostileInput(t *testing.T) {
	sameOnEverySet(t)
	started := time.Now()
	w := newSweepWorld(t)
	key := stackSigningKey(t)
	routes := sweepRoutes(w)
	counts := map[string]int{}
	var probes []probe
	for _, r := range routes {
		ps := parameterProbes(r, w.a.Token, !r.hashes())
		counts["parameters, valid token"] += len(ps)
		probes = append(probes, ps...)
		if r.auth == requiredToken {
			// With a bad token, every hostile value still meets the envelope (a 401).
			for _, p := range parameterProbes(r, "garbage", false) {
				p.refuse = true
				counts["parameters, bad token"]++
				probes = append(probes, p)
			}
		}
		ps = tokenProbes(t, r, w, key)
		counts["tokens"] += len(ps)
		probes = append(probes, ps...)
	}
	ps := methodProbes(routes)
	counts["methods and paths"] = len(ps)
	probes = append(probes, ps...)
	ps = bodyProbes(routes, w.a.Token)
	counts["content types and bodies"] = len(ps)
	probes = append(probes, ps...)
	uploads := uploadProbes(w)
	counts["upload"] = len(uploads)
	// Mixed, so that the slow requests (a login hashes a password) run beside the fast ones.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
	setup := time.Since(started)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runSweep(t, uploads, 1)
	}()
	runSweep(t, probes, 8)
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	t.Logf("sweep: %d requests %v in %s (setup %s)", total, counts, time.Since(started).Round(time.Millisecond), setup.Round(time.Millisecond))
}

package main

import (
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/params"
)

var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

// waitOf returns how long a refusal asks to wait, or 0 when err is no refusal.
func waitOf(t *testing.T, err error) time.Duration {
	t.Helper()
	if err == nil {
		return 0
	}
	after, ok := apperr.RetryAfter(err)
	if !ok || !apperr.Is(err, apperr.TooManyRequests) {
		t.Fatalf("refused with %v, want TooManyRequests with a wait", err)
	}
	return after
}

func TestLimiterAllowsABurstThenOneEveryInterval(t *testing.T) {
	l := newLimiter("test", budget{burst: 3, every: 10 * time.Second}, 100)
	for i := range 3 {
		if err := l.take("a", t0); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	for _, tc := range []struct {
		at   time.Duration
		wait time.Duration
	}{
		{0, 10 * time.Second},
		{4 * time.Second, 6 * time.Second},
		{10 * time.Second, 0}, // one has come back
		{10 * time.Second, 10 * time.Second},
		{35 * time.Second, 0}, // two and a half more: two requests
		{35 * time.Second, 0},
		{35 * time.Second, 5 * time.Second},
	} {
		if got := waitOf(t, l.take("a", t0.Add(tc.at))); got != tc.wait {
			t.Fatalf("at +%s: wait %s, want %s", tc.at, got, tc.wait)
		}
	}
	if err := l.take("b", t0); err != nil {
		t.Fatalf("another key has its own budget: %v", err)
	}
	// Idle long enough, a key has its whole burst again, and no more.
	for i := range 3 {
		if err := l.take("a", t0.Add(time.Hour)); err != nil {
			t.Fatalf("request %d after an hour: %v", i+1, err)
		}
	}
	if l.take("a", t0.Add(time.Hour)) == nil {
		t.Fatal("a burst never grows past its size")
	}
}

func TestLimiterGivesBack(t *testing.T) {
	l := newLimiter("test", budget{burst: 2, every: time.Minute}, 100)
	if l.take("a", t0) != nil || l.take("a", t0) != nil {
		t.Fatal("the burst is two")
	}
	l.giveBack("a")
	if err := l.take("a", t0); err != nil {
		t.Fatalf("a request given back is free again: %v", err)
	}
	if l.take("a", t0) == nil {
		t.Fatal("only one was given back")
	}
}

func TestLimiterOffAllowsEverything(t *testing.T) {
	l := newLimiter("test", budget{}, 1)
	for range 1000 {
		if err := l.take("a", t0); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.fullAt) != 0 {
		t.Fatal("a limit that is off remembers nothing")
	}
}

// Clients making up keys (addresses, usernames) cannot grow a limiter past its bound: keys whose
// bucket is full again are forgotten to make room, and a new key finding none is refused.
func TestLimiterBoundsItsKeys(t *testing.T) {
	l := newLimiter("test", budget{burst: 1, every: 10 * time.Second}, 2)
	if l.take("a", t0) != nil || l.take("b", t0) != nil {
		t.Fatal("two keys fit")
	}
	if got := waitOf(t, l.take("c", t0)); got != sweepEvery {
		t.Fatalf("a third key while a and b are spent: wait %s, want %s", got, sweepEvery)
	}
	if waitOf(t, l.take("c", t0.Add(5*time.Second))) == 0 {
		t.Fatal("a third key while a and b are still spent")
	}
	if l.take("a", t0.Add(5*time.Second)) == nil {
		t.Fatal("a known key keeps its own budget at the bound")
	}
	if err := l.take("c", t0.Add(20*time.Second)); err != nil {
		t.Fatalf("a and b are full again and make room: %v", err)
	}
	if len(l.fullAt) > 2 {
		t.Fatalf("%d keys remembered, bound 2", len(l.fullAt))
	}
	// Sweeps are spaced out: a key full again is forgotten only once the last sweep is
	// sweepEvery old.
	l = newLimiter("test", budget{burst: 1, every: 100 * time.Millisecond}, 1)
	_ = l.take("a", t0)
	if l.take("b", t0) == nil { // swept at t0, while a was spent
		t.Fatal("no room for b at t0")
	}
	if l.take("b", t0.Add(500*time.Millisecond)) == nil {
		t.Fatal("a second sweep within sweepEvery")
	}
	if err := l.take("b", t0.Add(sweepEvery)); err != nil {
		t.Fatalf("the next sweep forgets a: %v", err)
	}
}

func TestParseBudget(t *testing.T) {
	for s, want := range map[string]budget{
		"10,30s":    {10, 30 * time.Second},
		" 600, 1ms": {600, time.Millisecond},
		"off":       {},
	} {
		if got, err := parseBudget(s); err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "10", "10,", ",1s", "0,1s", "-1,1s", "10,0s", "10,-1s", "x,1s", "10,1", "25,1h", "OFF"} {
		if _, err := parseBudget(s); err == nil {
			t.Errorf("%q was accepted", s)
		}
	}
}

func TestClientAddress(t *testing.T) {
	proxies, err := parseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote, forwarded string
		trusted           []netip.Prefix
		want              string
	}{
		{"203.0.113.7:5000", "198.51.100.9", nil, "203.0.113.7"}, // no proxy trusted: the header is ignored
		{"203.0.113.7:5000", "198.51.100.9", proxies, "203.0.113.7"},
		{"10.1.2.3:5000", "198.51.100.9", proxies, "198.51.100.9"},
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.9, 10.9.9.9", proxies, "198.51.100.9"}, // forged 6.6.6.6 is left of the client
		{"192.0.2.1:5000", "junk, 198.51.100.9", proxies, "198.51.100.9"},
		{"10.1.2.3:5000", "junk", proxies, "10.1.2.3"},
		{"10.1.2.3:5000", "", proxies, "10.1.2.3"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:80", "", nil, "203.0.113.7"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/douyin/user/login/", nil)
		r.RemoteAddr = tc.remote
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		l := &rateLimits{trustedProxies: tc.trusted}
		if got := l.clientAddress(r); got != tc.want {
			t.Errorf("%s forwarded %q: %s, want %s", tc.remote, tc.forwarded, got, tc.want)
		}
	}
	if _, err := parseTrustedProxies("10.0.0.0/8,nonsense"); err == nil {
		t.Error("a bad TRUSTED_PROXIES entry was accepted")
	}
}

// testLimits are limits on an injected clock: every limit off but those set in with.
func testLimits(clock *time.Time, with func(*rateLimits)) *rateLimits {
	off := newLimiter("off", budget{}, 1)
	l := &rateLimits{loginPerAddress: off, registerPerAddress: off, loginFailures: off, writesPerUser: off,
		now: func() time.Time { return *clock }}
	with(l)
	return l
}

// post sends a form from a client address to h and returns the answer.
func post(h http.Handler, path, from string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = from
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// expectRefused checks a 429 with the new code, Retry-After and the endpoint's full shape.
func expectRefused(t *testing.T, rec *httptest.ResponseRecorder, retryAfter, shape string) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != http.StatusTooManyRequests || !strings.HasPrefix(body, `{"status_code":40009,"status_msg":"too many requests, retry later"`) ||
		!strings.Contains(body, shape) || rec.Header().Get("Retry-After") != retryAfter {
		t.Fatalf("HTTP %d Retry-After %q %s; want 429, Retry-After %s and %s", rec.Code, rec.Header().Get("Retry-After"), body, retryAfter, shape)
	}
}

// Wrong passwords are counted per username; a right one is not, and another username from the
// same address is not held back.
func TestLoginCountsFailuresPerUsername(t *testing.T) {
	clock := t0
	limits := testLimits(&clock, func(l *rateLimits) {
		l.loginFailures = newLimiter("failures", budget{burst: 2, every: 30 * time.Second}, 100)
	})
	checked := 0
	fakeLogin := func(r *http.Request, _ int64) (any, error) {
		checked++
		if params.String(r, "password") != "right" {
			return nil, apperr.New(apperr.LoginFailed)
		}
		return accountResponse{Status: envelope.Success, UserID: 1, Token: "t"}, nil
	}
	h := endpoint(nil, public, limits.login(fakeLogin), accountResponse{})
	login := func(username, password string) *httptest.ResponseRecorder {
		return post(h, "/douyin/user/login/", "203.0.113.7:5000", url.Values{"username": {username}, "password": {password}})
	}
	for range 5 {
		if rec := login("carol", "right"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status_code":0`) {
			t.Fatalf("successes do not count: HTTP %d %s", rec.Code, rec.Body)
		}
	}
	for range 2 {
		if rec := login("alice", "wrong"); !strings.Contains(rec.Body.String(), `"status_code":20004`) {
			t.Fatalf("a wrong password within the budget: %s", rec.Body)
		}
	}
	checked = 0
	expectRefused(t, login("alice", "wrong"), "30", `"user_id":0,"token":""}`)
	expectRefused(t, login("alice", "right"), "30", `"user_id":0,"token":""}`)
	if checked != 0 {
		t.Fatal("a refused login still had its password checked")
	}
	if rec := login("bob", "right"); rec.Code != 200 {
		t.Fatalf("another username from the same address: HTTP %d %s", rec.Code, rec.Body)
	}
	clock = clock.Add(10 * time.Second)
	expectRefused(t, login("alice", "right"), "20", `"user_id":0,"token":""}`)
	clock = clock.Add(20 * time.Second)
	if rec := login("alice", "right"); rec.Code != 200 {
		t.Fatalf("after the wait: HTTP %d %s", rec.Code, rec.Body)
	}
}

func TestLoginAndRegisterPerAddress(t *testing.T) {
	clock := t0
	limits := testLimits(&clock, func(l *rateLimits) {
		l.loginPerAddress = newLimiter("login", budget{burst: 2, every: time.Minute}, 100)
		l.registerPerAddress = newLimiter("register", budget{burst: 1, every: 90 * time.Second}, 100)
	})
	ok := func(*http.Request, int64) (any, error) { return accountResponse{Status: envelope.Success}, nil }
	login := endpoint(nil, public, limits.login(ok), accountResponse{})
	register := endpoint(nil, public, limits.register(ok), accountResponse{})
	form := func(i int) url.Values {
		return url.Values{"username": {"user" + string(rune('a'+i))}, "password": {"secret123"}}
	}
	for i := range 2 {
		if rec := post(login, "/douyin/user/login/", "203.0.113.7:1", form(i)); rec.Code != 200 {
			t.Fatalf("login %d: HTTP %d", i, rec.Code)
		}
	}
	expectRefused(t, post(login, "/douyin/user/login/", "203.0.113.7:2", form(2)), "60", `"user_id":0,"token":""}`)
	if rec := post(login, "/douyin/user/login/", "198.51.100.9:1", form(2)); rec.Code != 200 {
		t.Fatalf("another address: HTTP %d", rec.Code)
	}
	if rec := post(register, "/douyin/user/register/", "203.0.113.7:1", form(3)); rec.Code != 200 {
		t.Fatalf("register has its own budget: HTTP %d", rec.Code)
	}
	expectRefused(t, post(register, "/douyin/user/register/", "203.0.113.7:1", form(4)), "90", `"user_id":0,"token":""}`)
}

// Writes are counted per user, and refused in each write endpoint's own shape.
func TestWritesPerUser(t *testing.T) {
	clock := t0
	limits := testLimits(&clock, func(l *rateLimits) {
		l.writesPerUser = newLimiter("writes", budget{burst: 2, every: 1500 * time.Millisecond}, 100)
	})
	h, tokens := testServerWith(t, limits)
	alice, _ := tokens.Issue(7)
	bob, _ := tokens.Issue(8)
	// Each write below is a business error (no video_id) once counted: no service is reached.
	write := func(path, token string) *httptest.ResponseRecorder {
		return post(h, path, "203.0.113.7:1", url.Values{"token": {token}})
	}
	for _, path := range []string{"/douyin/favorite/action/", "/douyin/relation/action/"} {
		if rec := write(path, alice); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status_code":10001`) {
			t.Fatalf("%s within the budget: HTTP %d %s", path, rec.Code, rec.Body)
		}
	}
	for path, shape := range map[string]string{
		"/douyin/comment/action/":  `"comment":null}`,
		"/douyin/favorite/action/": `"status_msg":"too many requests, retry later"}`,
		"/douyin/message/action/":  `"status_msg":"too many requests, retry later"}`,
	} {
		expectRefused(t, write(path, alice), "2", shape)
	}
	if rec := write("/douyin/message/action/", bob); rec.Code != 200 {
		t.Fatalf("another user's write: HTTP %d %s", rec.Code, rec.Body)
	}
	clock = clock.Add(1500 * time.Millisecond)
	if rec := write("/douyin/comment/action/", alice); rec.Code != 200 {
		t.Fatalf("after the interval: HTTP %d %s", rec.Code, rec.Body)
	}
}

// An upload spends a write of its user before the video is read.
func TestUploadSpendsAWrite(t *testing.T) {
	clock := t0
	limits := testLimits(&clock, func(l *rateLimits) {
		l.writesPerUser = newLimiter("writes", budget{burst: 1, every: time.Minute}, 100)
	})
	_, tokens := testServerWith(t, limits)
	token, _ := tokens.Issue(7)
	if err := limits.writesPerUser.take("7", clock); err != nil {
		t.Fatal(err)
	}
	p := &publisher{tokens: tokens, maxBytes: 1 << 20, slots: newUploadSlots(8, 2), limits: limits}
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("title", "t")
	part, _ := mw.CreateFormFile("data", "clip.mp4")
	_, _ = part.Write([]byte("not read"))
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/douyin/publish/action/?token="+token, strings.NewReader(body.String()))
	r.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	handlePublish(p).ServeHTTP(rec, r)
	expectRefused(t, rec, "60", `"status_msg":"too many requests, retry later"}`)
}

//go:build e2e

package e2e

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// expectRateLimited checks a refusal by a rate limit: HTTP 429, code 40009, a Retry-After of
// 1 to maxWait seconds, and the endpoint's reply fields (beside the status) with zero values.
func expectRateLimited(t *testing.T, r reply, maxWait int, zeroFields map[string]any) {
	t.Helper()
	r.expect(t, 429, 40009)
	if wait, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || wait < 1 || wait > maxWait {
		t.Fatalf("Retry-After %q, want 1 to %d seconds", r.Header.Get("Retry-After"), maxWait)
	}
	if len(r.Body) != 2+len(zeroFields) {
		t.Fatalf("refusal %s, want the status and %v", r.Raw, zeroFields)
	}
	for k, v := range zeroFields {
		if r.Body[k] != v {
			t.Fatalf("refusal %s: %s is %v, want %v", r.Raw, k, r.Body[k], v)
		}
	}
}

// Wrong passwords for one username are refused after the stack's LOGIN_FAILURES_PER_USERNAME
// (the production default: 10, then one every 30 s) without a password check, in login's
// reply shape; another username from the same address logs in.
func TestRateLimitOfFailedLoginsPerUsername(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	victim, other := register(t, "victim"), register(t, "bystander")
	wrong := url.Values{"username": {victim.Name}, "password": {"guess-123"}}
	var replies []reply
	for range 25 {
		replies = append(replies, postForm(t, "/douyin/user/login/", wrong))
	}
	for _, r := range replies[:10] {
		r.expect(t, 200, 20004)
	}
	// The 11th to 15th may meet a token refilled on a slow machine; the last ten cannot all.
	for _, r := range replies[15:] {
		expectRateLimited(t, r, 30, map[string]any{"user_id": float64(0), "token": ""})
	}
	// While the budget is spent, the right password waits too: a guesser cannot tell it.
	right := url.Values{"username": {victim.Name}, "password": {"secret123"}}
	expectRateLimited(t, postForm(t, "/douyin/user/login/", right), 30, map[string]any{"user_id": float64(0), "token": ""})

	var out struct {
		UserID int64  `json:"user_id"`
		Token  string `json:"token"`
	}
	postForm(t, "/douyin/user/login/", url.Values{"username": {other.Name}, "password": {"secret123"}}).
		expect(t, 200, 0).decode(t, &out)
	if out.UserID != other.ID || out.Token == "" {
		t.Fatalf("another username from the same address: id %d token %q", out.UserID, out.Token)
	}
}

// One user's writes beyond the stack's WRITES_PER_USER (writesPerUser) are refused; another
// user's write still goes through.
func TestRateLimitOfWritesPerUser(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	author, eager, calm := register(t, "rlauthor"), register(t, "rleager"), register(t, "rlcalm")
	v := publishedVideo(t, author)
	// Likes of one video (liking twice = once) from a few workers at once, until one is refused:
	// far faster than the refill, so the burst is spent within a few seconds.
	const workers, maxAttempts = 8, 3000
	var attempts, liked atomic.Int64
	var mu sync.Mutex
	var refused []reply
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempts.Add(1) <= maxAttempts {
				r := like(t, eager, v, 1)
				if r.HTTPStatus == 200 {
					liked.Add(1)
					continue
				}
				mu.Lock()
				refused = append(refused, r)
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	if len(refused) == 0 {
		t.Fatalf("%d likes by one user, none refused", maxAttempts)
	}
	for _, r := range refused {
		expectRateLimited(t, r, 1, map[string]any{})
	}
	burst, _ := strconv.Atoi(strings.Split(writesPerUser, ",")[0])
	if liked.Load() < int64(burst) {
		t.Fatalf("refused after %d likes, within the burst of %d", liked.Load(), burst)
	}
	t.Logf("%d likes went through before the refusals", liked.Load())
	like(t, calm, v, 1).expect(t, 200, 0)
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/server"
)

// rateLimits are the gateway's budgets for the requests that cost the most or change data: login
// and register per client address, failed logins per username (each one a bcrypt comparison in
// the user service, and a guess at a password), and writes per user. They live in this process's
// memory: N gateway replicas allow N times each budget, which still bounds what one client costs
// each replica.
type rateLimits struct {
	loginPerAddress    *limiter
	registerPerAddress *limiter
	loginFailures      *limiter // per username
	writesPerUser      *limiter
	trustedProxies     []netip.Prefix
	now                func() time.Time
}

// defaultBudgets are the production budgets, one environment variable each (README, "Limits").
// The local profile (tools/devstack) raises the per-address and per-user ones for test suites.
var defaultBudgets = map[string]string{
	"LOGIN_PER_IP":                "30,2s",
	"REGISTER_PER_IP":             "20,10s",
	"LOGIN_FAILURES_PER_USERNAME": "10,30s",
	"WRITES_PER_USER":             "60,200ms",
}

// maxKeysPerLimit bounds the keys (addresses, usernames, users) one limit remembers: with long
// usernames, about 25 MB.
const maxKeysPerLimit = 100_000

// rateLimitsFrom reads the budgets and the trusted proxies from the environment.
func rateLimitsFrom(getenv server.Getenv) (*rateLimits, error) {
	budgets := map[string]budget{}
	for name, def := range defaultBudgets {
		b, err := parseBudget(getenv.Or(name, def))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		budgets[name] = b
	}
	proxies, err := parseTrustedProxies(getenv("TRUSTED_PROXIES"))
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	return &rateLimits{
		loginPerAddress:    newLimiter("login per address", budgets["LOGIN_PER_IP"], maxKeysPerLimit),
		registerPerAddress: newLimiter("register per address", budgets["REGISTER_PER_IP"], maxKeysPerLimit),
		loginFailures:      newLimiter("failed logins per username", budgets["LOGIN_FAILURES_PER_USERNAME"], maxKeysPerLimit),
		writesPerUser:      newLimiter("writes per user", budgets["WRITES_PER_USER"], maxKeysPerLimit),
		trustedProxies:     proxies,
		now:                time.Now,
	}, nil
}

// register spends the client address's registration budget before act.
func (l *rateLimits) register(act action) action {
	return func(r *http.Request, viewer int64) (any, error) {
		if err := l.take(r.Context(), l.registerPerAddress, l.clientAddress(r)); err != nil {
			return nil, err
		}
		return act(r, viewer)
	}
}

// maxUsernameKeyBytes is where a username is cut before it keys a budget: a real one is at most
// 32 characters (128 bytes of UTF-8); a longer one names no account, and cut it costs no more
// memory than a real one.
const maxUsernameKeyBytes = 128

// login spends the client address's login budget, then the username's budget of failed logins.
// That one is taken before the password is checked, so guesses sent in parallel cannot all pass,
// and given back unless the answer is a wrong username or password: a success does not count.
func (l *rateLimits) login(act action) action {
	return func(r *http.Request, viewer int64) (any, error) {
		if err := l.take(r.Context(), l.loginPerAddress, l.clientAddress(r)); err != nil {
			return nil, err
		}
		username := params.String(r, "username")
		if len(username) > maxUsernameKeyBytes {
			username = username[:maxUsernameKeyBytes]
		}
		if err := l.take(r.Context(), l.loginFailures, username); err != nil {
			return nil, err
		}
		resp, err := act(r, viewer)
		if !apperr.Is(err, apperr.LoginFailed) {
			l.loginFailures.giveBack(username)
		}
		return resp, err
	}
}

// write spends the viewer's write budget before act.
func (l *rateLimits) write(act action) action {
	return func(r *http.Request, viewer int64) (any, error) {
		if err := l.spendWrite(r.Context(), viewer); err != nil {
			return nil, err
		}
		return act(r, viewer)
	}
}

// spendWrite takes one write of user's budget; the upload, which is no action, calls it itself.
func (l *rateLimits) spendWrite(ctx context.Context, user int64) error {
	return l.take(ctx, l.writesPerUser, strconv.FormatInt(user, 10))
}

// take spends one request of key's budget in lim, and logs a refusal with the limit's name (the
// access log line says only 429).
func (l *rateLimits) take(ctx context.Context, lim *limiter, key string) error {
	err := lim.take(key, l.now())
	if err != nil {
		logging.FromContext(ctx).Info("rate limited", zap.String("limit", lim.name))
	}
	return err
}

// clientAddress is the address a client's budgets are kept for: the connection's peer or, when
// that peer is a trusted proxy, the nearest address before it in X-Forwarded-For that is not one
// (anything further left was written by the client, and could be forged). An IPv6 client counts
// by its /64, the block one subscriber gets.
func (l *rateLimits) clientAddress(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr // not from a TCP connection: only in tests
	}
	addr := peer.Addr().Unmap()
	if l.trusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = hop.Unmap()
			if !l.trusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		block, _ := addr.WithZone("").Prefix(64)
		return block.String()
	}
	return addr.String()
}

func (l *rateLimits) trusted(addr netip.Addr) bool {
	for _, p := range l.trustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseTrustedProxies reads a comma-separated list of addresses and CIDR blocks.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR block", item)
		}
		out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
	}
	return out, nil
}

// budget is a limit's allowance: burst requests at once, then one more every interval. The zero
// budget is no limit.
type budget struct {
	burst int
	every time.Duration
}

// maxBudgetWindow is the longest a budget may take to refill from empty.
const maxBudgetWindow = 24 * time.Hour

// parseBudget reads a budget written "<burst>,<interval>" ("10,30s": 10 at once, then one more
// every 30 seconds), or "off".
func parseBudget(s string) (budget, error) {
	if s == "off" {
		return budget{}, nil
	}
	n, d, _ := strings.Cut(s, ",")
	burst, err := strconv.Atoi(strings.TrimSpace(n))
	every, err2 := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || err2 != nil || burst <= 0 || every <= 0 || every > maxBudgetWindow/time.Duration(burst) {
		return budget{}, fmt.Errorf(`%q is not "<burst>,<interval>" (such as "10,30s", refilled within a day) nor "off"`, s)
	}
	return budget{burst: burst, every: every}, nil
}

// limiter keeps a budget per key. Each key holds one time: when its bucket will be full again
// (the token bucket written as a time, as GCRA does). A request moves that time one interval
// later, and is refused when it would then be more than burst intervals ahead of now. A key
// whose time has passed is as good as a new one, so it can be forgotten when room is needed:
// memory stays bounded by maxKeys whatever keys clients make up.
//
// Hand-written rather than golang.org/x/time/rate: a login takes its token before the password
// is checked and gives it back when the password was right, and rate.Limiter cannot return a
// token once its reservation's time has passed.
type limiter struct {
	name    string
	budget  budget
	maxKeys int

	mu        sync.Mutex
	fullAt    map[string]time.Time
	lastSweep time.Time
}

// sweepEvery spaces out the sweeps of a full limiter, each a pass over all its keys: a flood of
// new keys must not cost one per request. A new key finding no room waits this long.
const sweepEvery = time.Second

func newLimiter(name string, b budget, maxKeys int) *limiter {
	return &limiter{name: name, budget: b, maxKeys: maxKeys, fullAt: map[string]time.Time{}}
}

// take spends one request of key's budget, or refuses it (TooManyRequests) with the time until
// the budget allows one more.
func (l *limiter) take(key string, now time.Time) error {
	if l.budget.burst == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full, known := l.fullAt[key]
	if !known && len(l.fullAt) >= l.maxKeys && !l.makeRoom(now) {
		return &apperr.Later{Err: apperr.New(apperr.TooManyRequests), After: sweepEvery}
	}
	next := later(full, now).Add(l.budget.every)
	if wait := next.Sub(now) - time.Duration(l.budget.burst)*l.budget.every; wait > 0 {
		return &apperr.Later{Err: apperr.New(apperr.TooManyRequests), After: wait}
	}
	l.fullAt[key] = next
	return nil
}

// giveBack returns a request that take counted, when what it was counted for did not happen.
func (l *limiter) giveBack(key string) {
	if l.budget.burst == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if full, ok := l.fullAt[key]; ok {
		l.fullAt[key] = full.Add(-l.budget.every)
	}
}

// makeRoom forgets the keys whose bucket is full again, if the last sweep is sweepEvery old,
// and reports whether there is room for one more key.
func (l *limiter) makeRoom(now time.Time) bool {
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.lastSweep = now
		for key, full := range l.fullAt {
			if !full.After(now) {
				delete(l.fullAt, key)
			}
		}
	}
	return len(l.fullAt) < l.maxKeys
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

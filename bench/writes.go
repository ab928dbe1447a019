package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/tools/devstack"
)

const (
	likers         = 200
	sameRate       = 150 // requests per second for the like (and follow) vs feed comparisons: within all capacities
	sameRateRounds = 5
	sameRateFor    = 12 * time.Second // per round
)

// accounts registers n users, a few at a time, and returns their ids and tokens.
func (h *harness) accounts(prefix string, n int) ([]int64, []string, error) {
	ids, tokens := make([]int64, n), make([]string, n)
	err := inParallel(n, 8, func(i int) (err error) {
		// On a busy machine bcrypt can outlast the gateway's deadline: the answer says "try
		// again", though the account may have been created; then it logs in.
		name := fmt.Sprintf("%s_%03d", prefix, i)
		for try := 0; ; try++ {
			ids[i], tokens[i], err = h.stack.Register(context.Background(), name, benchPassword)
			if err != nil && try > 0 && strings.Contains(err.Error(), "30001") {
				ids[i], tokens[i], err = h.stack.Login(context.Background(), name, benchPassword)
			}
			if err == nil || try == 3 || !strings.Contains(err.Error(), "50002") {
				return err
			}
			time.Sleep(time.Second)
		}
	})
	return ids, tokens, err
}

// inParallel runs f(0) … f(n-1), limit at a time, and returns the first error.
func inParallel(n, limit int, f func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}

// api sends one request to the gateway and decodes its answer into out (if not nil); an answer
// with a non-zero status_code is an error.
func (h *harness) api(method, pathAndQuery string, out any) error {
	req, err := http.NewRequest(method, h.base+pathAndQuery, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var status struct {
		StatusCode int    `json:"status_code"`
		StatusMsg  string `json:"status_msg"`
	}
	path, _, _ := strings.Cut(pathAndQuery, "?") // the query holds a token
	if err := json.Unmarshal(body, &status); err != nil {
		return fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	if status.StatusCode != 0 {
		return fmt.Errorf("%s: %d %s", path, status.StatusCode, status.StatusMsg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

// videoRange returns the smallest and largest video id.
func (h *harness) videoRange(ctx context.Context) (int64, int64, error) {
	db, err := sql.Open("pgx", h.cfg.DatabaseURL())
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var lo, hi int64
	err = db.QueryRowContext(ctx, `SELECT min(id), max(id) FROM publish.videos`).Scan(&lo, &hi)
	return lo, hi, err
}

// likeScript writes a wrk script that likes or unlikes a random video as a random user.
func (h *harness) likeScript(tokens []string, lo, hi int64) (string, error) {
	return h.script("like", fmt.Sprintf(`tokens = %s
request = function()
  local path = "/douyin/favorite/action/?video_id=" .. math.random(%d, %d) ..
    "&action_type=" .. math.random(1, 2) .. "&token=" .. tokens[math.random(#tokens)]
  return wrk.format("POST", path)
end
`, luaStrings(tokens), lo, hi))
}

// pathsScript writes a wrk script that GETs a random one of paths on every request, and checks
// every answer (checkedLua).
func (h *harness) pathsScript(name string, paths []string) (string, error) {
	return h.script(name, checkedLua+randomPathsLua(paths))
}

// script writes the wrk script name.lua, with a random seed (also in the global seed), and
// returns its path.
func (h *harness) script(name, body string) (string, error) {
	path := filepath.Join(h.work, name+".lua")
	text := fmt.Sprintf("seed = %d\nmath.randomseed(seed)\n%s", time.Now().UnixNano()%1e9, body)
	return path, os.WriteFile(path, []byte(text), 0o644)
}

// luaStrings is a Lua table literal of strings (Go quoting reads the same in Lua for these ASCII
// tokens and paths).
func luaStrings(xs []string) string {
	quoted := make([]string, len(xs))
	for i, x := range xs {
		quoted[i] = strconv.Quote(x)
	}
	return "{" + strings.Join(quoted, ",") + "}"
}

// streamBacklog reads how many events of a topic the consumer group has not finished. On Redis
// Streams: not yet delivered (lag) plus delivered but unacknowledged (pending); on Kafka (the
// kafka-s3 set): not yet committed, asked with kafkalag.
func (h *harness) streamBacklog(topic, group string) (int64, error) {
	if h.cfg.Infra == devstack.InfraKafkaS3 {
		out, err := exec.Command(filepath.Join(h.cfg.BinDir, "kafkalag"), "-brokers", "127.0.0.1:"+strconv.Itoa(h.cfg.KafkaPort),
			"-group", group, "-topic", topic).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("kafkalag: %v: %s", err, out)
		}
		return strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	}
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(h.cfg.RedisPort), "--raw", "XINFO", "GROUPS", topic).Output()
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(strings.ReplaceAll(string(out), "\"", ""))
	var pending, lag int64 = -1, -1
	inGroup := false
	for i := 0; i+1 < len(fields); i++ {
		switch fields[i] {
		case "name":
			inGroup = fields[i+1] == group
		case "pending":
			if inGroup {
				pending, _ = strconv.ParseInt(fields[i+1], 10, 64)
			}
		case "lag":
			if inGroup {
				lag, _ = strconv.ParseInt(fields[i+1], 10, 64)
			}
		}
	}
	if pending < 0 || lag < 0 {
		return 0, fmt.Errorf("no group %s on %s: %s", group, topic, out)
	}
	return pending + lag, nil
}

func (h *harness) likeThroughput(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	_, tokens, err := h.accounts("bench_liker", likers)
	if err != nil {
		return err
	}
	lo, hi, err := h.videoRange(ctx)
	if err != nil {
		return err
	}
	script, err := h.likeScript(tokens, lo, hi)
	if err != nil {
		return err
	}
	likeURL := h.base + "/douyin/favorite/action/"
	if _, err := wrk(likeURL, warmup, "-s", script); err != nil {
		return err
	}
	if err := h.waitDrained("favorite.changed", "favorite", 5*time.Minute); err != nil {
		return err
	}
	r, err := wrk(likeURL, measure, "-s", script)
	if err != nil {
		return err
	}
	if r.non2xx != "" {
		return fmt.Errorf("like: %s non-2xx responses", r.non2xx)
	}
	start := time.Now()
	backlog, _ := h.streamBacklog("favorite.changed", "favorite")
	if err := h.waitDrained("favorite.changed", "favorite", 5*time.Minute); err != nil {
		return err
	}
	drain := time.Since(start)
	say("\nlikes: %d users liking and unliking random videos among %d\n\n", likers, hi-lo+1)
	sayln("| endpoint | req/s | p50 | p99 |")
	sayln("|---|---|---|---|")
	say("| like / unlike (wrk -t%d -c%d -d%s) | %.0f | %s | %s |\n", threads, connections, measure, r.rps, r.p50, r.p99)
	say("\nconsumer: %d of %d events still unpersisted when the load stopped; drained in %s\n",
		backlog, r.requests, drain.Round(10*time.Millisecond))
	like := h.randomAction("/douyin/favorite/action/", func() url.Values {
		return url.Values{
			"video_id":    {strconv.FormatInt(lo+rand.Int64N(hi-lo+1), 10)},
			"action_type": {strconv.Itoa(1 + rand.IntN(2))},
			"token":       {tokens[rand.IntN(len(tokens))]},
		}
	})
	return h.sameRateComparison("like", like, sameRateRounds, sameRateFor, 2)
}

// waitDrained waits until a consumer group has persisted every event of its topic.
func (h *harness) waitDrained(topic, group string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := h.streamBacklog(topic, group)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer did not drain: %d events left", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// randomAction is a targeter that POSTs to path with a query drawn anew for every request.
func (h *harness) randomAction(path string, query func() url.Values) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodPost, h.base+path+"?"+query().Encode()
		return nil
	}
}

// sameRateComparison offers the feed and an action (a toggle: like, follow) the same constant
// request rate (an open-loop load: requests are sent on schedule whatever the latency) and
// compares p99s. As in the feed stage the two alternate, each for per in every round, so that
// machine noise hits both alike; the verdict is the median of the rounds' ratios (target: at
// most limit), and the pooled percentiles are printed beside it.
func (h *harness) sameRateComparison(action string, targeter vegeta.Targeter, rounds int, per time.Duration, limit float64) error {
	feed := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: h.base + "/douyin/feed/"})
	rate := vegeta.Rate{Freq: sameRate, Per: time.Second}
	names := []string{"feed, anonymous", action + " / un" + action}
	var pooled [2]vegeta.Metrics
	var ratios []float64
	say("\nsame rate, open loop (vegeta, %d req/s, %d alternating rounds of %s each):\n\n", sameRate, rounds, per)
	say("| round | feed p50 | feed p99 | %[1]s p50 | %[1]s p99 | %[1]s p99 / feed p99 |\n", action)
	sayln("|---|---|---|---|---|---|")
	for round := range rounds {
		var m [2]vegeta.Metrics
		for i, tr := range []vegeta.Targeter{feed, targeter} {
			attacker := vegeta.NewAttacker(vegeta.Workers(64), vegeta.KeepAlive(true))
			for res := range attacker.Attack(tr, rate, per, names[i]) {
				m[i].Add(res)
				pooled[i].Add(res)
			}
			m[i].Close()
			if m[i].Success < 1 {
				return fmt.Errorf("%s: %.1f%% success (%v)", names[i], 100*m[i].Success, m[i].Errors)
			}
		}
		ratio := float64(m[1].Latencies.P99) / float64(m[0].Latencies.P99)
		ratios = append(ratios, ratio)
		say("| %d | %s | %s | %s | %s | %.2f |\n", round+1, ms(m[0].Latencies.P50), ms(m[0].Latencies.P99),
			ms(m[1].Latencies.P50), ms(m[1].Latencies.P99), ratio)
	}
	for i := range pooled {
		pooled[i].Close()
	}
	say("| all | %s | %s | %s | %s | %.2f |\n", ms(pooled[0].Latencies.P50), ms(pooled[0].Latencies.P99),
		ms(pooled[1].Latencies.P50), ms(pooled[1].Latencies.P99), float64(pooled[1].Latencies.P99)/float64(pooled[0].Latencies.P99))
	say("\n%s p99 / feed p99, median round: %.2f (target ≤ %g)\n", action, medianOf(ratios), limit)
	return nil
}

func ms(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

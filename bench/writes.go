package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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
)

const (
	likers          = 200
	sameRate        = 150 // requests per second for the like vs feed comparison: within both capacities
	sameRateRounds  = 5
	sameRateFor     = 12 * time.Second // per round
	commentsOnVideo = 1000
)

// accounts registers n users, a few at a time, and returns their tokens.
func (h *harness) accounts(prefix string, n int) ([]string, error) {
	tokens := make([]string, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n {
		g.Go(func() (err error) {
			_, tokens[i], err = h.stack.Register(context.Background(), fmt.Sprintf("%s_%03d", prefix, i), benchPassword)
			return err
		})
	}
	return tokens, g.Wait()
}

// videoRange returns the smallest and largest video id.
func (h *harness) videoRange(ctx context.Context) (int64, int64, error) {
	db, err := sql.Open("postgres", h.cfg.DatabaseURL())
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
	var b strings.Builder
	b.WriteString("tokens = {")
	for i, t := range tokens {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q", t)
	}
	fmt.Fprintf(&b, "}\nmath.randomseed(%d)\n", time.Now().UnixNano()%1e9)
	fmt.Fprintf(&b, `request = function()
  local path = "/douyin/favorite/action/?video_id=" .. math.random(%d, %d) ..
    "&action_type=" .. math.random(1, 2) .. "&token=" .. tokens[math.random(#tokens)]
  return wrk.format("POST", path)
end
`, lo, hi)
	path := filepath.Join(h.work, "like.lua")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// streamBacklog reads how many events of a topic the consumer group has not finished:
// not yet delivered (lag) plus delivered but unacknowledged (pending).
func (h *harness) streamBacklog(topic, group string) (int64, error) {
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
	tokens, err := h.accounts("bench_liker", likers)
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
	if err := h.waitDrained(5 * time.Minute); err != nil {
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
	if err := h.waitDrained(5 * time.Minute); err != nil {
		return err
	}
	drain := time.Since(start)
	fmt.Printf("\nlikes: %d users liking and unliking random videos among %d\n\n", likers, hi-lo+1)
	fmt.Println("| endpoint | req/s | p50 | p99 |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| like / unlike (wrk -t%d -c%d -d%s) | %.0f | %s | %s |\n", threads, connections, measure, r.rps, r.p50, r.p99)
	fmt.Printf("\nconsumer: %d of %d events still unpersisted when the load stopped; drained in %s\n",
		backlog, r.requests, drain.Round(10*time.Millisecond))
	return h.sameRateComparison(tokens, lo, hi)
}

// waitDrained waits until the favorite consumer has persisted every event on the stream.
func (h *harness) waitDrained(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := h.streamBacklog("favorite.changed", "favorite")
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

// sameRateComparison offers the feed and the like action the same constant request rate (an
// open-loop load: requests are sent on schedule whatever the latency) and compares p99s. As in
// the feed stage the two alternate, so that machine noise hits both alike; the verdict is the
// median of the rounds' ratios, and the pooled percentiles are printed beside it.
func (h *harness) sameRateComparison(tokens []string, lo, hi int64) error {
	feed := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: h.base + "/douyin/feed/"})
	like := func(t *vegeta.Target) error {
		q := url.Values{
			"video_id":    {strconv.FormatInt(lo+rand.Int64N(hi-lo+1), 10)},
			"action_type": {strconv.Itoa(1 + rand.IntN(2))},
			"token":       {tokens[rand.IntN(len(tokens))]},
		}
		t.Method, t.URL = http.MethodPost, h.base+"/douyin/favorite/action/?"+q.Encode()
		return nil
	}
	rate := vegeta.Rate{Freq: sameRate, Per: time.Second}
	names := []string{"feed, anonymous", "like / unlike"}
	var pooled [2]vegeta.Metrics
	var ratios []float64
	fmt.Printf("\nsame rate, open loop (vegeta, %d req/s, %d alternating rounds of %s each):\n\n", sameRate, sameRateRounds, sameRateFor)
	fmt.Println("| round | feed p50 | feed p99 | like p50 | like p99 | like p99 / feed p99 |")
	fmt.Println("|---|---|---|---|---|---|")
	for round := range sameRateRounds {
		var m [2]vegeta.Metrics
		for i, tr := range []vegeta.Targeter{feed, like} {
			attacker := vegeta.NewAttacker(vegeta.Workers(64), vegeta.KeepAlive(true))
			for res := range attacker.Attack(tr, rate, sameRateFor, names[i]) {
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
		fmt.Printf("| %d | %s | %s | %s | %s | %.2f |\n", round+1, ms(m[0].Latencies.P50), ms(m[0].Latencies.P99),
			ms(m[1].Latencies.P50), ms(m[1].Latencies.P99), ratio)
	}
	for i := range pooled {
		pooled[i].Close()
	}
	fmt.Printf("| all | %s | %s | %s | %s | %.2f |\n", ms(pooled[0].Latencies.P50), ms(pooled[0].Latencies.P99),
		ms(pooled[1].Latencies.P50), ms(pooled[1].Latencies.P99), float64(pooled[1].Latencies.P99)/float64(pooled[0].Latencies.P99))
	fmt.Printf("\nlike p99 / feed p99, median round: %.2f (target ≤ 2)\n", medianOf(ratios))
	return nil
}

func ms(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// commentList measures the comment list of a video with commentsOnVideo comments.
func (h *harness) commentList(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	tokens, err := h.accounts("bench_commenter", 20)
	if err != nil {
		return err
	}
	_, hi, err := h.videoRange(ctx)
	if err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(16)
	for i := range commentsOnVideo {
		g.Go(func() error {
			q := url.Values{"video_id": {strconv.FormatInt(hi, 10)}, "action_type": {"1"},
				"comment_text": {fmt.Sprintf("comment number %d, with a little text to make it look real", i)},
				"token":        {tokens[i%len(tokens)]}}
			resp, err := http.Post(h.base+"/douyin/comment/action/?"+q.Encode(), "", nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			// A refused comment would leave a shorter list to measure.
			var out struct {
				StatusCode int    `json:"status_code"`
				StatusMsg  string `json:"status_msg"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.StatusCode != 0 {
				return fmt.Errorf("comment %d: %d %s %v", i, out.StatusCode, out.StatusMsg, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	listURL := fmt.Sprintf("%s/douyin/comment/list/?video_id=%d&token=%s", h.base, hi, tokens[0])
	if _, err := wrk(listURL, warmup); err != nil {
		return err
	}
	r, err := wrk(listURL, measure)
	if err != nil {
		return err
	}
	fmt.Printf("\ncomment list of a video with %d comments (wrk -t%d -c%d -d%s): %.0f req/s, p50 %s, p99 %s\n",
		commentsOnVideo, threads, connections, measure, r.rps, r.p50, r.p99)
	return nil
}

package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/doutok/doutok/tools/devstack"
)

type harness struct {
	stack  *devstack.Stack
	cfg    devstack.Config
	base   string
	work   string
	seeded bool
}

func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d cores, %s, %s", runtime.NumCPU(), model, runtime.Version())
}

// benchPassword is the password of every account the benchmark registers.
const benchPassword = "bench-password"

func ffmpeg(args ...string) error {
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return nil
}

// peakRSS reads a process's peak resident set size (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", pid)
}

func (h *harness) uploadMemory(ctx context.Context) error {
	path := filepath.Join(h.work, "big.mp4")
	// A real 1080p video cut at 62 MiB, just under the 64 MiB default limit.
	if err := ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "120",
		"-c:v", "mpeg4", "-q:v", "1", "-pix_fmt", "yuv420p", "-fs", strconv.Itoa(62<<20), path); err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	_, token, err := h.stack.Register(ctx, "bench_uploader", benchPassword)
	if err != nil {
		return err
	}
	procs := []string{"api", "api-dapr", "publish", "publish-dapr"}
	before := map[string]float64{}
	for _, p := range procs {
		before[p], _ = peakRSS(h.stack.PID(p))
	}
	start := time.Now()
	if err := h.stack.Upload(ctx, token, "a big one", path); err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Printf("upload of a %.1f MiB video: %s end to end\n\n", float64(info.Size())/(1<<20), took.Round(time.Millisecond))
	fmt.Println("| process | peak RSS before (MiB) | peak RSS after upload (MiB) |")
	fmt.Println("|---|---|---|")
	for _, p := range procs {
		after, err := peakRSS(h.stack.PID(p))
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.0f | %.0f |\n", p, before[p], after)
	}
	fmt.Println()
	return nil
}

// seed publishes one real video per author through the API, then adds the rest of the videos
// with SQL into the publish service's table and the feed's projection (hard links to the real
// files keep every play_url and cover_url working). Uploading 2,000 videos through ffmpeg would
// take longer than the measurement.
func (h *harness) seed(ctx context.Context) error {
	if h.seeded {
		return nil
	}
	h.seeded = true
	clip := filepath.Join(h.work, "clip.mp4")
	if err := ffmpeg("-f", "lavfi", "-i", "testsrc2=size=540x960:rate=25", "-t", "2", "-c:v", "libx264",
		"-preset", "ultrafast", "-pix_fmt", "yuv420p", clip); err != nil {
		return err
	}
	var authors []int64
	for i := range seedUsers {
		id, token, err := h.stack.Register(ctx, fmt.Sprintf("bench_author_%02d", i), benchPassword)
		if err != nil {
			return err
		}
		authors = append(authors, id)
		if i == 0 {
			if err := h.stack.Upload(ctx, token, "the real one", clip); err != nil {
				return err
			}
		}
	}
	db, err := sql.Open("postgres", h.cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer db.Close()
	var playKey, coverKey string
	if err := db.QueryRowContext(ctx, `SELECT play_key, cover_key FROM publish.videos LIMIT 1`).Scan(&playKey, &coverKey); err != nil {
		return err
	}
	media := h.stack.MediaDir()
	for i := range seedVideos {
		for _, key := range []string{playKey, coverKey} {
			if err := os.Link(filepath.Join(media, key), filepath.Join(media, fmt.Sprintf("bench%d-%s", i, key))); err != nil {
				return err
			}
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	steps := []struct {
		query string
		args  []any
	}{
		{`INSERT INTO feed.authors (author_id, name, signature, avatar, background_image)
			SELECT id, username, signature, avatar, background_image FROM accounts.accounts WHERE id = ANY($1)
			ON CONFLICT (author_id) DO NOTHING`, []any{pq.Array(authors)}},
		{`WITH v AS (
			INSERT INTO publish.videos (author_id, title, play_key, cover_key, published_at)
			SELECT ($1::bigint[])[1 + g % array_length($1::bigint[], 1)], 'bench video ' || g,
			       'bench' || g || '-' || $2, 'bench' || g || '-' || $3,
			       (extract(epoch FROM now()) * 1000)::bigint - 3600000 - g * 1000
			FROM generate_series(0, $4 - 1) AS g
			RETURNING id, author_id, title, play_key, cover_key, published_at)
		  INSERT INTO feed.timeline (video_id, author_id, title, play_key, cover_key, published_at)
		  SELECT id, author_id, title, play_key, cover_key, published_at FROM v`,
			[]any{pq.Array(authors), playKey, coverKey, seedVideos}},
		{`UPDATE feed.authors a SET work_count = (SELECT count(*) FROM feed.timeline t WHERE t.author_id = a.author_id)`, nil},
		{`UPDATE feed.timeline_version SET version = version + 1, newest = (SELECT max(published_at) FROM feed.timeline)`, nil},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return tx.Commit()
}

// rounds is how many times the feed and its baseline are measured in alternation.
const rounds = 3

// median returns the round with the median throughput.
func median(rs []wrkResult) wrkResult {
	sorted := append([]wrkResult(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].rps < sorted[j].rps })
	return sorted[len(sorted)/2]
}

// medianOf returns the median of xs (the upper one of an even count), leaving xs as it was.
func medianOf(xs []float64) float64 {
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

type wrkResult struct {
	rps      float64
	requests int64
	p50, p99 time.Duration
	non2xx   string
}

var (
	rpsLine     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latencyLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxLine  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	totalLine   = regexp.MustCompile(`(\d+) requests in`)
)

// wrk runs the load generator against url for d and parses its summary.
func wrk(url string, d time.Duration, extra ...string) (wrkResult, error) {
	args := append([]string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}, extra...)
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r wrkResult
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no throughput in wrk output: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, m := range latencyLine.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[3])]
		lat := time.Duration(v * float64(unit))
		if string(m[1]) == "50" {
			r.p50 = lat
		} else {
			r.p99 = lat
		}
	}
	if m := non2xxLine.FindSubmatch(out); m != nil {
		r.non2xx = string(m[1])
	}
	if m := totalLine.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	return r, nil
}

func (h *harness) feedThroughput(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	targets := []struct{ name, url string }{
		{"trivial (api → 2 sidecars → feed ping)", h.base + "/healthz/feed"},
		{"feed, anonymous, newest page (30 videos)", h.base + "/douyin/feed/"},
	}
	for _, t := range targets {
		if _, err := wrk(t.url, warmup); err != nil {
			return err
		}
	}
	// The two are measured in alternation, rounds times, and each is summarised by its median
	// round: machine noise then hits both alike instead of skewing one of them.
	runs := make([][]wrkResult, len(targets))
	for range rounds {
		for i, t := range targets {
			r, err := wrk(t.url, measure/rounds)
			if err != nil {
				return err
			}
			if r.non2xx != "" {
				return fmt.Errorf("%s: %s non-2xx responses", t.name, r.non2xx)
			}
			runs[i] = append(runs[i], r)
		}
	}
	fmt.Printf("wrk -t%d -c%d, %d alternating rounds of %s each (after a %s warm-up), %d videos seeded; medians:\n\n",
		threads, connections, rounds, measure/rounds, warmup, seedVideos+1)
	fmt.Println("| endpoint | req/s | p50 | p99 |")
	fmt.Println("|---|---|---|---|")
	medians := make([]wrkResult, len(targets))
	for i, t := range targets {
		medians[i] = median(runs[i])
		fmt.Printf("| %s | %.0f | %s | %s |\n", t.name, medians[i].rps, medians[i].p50, medians[i].p99)
	}
	// Each round pairs the two measurements taken side by side, so the verdict is the median of
	// the rounds' ratios (as in the likes stage); the ratio of the medians is printed beside it.
	ratios := make([]float64, rounds)
	for k := range rounds {
		ratios[k] = runs[1][k].rps / runs[0][k].rps
	}
	fmt.Print("\nfeed / trivial throughput per round:")
	for _, r := range ratios {
		fmt.Printf(" %.2f", r)
	}
	fmt.Printf("; median round %.2f (target ≥ 0.50); ratio of the medians %.2f\n", medianOf(ratios), medians[1].rps/medians[0].rps)
	return nil
}

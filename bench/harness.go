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
	db, err := sql.Open("pgx", h.cfg.DatabaseURL())
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
			ON CONFLICT (author_id) DO NOTHING`, []any{authors}},
		{`WITH v AS (
			INSERT INTO publish.videos (author_id, title, play_key, cover_key, published_at)
			SELECT ($1::bigint[])[1 + g % array_length($1::bigint[], 1)], 'bench video ' || g,
			       'bench' || g || '-' || $2, 'bench' || g || '-' || $3,
			       (extract(epoch FROM now()) * 1000)::bigint - 3600000 - g * 1000
			FROM generate_series(0, $4 - 1) AS g
			RETURNING id, author_id, title, play_key, cover_key, published_at)
		  INSERT INTO feed.timeline (video_id, author_id, title, play_key, cover_key, published_at)
		  SELECT id, author_id, title, play_key, cover_key, published_at FROM v`,
			[]any{authors, playKey, coverKey, seedVideos}},
		{`UPDATE feed.authors a SET work_count = (SELECT count(*) FROM feed.timeline t WHERE t.author_id = a.author_id)`, nil},
		{`UPDATE feed.timeline_version SET version = version + 1, newest = (SELECT max(published_at) FROM feed.timeline)`, nil},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// The authors' work counts are publish's read model: rebuilt from the rows just written.
	return h.stack.RebuildReadModel(ctx, "publish")
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
	timeouts string // requests wrk gave up on (after 2 s unless told): missing from the latencies
}

var (
	rpsLine     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latencyLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxLine  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	totalLine   = regexp.MustCompile(`(\d+) requests in`)
	timeoutLine = regexp.MustCompile(`Socket errors: .*timeout ([1-9]\d*)`)
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
	if m := timeoutLine.FindSubmatch(out); m != nil {
		r.timeouts = string(m[1])
	}
	if m := totalLine.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	return r, nil
}

// endpoint is a URL measured with wrk; with a script, the script's requests go to that host.
// A slow endpoint sets a timeout above its slowest answers (wrk's default is 2 s).
type endpoint struct {
	name, url, script string
	timeout           time.Duration
}

func (e endpoint) wrk(d time.Duration) (wrkResult, error) {
	var extra []string
	if e.script != "" {
		extra = append(extra, "-s", e.script)
	}
	if e.timeout > 0 {
		extra = append(extra, "--timeout", fmt.Sprintf("%ds", int(e.timeout.Seconds())))
	}
	return wrk(e.url, d, extra...)
}

// alternate warms every endpoint up, then measures them in alternation, rounds times, so that
// machine noise hits them all alike instead of skewing one of them. runs[i][k] is endpoint i in
// round k.
func alternate(eps []endpoint) ([][]wrkResult, error) {
	for _, e := range eps {
		if _, err := e.wrk(warmup); err != nil {
			return nil, err
		}
	}
	runs := make([][]wrkResult, len(eps))
	for range rounds {
		for i, e := range eps {
			r, err := e.wrk(measure / rounds)
			if err != nil {
				return nil, err
			}
			if r.non2xx != "" || r.timeouts != "" {
				return nil, fmt.Errorf("%s: non-2xx responses %q, timeouts %q", e.name, r.non2xx, r.timeouts)
			}
			runs[i] = append(runs[i], r)
		}
	}
	return runs, nil
}

// printMedians prints each endpoint's median round and returns them.
func printMedians(eps []endpoint, runs [][]wrkResult) []wrkResult {
	fmt.Println("| endpoint | req/s | p50 | p99 |")
	fmt.Println("|---|---|---|---|")
	medians := make([]wrkResult, len(eps))
	for i, e := range eps {
		medians[i] = median(runs[i])
		fmt.Printf("| %s | %.0f | %s | %s |\n", e.name, medians[i].rps, medians[i].p50, medians[i].p99)
	}
	return medians
}

// printRatio prints the throughput of endpoint i over that of endpoint 0 (the baseline) in
// every round. Each round pairs two measurements taken side by side, so the verdict is the median
// of the rounds' ratios, against target (informational when 0); the ratio of the medians is
// printed beside it.
func printRatio(label string, runs [][]wrkResult, medians []wrkResult, i int, target float64) {
	ratios := make([]float64, len(runs[i]))
	for k := range ratios {
		ratios[k] = runs[i][k].rps / runs[0][k].rps
	}
	fmt.Printf("%s throughput per round:", label)
	for _, r := range ratios {
		fmt.Printf(" %.2f", r)
	}
	goal := "informational"
	if target > 0 {
		goal = fmt.Sprintf("target ≥ %.2f", target)
	}
	fmt.Printf("; median round %.2f (%s); ratio of the medians %.2f\n", medianOf(ratios), goal, medians[i].rps/medians[0].rps)
}

// trivial takes the same path as every read (gateway → sidecar → sidecar → feed service) and
// does nothing: the baseline of the read endpoints.
func (h *harness) trivial() endpoint {
	return endpoint{name: "trivial (api → 2 sidecars → feed ping)", url: h.base + "/healthz/feed"}
}

func (h *harness) feedThroughput(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	eps := []endpoint{h.trivial(), {name: "feed, anonymous, newest page (30 videos)", url: h.base + "/douyin/feed/"}}
	runs, err := alternate(eps)
	if err != nil {
		return err
	}
	fmt.Printf("wrk -t%d -c%d, %d alternating rounds of %s each (after a %s warm-up), %d videos seeded; medians:\n\n",
		threads, connections, rounds, measure/rounds, warmup, seedVideos+1)
	medians := printMedians(eps, runs)
	printRatio("\nfeed / trivial", runs, medians, 1, 0.5)
	return nil
}

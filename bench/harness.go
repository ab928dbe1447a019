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
	load := "?"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	return fmt.Sprintf("%d cores, %s, %s; load average at start %s", runtime.NumCPU(), model, runtime.Version(), load)
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
	say("upload of a %.1f MiB video: %s end to end\n\n", float64(info.Size())/(1<<20), took.Round(time.Millisecond))
	sayln("| process | peak RSS before (MiB) | peak RSS after upload (MiB) |")
	sayln("|---|---|---|")
	for _, p := range procs {
		after, err := peakRSS(h.stack.PID(p))
		if err != nil {
			return err
		}
		say("| %s | %.0f | %.0f |\n", p, before[p], after)
	}
	sayln()
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
	if _, err := h.addVideos(ctx, db, authors, seedVideos, "bench", time.Hour); err != nil {
		return err
	}
	// The authors' work counts are publish's read model: rebuilt from the rows just written.
	return h.rebuildReadModels(ctx, "publish")
}

// addVideos adds n videos by SQL to publish's table and feed's projection, spread over authors
// and published a second apart, the newest olderBy before now; each is a hard link to the files
// of the real upload (named prefix<i>-<key>), so every play_url and cover_url works. It returns
// their ids, newest first. The caller rebuilds publish's read model.
func (h *harness) addVideos(ctx context.Context, db *sql.DB, authors []int64, n int, prefix string, olderBy time.Duration) ([]int64, error) {
	var playKey, coverKey string
	if err := db.QueryRowContext(ctx, `SELECT play_key, cover_key FROM publish.videos WHERE title = 'the real one'`).Scan(&playKey, &coverKey); err != nil {
		return nil, err
	}
	media := h.stack.StoredMediaDir()
	for i := range n {
		for _, key := range []string{playKey, coverKey} {
			if err := os.Link(filepath.Join(media, key), filepath.Join(media, fmt.Sprintf("%s%d-%s", prefix, i, key))); err != nil {
				return nil, err
			}
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed.authors (author_id, name, signature, avatar, background_image)
		SELECT id, username, signature, avatar, background_image FROM accounts.accounts WHERE id = ANY($1)
		ON CONFLICT (author_id) DO NOTHING`, authors); err != nil {
		return nil, fmt.Errorf("seed authors: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `WITH v AS (
			INSERT INTO publish.videos (author_id, title, play_key, cover_key, published_at)
			SELECT ($1::bigint[])[1 + g % array_length($1::bigint[], 1)], 'bench video ' || g,
			       $2 || g || '-' || $3, $2 || g || '-' || $4,
			       (extract(epoch FROM now()) * 1000)::bigint - $5 - g * 1000
			FROM generate_series(0, $6 - 1) AS g
			RETURNING id, author_id, title, play_key, cover_key, published_at)
		INSERT INTO feed.timeline (video_id, author_id, title, play_key, cover_key, published_at)
		SELECT id, author_id, title, play_key, cover_key, published_at FROM v
		RETURNING video_id, published_at`,
		authors, prefix, playKey, coverKey, olderBy.Milliseconds(), n)
	if err != nil {
		return nil, fmt.Errorf("seed videos: %w", err)
	}
	type video struct{ id, at int64 }
	var videos []video
	for rows.Next() {
		var v video
		if err := rows.Scan(&v.id, &v.at); err != nil {
			return nil, err
		}
		videos = append(videos, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	slices.SortFunc(videos, func(a, b video) int { return int(b.at - a.at) })
	ids := make([]int64, len(videos))
	for i, v := range videos {
		ids[i] = v.id
	}
	return ids, nil
}

// rebuildReadModels makes each owner rebuild its read model in the state store from its
// PostgreSQL tables, after the bench wrote rows there directly, and waits until all have: the
// services' own mechanism for a state store that lost its data (hotmodel.KeepRestored) is started by
// deleting the marker "<owner>:hot-model", and done when the marker is back. The one place that
// knows this mechanism; a big seed may take minutes on the old designs (BENCH_REBUILD_WAIT, default
// 15m).
func (h *harness) rebuildReadModels(ctx context.Context, owners ...string) error {
	limit := 15 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("BENCH_REBUILD_WAIT")); err == nil {
		limit = d
	}
	redis := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(h.cfg.RedisPort)}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	start := time.Now()
	for _, owner := range owners {
		if out, err := redis("DEL", "statestore||"+owner+":hot-model"); err != nil {
			return fmt.Errorf("redis-cli DEL: %w: %s", err, out)
		}
	}
	for _, owner := range owners {
		marker := "statestore||" + owner + ":hot-model"
		for {
			out, err := redis("EXISTS", marker)
			if err == nil && out == "1" {
				break
			}
			if time.Since(start) > limit {
				return fmt.Errorf("%s did not rebuild its read model within %s (EXISTS %s: %s %v)", owner, limit, marker, out, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		say("(read models of %s rebuilt from PostgreSQL in %s)\n", strings.Join(owners, ", "), took.Round(time.Second))
	}
	return nil
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
	// Written by the scripts of checkedScript: answers that were not a success envelope, and
	// how many times the feed's workers reached the end and started again from the newest page.
	refused, restarts int64
}

// errors counts every request that failed: an HTTP error, a timeout, or a refusal in the envelope.
func (r wrkResult) errors() int64 {
	non2xx, _ := strconv.ParseInt(r.non2xx, 10, 64)
	timeouts, _ := strconv.ParseInt(r.timeouts, 10, 64)
	return non2xx + timeouts + r.refused
}

var (
	rpsLine     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latencyLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxLine  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	totalLine   = regexp.MustCompile(`(\d+) requests in`)
	timeoutLine = regexp.MustCompile(`Socket errors: .*timeout ([1-9]\d*)`)
	refusedLine = regexp.MustCompile(`bench-refused: (\d+)`)
	restartLine = regexp.MustCompile(`bench-restarts: (\d+)`)
)

// wrk runs the load generator against url for d and parses its summary.
func wrk(url string, d time.Duration, extra ...string) (wrkResult, error) {
	return wrkThreads(threads, url, d, extra...)
}

// wrkThreads is wrk with t threads.
func wrkThreads(t int, url string, d time.Duration, extra ...string) (wrkResult, error) {
	args := append([]string{"-t", strconv.Itoa(t), "-c", strconv.Itoa(connections),
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
	if m := refusedLine.FindSubmatch(out); m != nil {
		r.refused, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := restartLine.FindSubmatch(out); m != nil {
		r.restarts, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	return r, nil
}

// endpoint is a URL measured with wrk; with a script, the script's requests go to that host.
// A slow endpoint sets a timeout above its slowest answers (wrk's default is 2 s). threads (0:
// the usual 2) is one per connection where a script keeps state per worker.
type endpoint struct {
	name, url, script string
	timeout           time.Duration
	threads           int
	// For the open-loop run at half the peak rate (reads.go): the paths of the requests, drawn
	// at random, or in turn when inTurn (the pages of a scroll).
	paths  []string
	inTurn bool
	target float64 // the share of the trivial hop's throughput to reach; 0 = informational
}

func (e endpoint) wrk(d time.Duration) (wrkResult, error) {
	var extra []string
	if e.script != "" {
		extra = append(extra, "-s", e.script)
	}
	if e.timeout > 0 {
		extra = append(extra, "--timeout", fmt.Sprintf("%ds", int(e.timeout.Seconds())))
	}
	t := threads
	if e.threads > 0 {
		t = e.threads
	}
	return wrkThreads(t, e.url, d, extra...)
}

// alternate warms every endpoint up, then measures them in alternation, rounds times, so that
// machine noise hits them all alike instead of skewing one of them. runs[i][k] is endpoint i in
// round k. Failed requests are counted (printMedians shows them), not fatal.
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
			if err := alive(); err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], r)
		}
	}
	return runs, nil
}

// printMedians prints each endpoint's median round, its share of the baseline's (endpoint 0)
// throughput, and the failed requests of all rounds; it returns the medians.
func printMedians(eps []endpoint, runs [][]wrkResult) []wrkResult {
	sayln("| endpoint | req/s | p50 | p99 | share of trivial | failed requests |")
	sayln("|---|---|---|---|---|---|")
	medians := make([]wrkResult, len(eps))
	for i, e := range eps {
		medians[i] = median(runs[i])
		var failed int64
		for _, r := range runs[i] {
			failed += r.errors()
		}
		share := ""
		if i > 0 {
			share = fmt.Sprintf("%.0f %%", 100*medians[i].rps/medians[0].rps)
		}
		say("| %s | %.0f | %s | %s | %s | %d |\n", e.name, medians[i].rps, medians[i].p50, medians[i].p99, share, failed)
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
	say("%s throughput per round:", label)
	for _, r := range ratios {
		say(" %.2f", r)
	}
	goal := "informational"
	if target > 0 {
		goal = fmt.Sprintf("target ≥ %.2f", target)
	}
	say("; median round %.2f (%s); ratio of the medians %.2f\n", medianOf(ratios), goal, medians[i].rps/medians[0].rps)
	if target > 0 {
		judge(label+" throughput, median round", fmt.Sprintf("%.2f", medianOf(ratios)), fmt.Sprintf("≥ %.2f", target), medianOf(ratios) >= target)
	}
}

// trivial takes the same path as every read (gateway → sidecar → sidecar → feed service) and
// does nothing: the baseline of the read endpoints.
func (h *harness) trivial() endpoint {
	return endpoint{name: "trivial (api → 2 sidecars → feed ping)", url: h.base + "/healthz/feed"}
}

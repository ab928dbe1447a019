package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The read stages (feed, lists) give every wrk thread one connection: a worker is a thread, so
// its Lua state is the worker's own (a feed worker's place in the scroll). wrk keeps per-thread,
// not per-connection, state; with two threads sharing 32 connections, a response could not be
// tied to the worker that asked. The trivial hop is measured the same way in the same rounds.
// A Go load client would have the same per-worker state but spend more of the box's two cores
// per request than wrk's C and LuaJIT, and that cost weighs most on the fastest endpoint, the
// trivial hop: every share would read high.
const (
	readWorkers = connections
	halfPeakFor = 8 * time.Second // the open-loop run at half the peak rate, per endpoint
	readers     = 100             // logged-in users of the list stage, each with likesPerReader likes
	// likesPerReader is the length of a favorite list; commentVideos videos carry
	// commentsPerVideo comments each.
	likesPerReader   = 30
	commentVideos    = 5
	commentsPerVideo = 300
	// commentListCap is how many comments a list answers: the newest 100 (README, comments).
	commentListCap = 100
)

// checkedLua is the part of every read stage's wrk script that checks each answer: anything but
// HTTP 200 with status_code 0 counts as refused (wrk itself only counts HTTP errors). The script's
// own part may define assign(thread, n) (called for the n-th thread before it starts),
// answered(body) and failed(). done() prints the counts for wrk's caller.
const checkedLua = `local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("worker", #threads)
  if assign then assign(thread, #threads) end
end
function init(args)
  refused, restarts = 0, 0
  math.randomseed(seed + worker)
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"status_code":0,', 1, true) then
    refused = refused + 1
    if failed then failed() end
    return
  end
  if answered then answered(body) end
end
function done(summary, latency, requests)
  local r, s = 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("refused")
    s = s + t:get("restarts")
  end
  io.write(string.format("bench-refused: %d\nbench-restarts: %d\n", r, s))
end
`

// scrollLua scrolls like the app: from the newest page, each request asks for what was
// published before the previous answer's next_time; an empty page sends the worker back to the
// newest. With tokens, each worker is one of those users.
const scrollLua = `latest = nil
function request()
  local path = "/douyin/feed/?"
  if latest then path = path .. "latest_time=" .. latest .. "&" end
  if token then path = path .. "token=" .. token end
  return wrk.format("GET", path)
end
function answered(body)
  if string.find(body, '"video_list":[]', 1, true) then
    latest = nil
    restarts = restarts + 1
  else
    latest = string.match(body, '"next_time":(%d+)')
  end
end
function failed() latest = nil end
`

// readEndpoint is an endpoint of the read stages: one connection per wrk thread, every answer
// checked.
func (h *harness) readEndpoint(name, script string, paths []string, inTurn bool, target float64) (endpoint, error) {
	path, err := h.script(strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(name), checkedLua+script)
	return endpoint{name: name, url: h.base + paths[0], script: path, threads: readWorkers,
		paths: paths, inTurn: inTurn, target: target}, err
}

// randomPathsLua requests a random one of paths each time.
func randomPathsLua(paths []string) string {
	return fmt.Sprintf(`paths = %s
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
`, luaStrings(paths))
}

// trivialRead is the trivial hop as the read stages measure it.
func (h *harness) trivialRead() (endpoint, error) {
	return h.readEndpoint(h.trivial().name, "", []string{"/healthz/feed"}, false, 0)
}

// feedReads measures the feed, anonymous and logged in, against the trivial hop: the newest page
// alone, and workers that scroll page by page to the end and start again.
func (h *harness) feedReads(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	_, tokens, err := h.accounts("bench_scroller", readWorkers)
	if err != nil {
		return err
	}
	chain, err := h.scrollOnce(ctx)
	if err != nil {
		return err
	}
	trivial, err := h.trivialRead()
	if err != nil {
		return err
	}
	newest, err := h.readEndpoint("feed, newest page only, anonymous", "", []string{"/douyin/feed/"}, false, 0.5)
	if err != nil {
		return err
	}
	anonymous, err := h.readEndpoint("feed, scrolling, anonymous", scrollLua, chain, true, 0.5)
	if err != nil {
		return err
	}
	withTokens := make([]string, len(chain))
	for i, p := range chain {
		withTokens[i] = withQuery(p, "token="+tokens[i%len(tokens)])
	}
	loggedIn, err := h.readEndpoint("feed, scrolling, logged in",
		fmt.Sprintf("tokens = %s\nfunction assign(thread, n) thread:set(\"token\", tokens[n]) end\n", luaStrings(tokens))+scrollLua,
		withTokens, true, 0.5)
	if err != nil {
		return err
	}
	eps := []endpoint{trivial, newest, anonymous, loggedIn}
	runs, err := alternate(eps)
	if err != nil {
		return err
	}
	say("feed: %d videos seeded, a scroll is %d pages (the last one empty); %d workers (wrk -t%d -c%d, a thread per worker),\n"+
		"%d alternating rounds of %s each after a %s warm-up; medians:\n\n",
		seedVideos+1, len(chain), readWorkers, readWorkers, connections, rounds, measure/rounds, warmup)
	medians := printMedians(eps, runs)
	for i := 2; i < len(eps); i++ {
		var restarts int64
		for _, r := range runs[i] {
			restarts += r.restarts
		}
		say("\n%s: the workers reached the end and started again %d times in %d rounds", eps[i].name, restarts, rounds)
	}
	sayln()
	return h.judgeReads(eps, runs, medians)
}

// scrollOnce scrolls the whole feed anonymously, checking that it shows every video once, newest
// first, and returns the path of every page in turn, the final empty page included.
func (h *harness) scrollOnce(ctx context.Context) ([]string, error) {
	db, err := sql.Open("pgx", h.cfg.DatabaseURL())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM publish.videos`).Scan(&total); err != nil {
		return nil, err
	}
	paths := []string{"/douyin/feed/"}
	seen := map[int64]bool{}
	for {
		var page struct {
			VideoList []struct {
				ID int64 `json:"id"`
			} `json:"video_list"`
			NextTime int64 `json:"next_time"`
		}
		if err := h.api(http.MethodGet, paths[len(paths)-1], &page); err != nil {
			return nil, err
		}
		if len(page.VideoList) == 0 {
			break
		}
		for _, v := range page.VideoList {
			if seen[v.ID] {
				return nil, fmt.Errorf("feed: video %d shown twice in one scroll", v.ID)
			}
			seen[v.ID] = true
		}
		paths = append(paths, fmt.Sprintf("/douyin/feed/?latest_time=%d", page.NextTime))
	}
	if len(seen) != total {
		return nil, fmt.Errorf("feed: a scroll showed %d videos of %d", len(seen), total)
	}
	return paths, nil
}

// withQuery adds a parameter to a path that may have a query already.
func withQuery(path, param string) string {
	if strings.Contains(path, "?") {
		return path + "&" + param
	}
	return path + "?" + param
}

// listReads measures the lists against the trivial hop, each request for a random user or
// video: user info, publish list, favorite list, and the comment list of a video with
// commentsPerVideo comments.
func (h *harness) listReads(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	seeded, err := h.seedLists(ctx)
	if err != nil {
		return err
	}
	viewer := func() string { return seeded.tokens[rand.IntN(len(seeded.tokens))] }
	var userInfo, publishList, favoriteList, commentList []string
	everyone := append(append([]int64(nil), seeded.authors...), seeded.readers...)
	for range 1000 {
		userInfo = append(userInfo, fmt.Sprintf("/douyin/user/?user_id=%d&token=%s", everyone[rand.IntN(len(everyone))], viewer()))
		publishList = append(publishList, fmt.Sprintf("/douyin/publish/list/?user_id=%d&token=%s", seeded.authors[rand.IntN(len(seeded.authors))], viewer()))
		favoriteList = append(favoriteList, fmt.Sprintf("/douyin/favorite/list/?user_id=%d&token=%s", seeded.readers[rand.IntN(len(seeded.readers))], viewer()))
		commentList = append(commentList, fmt.Sprintf("/douyin/comment/list/?video_id=%d&token=%s", seeded.commented[rand.IntN(len(seeded.commented))], viewer()))
	}
	trivial, err := h.trivialRead()
	if err != nil {
		return err
	}
	eps := []endpoint{trivial}
	for _, e := range []struct {
		name   string
		paths  []string
		target float64
	}{
		{fmt.Sprintf("user info, random user of %d, logged in", len(everyone)), userInfo, 0.4},
		{fmt.Sprintf("publish list, random author of %d (%d videos each)", len(seeded.authors), (seedVideos+1)/seedUsers), publishList, 0.3},
		{fmt.Sprintf("favorite list, random user of %d (%d likes each)", readers, likesPerReader), favoriteList, 0.3},
		{fmt.Sprintf("comment list, random video of %d (%d comments each)", commentVideos, commentsPerVideo), commentList, 0.15},
	} {
		ep, err := h.readEndpoint(e.name, randomPathsLua(e.paths), e.paths, false, e.target)
		if err != nil {
			return err
		}
		eps = append(eps, ep)
	}
	runs, err := alternate(eps)
	if err != nil {
		return err
	}
	say("lists: %d workers (wrk -t%d -c%d), each request for a random user or video, logged in as a random reader;\n"+
		"%d alternating rounds of %s each after a %s warm-up; medians:\n\n", readWorkers, readWorkers, connections, rounds, measure/rounds, warmup)
	medians := printMedians(eps, runs)
	sayln()
	return h.judgeReads(eps, runs, medians)
}

type listSeed struct {
	authors, readers []int64
	tokens           []string
	commented        []int64
}

// seedLists registers the readers, and writes by SQL their likes (likesPerReader random videos
// each) and commentsPerVideo comments by random readers on each of commentVideos random videos;
// then the owners rebuild their read models, and one list of each kind is checked.
func (h *harness) seedLists(ctx context.Context) (listSeed, error) {
	var s listSeed
	var err error
	s.readers, s.tokens, err = h.accounts("bench_reader", readers)
	if err != nil {
		return s, err
	}
	db, err := sql.Open("pgx", h.cfg.DatabaseURL())
	if err != nil {
		return s, err
	}
	defer db.Close()
	videos, err := ids(ctx, db, `SELECT id FROM publish.videos WHERE title LIKE 'bench video %' ORDER BY id`)
	if err != nil {
		return s, err
	}
	if s.authors, err = ids(ctx, db, `SELECT id FROM accounts.accounts WHERE username LIKE 'bench\_author\_%' ORDER BY id`); err != nil {
		return s, err
	}
	var likeUsers, likeVideos []int64
	for _, u := range s.readers {
		for _, k := range rand.Perm(len(videos))[:likesPerReader] {
			likeUsers, likeVideos = append(likeUsers, u), append(likeVideos, videos[k])
		}
	}
	var commentUsers, commentOn []int64
	for _, k := range rand.Perm(len(videos))[:commentVideos] {
		s.commented = append(s.commented, videos[k])
		for range commentsPerVideo {
			commentUsers, commentOn = append(commentUsers, s.readers[rand.IntN(len(s.readers))]), append(commentOn, videos[k])
		}
	}
	if err := insertLikes(ctx, db, likeUsers, likeVideos); err != nil {
		return s, err
	}
	if err := insertComments(ctx, db, commentUsers, commentOn); err != nil {
		return s, err
	}
	if err := h.rebuildReadModels(ctx, "favorite", "comment"); err != nil {
		return s, err
	}
	var favorites struct {
		VideoList []struct{} `json:"video_list"`
	}
	if err := h.api(http.MethodGet, fmt.Sprintf("/douyin/favorite/list/?user_id=%d&token=%s", s.readers[0], s.tokens[0]), &favorites); err != nil {
		return s, err
	}
	var comments struct {
		CommentList []struct{} `json:"comment_list"`
	}
	if err := h.api(http.MethodGet, fmt.Sprintf("/douyin/comment/list/?video_id=%d&token=%s", s.commented[0], s.tokens[0]), &comments); err != nil {
		return s, err
	}
	if len(favorites.VideoList) != likesPerReader || len(comments.CommentList) != min(commentsPerVideo, commentListCap) {
		return s, fmt.Errorf("seeded lists: a favorite list of %d videos (want %d), a comment list of %d (want %d)",
			len(favorites.VideoList), likesPerReader, len(comments.CommentList), min(commentsPerVideo, commentListCap))
	}
	return s, nil
}

// ids runs a query of one column of ids.
func ids(ctx context.Context, db *sql.DB, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// insertLikes writes likes (users[i] likes videos[i]) into favorite's table, as its consumer
// would persist them, liked a millisecond apart in order.
func insertLikes(ctx context.Context, db *sql.DB, users, videos []int64) error {
	_, err := db.ExecContext(ctx, `INSERT INTO favorite.likes (user_id, video_id, author_id, liked, changed_at, event_id)
		SELECT l.u, l.v, p.author_id, true, (extract(epoch FROM now()) * 1000)::bigint - $3 + l.k, 'bench-seed-' || l.u || '-' || l.v
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS l(u, v, k) JOIN publish.videos p ON p.id = l.v
		ON CONFLICT DO NOTHING`, users, videos, len(users))
	if err != nil {
		return fmt.Errorf("seed likes: %w", err)
	}
	return nil
}

// insertComments writes comments (users[i] on videos[i]) into comment's table, as its consumer
// would persist them, written a millisecond apart in order.
func insertComments(ctx context.Context, db *sql.DB, users, videos []int64) error {
	_, err := db.ExecContext(ctx, `INSERT INTO comment.comments (id, video_id, user_id, content, created_at)
		SELECT nextval('comment.comment_ids'), l.v, l.u, 'comment number ' || l.k || ', with a little text to make it look real',
		       (extract(epoch FROM now()) * 1000)::bigint - $3 + l.k
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS l(u, v, k)`, users, videos, len(users))
	if err != nil {
		return fmt.Errorf("seed comments: %w", err)
	}
	return nil
}

// judgeReads prints the verdicts of the read endpoints (all but the trivial hop, eps[0]): the
// share of the trivial hop's throughput (median of the rounds' ratios), then, in an open-loop run
// at half the measured peak, p99 within ten times p50, and no failed request anywhere.
func (h *harness) judgeReads(eps []endpoint, runs [][]wrkResult, medians []wrkResult) error {
	for i := 1; i < len(eps); i++ {
		printRatio(eps[i].name+" / trivial", runs, medians, i, eps[i].target)
	}
	say("\nopen loop at half the peak (vegeta, %s per endpoint; a scroll's pages in turn, other paths at random):\n\n", halfPeakFor)
	sayln("| endpoint | rate (req/s) | p50 | p99 | p99 / p50 | failed requests |")
	sayln("|---|---|---|---|---|---|")
	type half struct {
		p50, p99 time.Duration
		failed   int64
	}
	halves := make([]half, len(eps))
	for i := 1; i < len(eps); i++ {
		rate := medians[i].rps / 2
		m, failed := h.openLoop(eps[i], rate, halfPeakFor)
		if err := alive(); err != nil {
			return err
		}
		halves[i] = half{m.Latencies.P50, m.Latencies.P99, failed}
		say("| %s | %.0f | %s | %s | %.1f | %d |\n", eps[i].name, rate, ms(m.Latencies.P50), ms(m.Latencies.P99),
			float64(m.Latencies.P99)/float64(m.Latencies.P50), failed)
	}
	sayln()
	for i := 1; i < len(eps); i++ {
		ratio := float64(halves[i].p99) / float64(halves[i].p50)
		judge(eps[i].name+", p99 / p50 at half the peak", fmt.Sprintf("%.1f", ratio), "≤ 10", ratio <= 10)
		failed := halves[i].failed
		for _, r := range runs[i] {
			failed += r.errors()
		}
		judge(eps[i].name+", failed requests (closed and open loop)", fmt.Sprint(failed), "0", failed == 0)
	}
	return nil
}

// openLoop offers e's paths at rate for d, whatever the latency, and returns the metrics and how
// many requests failed (an HTTP or transport error, or a refusal in the envelope).
func (h *harness) openLoop(e endpoint, rate float64, d time.Duration) (vegeta.Metrics, int64) {
	var next atomic.Int64
	targeter := func(t *vegeta.Target) error {
		k := rand.IntN(len(e.paths))
		if e.inTurn {
			k = int(next.Add(1)-1) % len(e.paths)
		}
		t.Method, t.URL = http.MethodGet, h.base+e.paths[k]
		return nil
	}
	return attack(targeter, rate, d, e.name)
}

// attack runs one open-loop vegeta attack and counts the failed requests.
func attack(targeter vegeta.Targeter, rate float64, d time.Duration, name string) (vegeta.Metrics, int64) {
	var m vegeta.Metrics
	failed := attackEach(targeter, rate, d, name, m.Add)
	m.Close()
	return m, failed
}

// attackEach runs one open-loop vegeta attack, hands each result to each, and counts the failed
// requests.
func attackEach(targeter vegeta.Targeter, rate float64, d time.Duration, name string, each func(*vegeta.Result)) int64 {
	var failed int64
	attacker := vegeta.NewAttacker(vegeta.Workers(64), vegeta.KeepAlive(true))
	for res := range attacker.Attack(targeter, vegeta.ConstantPacer{Freq: int(rate + 0.5), Per: time.Second}, d, name) {
		each(res)
		if !succeeded(res) {
			failed++
		}
	}
	return failed
}

// succeeded tells whether an answer is a success envelope.
func succeeded(res *vegeta.Result) bool {
	return res.Error == "" && res.Code == http.StatusOK && bytes.Contains(res.Body, []byte(`"status_code":0,`))
}

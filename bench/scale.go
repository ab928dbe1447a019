package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The scaling stage: does an action cost the same on big data as on none? It uses only the
// public API and SQL on the persisted tables (services/*/migrations), so it measures whatever
// design the services have.
// The sizes of the target; BENCH_SCALE_DIVISOR divides them, to try the stage quickly (the
// table says so).
var (
	scaleDivisor = max(1, atoiOr(os.Getenv("BENCH_SCALE_DIVISOR"), 1))
	bigLikes     = 100_000 / scaleDivisor // likes of the big video, one per fan
	bigComments  = 20_000 / scaleDivisor  // comments on the big video
	heavyLikes   = 50_000 / scaleDivisor  // videos the heavy user likes
)

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

const (
	scaleRate   = 40 // req/s of every action measured, on big data and on none alike
	scaleRounds = 3
	scalePhase  = 5 * time.Second // one action on one subject, per round
	scaleActors = scaleRate * int(scalePhase/time.Second)
	scaleLimit  = 1.5 // the most an action on big data may cost, in p50 and p99, over none
	settleLimit = 2 * time.Minute
)

// scaleSubjects is what the stage acts on.
type scaleSubjects struct {
	db            *sql.DB
	actors        []string // tokens: actor k sends request k of a phase
	heavy, fresh  string   // tokens
	heavyID       int64
	freshID       int64
	big           int64   // the big video
	newLike       []int64 // per round, a video nobody touched, for likes
	newComment    []int64 // per round, for comments
	pool          []int64 // videos the heavy and fresh users like, scaleActors per round
	commentHidden string  // "AND NOT deleted" where comment's table flags deletions
}

// scale seeds a video with bigLikes likes and bigComments comments and a user who likes
// heavyLikes videos by SQL, then offers, at the same constant rate (open loop), like, unlike,
// comment add and comment delete on the big video and on a new one, and like and unlike by the
// heavy user and by a fresh one; each pair alternates within a round, and every phase waits
// until the previous one's writes are persisted. Verdict: big over none within scaleLimit in p50
// and p99, pooled over the rounds.
func (h *harness) scale(ctx context.Context) error {
	if err := h.seed(ctx); err != nil {
		return err
	}
	start := time.Now()
	s, err := h.seedScale(ctx)
	if err != nil {
		return err
	}
	defer s.db.Close()
	if scaleDivisor > 1 {
		say("NOT THE TARGET: sizes divided by BENCH_SCALE_DIVISOR=%d\n", scaleDivisor)
	}
	say("scale: a video with %d likes and %d comments, a user who likes %d videos, seeded by SQL (then the read models rebuilt) in %s;\n"+
		"vegeta at %d req/s, %d rounds, in each round every action on big data and on none for %s each (%d requests), in alternating order,\n"+
		"each by its own actor (the same %d users on both sides), waiting until what the phase before wrote is persisted\n\n",
		bigLikes, bigComments, heavyLikes, time.Since(start).Round(time.Second), scaleRate, scaleRounds, scalePhase, scaleActors, scaleActors)

	type side struct {
		m      vegeta.Metrics
		failed int64
	}
	type pair struct {
		name, big, none string
		sides           [2]side // [0] big, [1] none
	}
	pairs := []*pair{
		{name: "like", big: fmt.Sprintf("video with %d likes", bigLikes), none: "new video"},
		{name: "unlike", big: fmt.Sprintf("video with %d likes", bigLikes), none: "new video"},
		{name: "comment add", big: fmt.Sprintf("video with %d comments", bigComments), none: "new video"},
		{name: "comment delete", big: fmt.Sprintf("video with %d comments", bigComments), none: "new video"},
		{name: "like", big: fmt.Sprintf("user who likes %d videos", heavyLikes), none: "fresh user"},
		{name: "unlike", big: fmt.Sprintf("user who likes %d videos", heavyLikes), none: "fresh user"},
	}
	var notSettled []string
	settle := func(what string, err error) {
		if err != nil {
			notSettled = append(notSettled, fmt.Sprintf("%s: %v", what, err))
		}
	}
	for round := range scaleRounds {
		order := [2]int{0, 1}
		if round%2 == 1 {
			order = [2]int{1, 0}
		}
		videos := [2]int64{s.big, s.newLike[round]}
		users := [2]string{s.heavy, s.fresh}
		userIDs := [2]int64{s.heavyID, s.freshID}
		pool := s.pool[round*scaleActors : (round+1)*scaleActors]
		var added [2][]deletion
		succeededIn := make([][2]int, len(pairs)) // per phase and side: what must persist
		for p, pr := range pairs {
			for _, i := range order {
				var tr vegeta.Targeter
				var keep func(*vegeta.Result)
				switch p {
				case 0, 1: // actor k likes (unlikes) the video
					action, video := strconv.Itoa(1+p), videos[i]
					tr = s.sequence(h, "/douyin/favorite/action/", func(k int) url.Values {
						return url.Values{"video_id": {strconv.FormatInt(video, 10)}, "action_type": {action}, "token": {s.actors[k]}}
					})
				case 2: // actor k comments on the video
					video := videos[i]
					if i == 1 {
						video = s.newComment[round]
					}
					tr = s.sequence(h, "/douyin/comment/action/", func(k int) url.Values {
						return url.Values{"video_id": {strconv.FormatInt(video, 10)}, "action_type": {"1"}, "token": {s.actors[k]},
							"comment_text": {fmt.Sprintf("comment %d of round %d, with a little text to make it look real", k, round)}}
					})
					var mu sync.Mutex
					keep = func(res *vegeta.Result) {
						if d, ok := addedComment(res, video); ok {
							mu.Lock()
							added[i] = append(added[i], d)
							mu.Unlock()
						}
					}
				case 3: // each comment of the add phase is deleted by its author
					mine := added[i]
					tr = s.sequence(h, "/douyin/comment/action/", func(k int) url.Values {
						if k >= len(mine) {
							return nil
						}
						return url.Values{"video_id": {strconv.FormatInt(mine[k].video, 10)}, "action_type": {"2"},
							"comment_id": {strconv.FormatInt(mine[k].id, 10)}, "token": {mine[k].token}}
					})
				case 4, 5: // the user likes (unlikes) video k of this round's pool
					action, token := strconv.Itoa(p-3), users[i]
					tr = s.sequence(h, "/douyin/favorite/action/", func(k int) url.Values {
						return url.Values{"video_id": {strconv.FormatInt(pool[k], 10)}, "action_type": {action}, "token": {token}}
					})
				}
				failed := attackEach(tr, scaleRate, scalePhase, pr.name, func(res *vegeta.Result) {
					pr.sides[i].m.Add(res)
					if succeeded(res) {
						succeededIn[p][i]++
					}
					if keep != nil {
						keep(res)
					}
				})
				pr.sides[i].failed += failed
				if err := alive(); err != nil {
					return err
				}
			}
			// Wait for the consumers, so that one phase's persistence does not slow the next: what
			// the add (like) phase wrote, less what the remove (unlike) phase took away.
			for i := range 2 {
				want := succeededIn[p&^1][i]
				if p%2 == 1 {
					want -= succeededIn[p][i]
				}
				switch p {
				case 0, 1:
					if i == 0 {
						want += bigLikes
					}
					settle("likes of a video", s.waitCount(ctx, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, videos[i], want))
				case 2, 3:
					video := s.newComment[round]
					if i == 0 {
						video, want = s.big, want+bigComments
					}
					settle("comments of a video", s.waitCount(ctx, `SELECT count(*) FROM comment.comments WHERE video_id = $1 `+s.commentHidden, video, want))
				case 4, 5:
					if i == 0 {
						want += heavyLikes
					}
					settle("likes of a user", s.waitCount(ctx, `SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND liked`, userIDs[i], want))
				}
			}
		}
	}

	sayln("| action | on | p50 | p99 | on | p50 | p99 | p50 ratio | p99 ratio | failed requests |")
	sayln("|---|---|---|---|---|---|---|---|---|---|")
	var failed int64
	for _, pr := range pairs {
		for i := range pr.sides {
			pr.sides[i].m.Close()
			failed += pr.sides[i].failed
		}
		b, n := pr.sides[0].m.Latencies, pr.sides[1].m.Latencies
		r50, r99 := float64(b.P50)/float64(n.P50), float64(b.P99)/float64(n.P99)
		say("| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %d |\n", pr.name, pr.none, ms(n.P50), ms(n.P99),
			pr.big, ms(b.P50), ms(b.P99), r50, r99, pr.sides[0].failed+pr.sides[1].failed)
	}
	sayln()
	for _, pr := range pairs {
		b, n := pr.sides[0].m.Latencies, pr.sides[1].m.Latencies
		r50, r99 := float64(b.P50)/float64(n.P50), float64(b.P99)/float64(n.P99)
		judge(fmt.Sprintf("%s on a %s over on a %s, p50 and p99", pr.name, pr.big, pr.none),
			fmt.Sprintf("%.2f and %.2f", r50, r99), fmt.Sprintf("≤ %.1f both", scaleLimit), r50 <= scaleLimit && r99 <= scaleLimit)
	}
	judge("scale stage, failed requests", fmt.Sprint(failed), "0", failed == 0)
	for _, n := range notSettled {
		say("not persisted in time: %s\n", n)
	}
	judge("scale stage, writes persisted within "+settleLimit.String()+" of each phase", fmt.Sprintf("%d late", len(notSettled)), "0 late", len(notSettled) == 0)
	return nil
}

// deletion is a comment the add phase wrote, to delete as its author.
type deletion struct {
	video, id int64
	token     string
}

// addedComment reads the comment an add returned, and its author's token from the request.
func addedComment(res *vegeta.Result, video int64) (deletion, bool) {
	if !succeeded(res) {
		return deletion{}, false
	}
	var reply struct {
		Comment struct {
			ID int64 `json:"id"`
		} `json:"comment"`
	}
	u, err := url.Parse(res.URL)
	if err != nil || json.Unmarshal(res.Body, &reply) != nil || reply.Comment.ID == 0 {
		return deletion{}, false
	}
	return deletion{video: video, id: reply.Comment.ID, token: u.Query().Get("token")}, true
}

// sequence is a targeter that POSTs request k of a phase with query(k), for k up to
// scaleActors (or until query returns nil).
func (s *scaleSubjects) sequence(h *harness, path string, query func(k int) url.Values) vegeta.Targeter {
	var next atomic.Int64
	return func(t *vegeta.Target) error {
		k := int(next.Add(1) - 1)
		if k >= scaleActors {
			return vegeta.ErrNoTargets
		}
		q := query(k)
		if q == nil {
			return vegeta.ErrNoTargets
		}
		t.Method, t.URL = http.MethodPost, h.base+path+"?"+q.Encode()
		return nil
	}
}

// waitCount waits until query (of one id) counts want rows: the phase's writes are persisted.
func (s *scaleSubjects) waitCount(ctx context.Context, query string, id int64, want int) error {
	deadline := time.Now().Add(settleLimit)
	for {
		var n int
		err := s.db.QueryRowContext(ctx, query, id).Scan(&n)
		if err == nil && n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d rows, want %d (%v)", n, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seedScale registers the actors and the heavy and fresh users; writes by SQL bigLikes fans
// (accounts that never log in), the big video, heavyLikes videos, the new videos, the fans' likes
// of the big video, bigComments comments on it by the actors, and the heavy user's likes; then
// makes the owners rebuild their read models and checks the counts through the API.
func (h *harness) seedScale(ctx context.Context) (*scaleSubjects, error) {
	s := &scaleSubjects{}
	actorIDs, actors, err := h.accounts("bench_actor", scaleActors)
	if err != nil {
		return nil, err
	}
	s.actors = actors
	userIDs, tokens, err := h.accounts("bench_scale_user", 2)
	if err != nil {
		return nil, err
	}
	s.heavyID, s.freshID, s.heavy, s.fresh = userIDs[0], userIDs[1], tokens[0], tokens[1]
	s.db, err = sql.Open("pgx", h.cfg.DatabaseURL())
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*scaleSubjects, error) {
		s.db.Close()
		return nil, err
	}
	authors, err := ids(ctx, s.db, `SELECT id FROM accounts.accounts WHERE username LIKE 'bench\_author\_%' ORDER BY id`)
	if err != nil {
		return fail(err)
	}
	// Older than every other video, so they stay out of the other stages' feed pages.
	videos, err := h.addVideos(ctx, s.db, authors, 1+2*scaleRounds+heavyLikes, "benchscale", 30*24*time.Hour)
	if err != nil {
		return fail(err)
	}
	s.big, s.newLike, s.newComment = videos[0], videos[1:1+scaleRounds], videos[1+scaleRounds:1+2*scaleRounds]
	liked := videos[1+2*scaleRounds:]
	if s.pool, err = ids(ctx, s.db, `SELECT id FROM publish.videos WHERE title LIKE 'bench video %' AND play_key LIKE 'bench%' AND play_key NOT LIKE 'benchscale%' ORDER BY id LIMIT $1`, scaleRounds*scaleActors); err != nil {
		return fail(err)
	}
	if len(s.pool) < scaleRounds*scaleActors {
		return fail(fmt.Errorf("scale: %d videos to like, want %d", len(s.pool), scaleRounds*scaleActors))
	}
	fans, err := ids(ctx, s.db, `INSERT INTO accounts.accounts (username, password_hash)
		SELECT 'bench_fan_' || g, 'no login' FROM generate_series(1, $1) AS g RETURNING id`, bigLikes)
	if err != nil {
		return fail(fmt.Errorf("seed fans: %w", err))
	}
	if err := insertLikes(ctx, s.db, fans, repeat(s.big, bigLikes)); err != nil {
		return fail(err)
	}
	if err := insertLikes(ctx, s.db, repeat(s.heavyID, heavyLikes), liked); err != nil {
		return fail(err)
	}
	commenters := make([]int64, bigComments)
	for i := range commenters {
		commenters[i] = actorIDs[i%len(actorIDs)]
	}
	if err := insertComments(ctx, s.db, commenters, repeat(s.big, bigComments)); err != nil {
		return fail(err)
	}
	var flagged bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = 'comment' AND table_name = 'comments' AND column_name = 'deleted')`).Scan(&flagged); err != nil {
		return fail(err)
	}
	if flagged {
		s.commentHidden = "AND NOT deleted"
	}
	if err := h.rebuildReadModels(ctx, "publish", "favorite", "comment"); err != nil {
		return fail(err)
	}
	if err := h.checkScale(ctx, s); err != nil {
		return fail(err)
	}
	return s, nil
}

func repeat(id int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = id
	}
	return out
}

// checkScale reads the seeded counts back through the API: the big video's likes and comments
// (the first video of a feed page that starts just after it) and the heavy user's likes.
func (h *harness) checkScale(ctx context.Context, s *scaleSubjects) error {
	var at int64
	if err := s.db.QueryRowContext(ctx, `SELECT published_at FROM publish.videos WHERE id = $1`, s.big).Scan(&at); err != nil {
		return err
	}
	var page struct {
		VideoList []struct {
			ID            int64 `json:"id"`
			FavoriteCount int64 `json:"favorite_count"`
			CommentCount  int64 `json:"comment_count"`
		} `json:"video_list"`
	}
	if err := h.api(http.MethodGet, fmt.Sprintf("/douyin/feed/?latest_time=%d", at+1), &page); err != nil {
		return err
	}
	var user struct {
		User struct {
			FavoriteCount int64 `json:"favorite_count"`
		} `json:"user"`
	}
	if err := h.api(http.MethodGet, fmt.Sprintf("/douyin/user/?user_id=%d&token=%s", s.heavyID, s.heavy), &user); err != nil {
		return err
	}
	if len(page.VideoList) == 0 || page.VideoList[0].ID != s.big || page.VideoList[0].FavoriteCount != int64(bigLikes) ||
		page.VideoList[0].CommentCount != int64(bigComments) || user.User.FavoriteCount != int64(heavyLikes) {
		return fmt.Errorf("scale seed not visible through the API: feed page %+v, heavy user likes %d", page.VideoList[:min(1, len(page.VideoList))], user.User.FavoriteCount)
	}
	return nil
}

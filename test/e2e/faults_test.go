//go:build e2e

package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/doutok/doutok/tools/devstack"
)

// The promise under a dependency that hangs or dies: every request answers within answerBudget,
// with success or 503/50002 and Retry-After, and every write that was acknowledged is persisted
// once the dependency is back.
const answerBudget = 5 * time.Second

// faultWorld is the data a fault test acts on, made before the fault: an author with a video and
// fans who like it, comment on it, follow the author and write to them.
type faultWorld struct {
	author account
	video  int64
	fans   []account
}

func newFaultWorld(t *testing.T, fans int) faultWorld {
	t.Helper()
	w := faultWorld{author: register(t, "faultauthor")}
	w.video = publishedVideo(t, w.author)
	for range fans {
		w.fans = append(w.fans, register(t, "faultfan"))
	}
	w.warmUp(t)
	return w
}

// warmUp has another user act on the video and the author a few times, as a video in use has
// been: every instance of every service then knows that the video and the author exist (a
// memory that lets likes, comments, follows and messages be taken while PostgreSQL is down).
func (w faultWorld) warmUp(t *testing.T) {
	t.Helper()
	other := register(t, "faultwarm")
	video, author := strconv.FormatInt(w.video, 10), strconv.FormatInt(w.author.ID, 10)
	for i := range 4 {
		action := strconv.Itoa(1 + i%2)
		postQuery(t, "/douyin/favorite/action/", url.Values{"token": {other.Token}, "video_id": {video}, "action_type": {action}}).expect(t, 200, 0)
		postQuery(t, "/douyin/relation/action/", url.Values{"token": {other.Token}, "to_user_id": {author}, "action_type": {action}}).expect(t, 200, 0)
		postQuery(t, "/douyin/comment/action/", url.Values{"token": {other.Token}, "video_id": {video}, "action_type": {"1"}, "comment_text": {"warm"}}).expect(t, 200, 0)
		postQuery(t, "/douyin/message/action/", url.Values{"token": {other.Token}, "to_user_id": {author}, "action_type": {"1"}, "content": {"warm"}}).expect(t, 200, 0)
	}
}

// outcome is one request sent during a fault.
type outcome struct {
	what    string // the action: like, comment, follow, message, feed, user, login
	fan     account
	elapsed time.Duration
	status  int
	code    int
	body    map[string]any
	retry   string // Retry-After
	err     error  // transport error (no answer within the client's own limit)
}

func (o outcome) acknowledged() bool { return o.err == nil && o.status == 200 && o.code == 0 }

// faultClient waits far longer than the budget, so a hang shows as a slow answer, not an error.
var faultClient = &http.Client{Timeout: 20 * time.Second}

// timedRequest sends one request and measures how long its answer took.
func timedRequest(what string, fan account, method, path string, query url.Values) outcome {
	o := outcome{what: what, fan: fan}
	req, err := http.NewRequest(method, baseURL+path+"?"+query.Encode(), nil)
	if err != nil {
		o.err = err
		return o
	}
	started := time.Now()
	resp, err := faultClient.Do(req)
	if err != nil {
		o.elapsed, o.err = time.Since(started), err
		return o
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.elapsed, o.status, o.retry = time.Since(started), resp.StatusCode, resp.Header.Get("Retry-After")
	if err == nil {
		err = json.Unmarshal(raw, &o.body)
	}
	if err != nil {
		o.err = fmt.Errorf("%w: %s", err, raw)
		return o
	}
	if c, ok := o.body["status_code"].(float64); ok {
		o.code = int(c)
	}
	return o
}

// load has every fan send one kind of request after another (likes, comments, follows, messages,
// feed, user info, logins) for the given time, and returns every outcome.
func (w faultWorld) load(for_ time.Duration) []outcome {
	video, author := strconv.FormatInt(w.video, 10), strconv.FormatInt(w.author.ID, 10)
	var mu sync.Mutex
	var out []outcome
	var wg sync.WaitGroup
	end := time.Now().Add(for_)
	for i, fan := range w.fans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; time.Now().Before(end); n++ {
				tok := fan.Token
				var o outcome
				switch n % 7 {
				case 0:
					o = timedRequest("like", fan, http.MethodPost, "/douyin/favorite/action/", url.Values{"token": {tok}, "video_id": {video}, "action_type": {"1"}})
				case 1:
					o = timedRequest("comment", fan, http.MethodPost, "/douyin/comment/action/", url.Values{"token": {tok}, "video_id": {video}, "action_type": {"1"}, "comment_text": {"during the fault " + strconv.Itoa(n)}})
				case 2:
					o = timedRequest("follow", fan, http.MethodPost, "/douyin/relation/action/", url.Values{"token": {tok}, "to_user_id": {author}, "action_type": {"1"}})
				case 3:
					o = timedRequest("message", fan, http.MethodPost, "/douyin/message/action/", url.Values{"token": {tok}, "to_user_id": {author}, "action_type": {"1"}, "content": {"during the fault " + strconv.Itoa(n)}})
				case 4:
					o = timedRequest("feed", fan, http.MethodGet, "/douyin/feed/", url.Values{"token": {tok}})
				case 5:
					o = timedRequest("user", fan, http.MethodGet, "/douyin/user/", url.Values{"token": {tok}, "user_id": {author}})
				case 6:
					o = timedRequest("login", fan, http.MethodPost, "/douyin/user/login/", url.Values{"username": {fan.Name}, "password": {"secret123"}})
				}
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// checkAnswers fails for any request that took longer than the budget or answered anything but
// success or 503/50002 with Retry-After, and logs the answer times by action.
func checkAnswers(t *testing.T, fault string, outcomes []outcome) {
	t.Helper()
	type tally struct {
		ok, unavailable int
		slowest         time.Duration
	}
	byAction := map[string]*tally{}
	for _, o := range outcomes {
		if o.err != nil {
			t.Errorf("%s during %s: no answer after %s: %v", o.what, fault, o.elapsed.Round(time.Millisecond), o.err)
			continue
		}
		if o.elapsed > answerBudget {
			t.Errorf("%s during %s: answered after %s (budget %s)", o.what, fault, o.elapsed.Round(time.Millisecond), answerBudget)
		}
		ta := byAction[o.what]
		if ta == nil {
			ta = &tally{}
			byAction[o.what] = ta
		}
		ta.slowest = max(ta.slowest, o.elapsed)
		switch {
		case o.acknowledged():
			ta.ok++
		case o.status == 503 && o.code == 50002 && o.retry != "":
			ta.unavailable++
		default:
			t.Errorf("%s during %s: HTTP %d %v Retry-After %q", o.what, fault, o.status, o.body, o.retry)
		}
	}
	for what, ta := range byAction {
		t.Logf("during %s: %-7s %3d ok, %3d answered 503, slowest %s", fault, what, ta.ok, ta.unavailable, ta.slowest.Round(time.Millisecond))
	}
}

// checkAcknowledgedPersisted waits until every acknowledged like, comment, follow and message is
// in PostgreSQL.
func (w faultWorld) checkAcknowledgedPersisted(t *testing.T, outcomes []outcome) {
	t.Helper()
	db := openDB(t)
	var checks []func() (bool, string)
	count := func(what string, want int, query string, args ...any) func() (bool, string) {
		return func() (bool, string) {
			var got int
			if err := db.QueryRow(query, args...).Scan(&got); err != nil {
				return false, fmt.Sprintf("%s: %v", what, err)
			}
			return got >= want, fmt.Sprintf("%s: %d persisted, want %d", what, got, want)
		}
	}
	acked := map[string]int{}
	for _, o := range outcomes {
		if !o.acknowledged() {
			continue
		}
		acked[o.what]++
		switch o.what {
		case "like":
			checks = append(checks, count("like", 1, `SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND video_id = $2 AND liked`, o.fan.ID, w.video))
		case "comment":
			comment, _ := o.body["comment"].(map[string]any)
			id, _ := comment["id"].(float64)
			checks = append(checks, count("comment", 1, `SELECT count(*) FROM comment.comments WHERE id = $1 AND NOT deleted`, int64(id)))
		case "follow":
			checks = append(checks, count("follow", 1, `SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND followee_id = $2 AND following`, o.fan.ID, w.author.ID))
		}
	}
	// Messages carry no id in their answer: count them per sender.
	sent := map[int64]int{}
	for _, o := range outcomes {
		if o.what == "message" && o.acknowledged() {
			sent[o.fan.ID]++
		}
	}
	for from, n := range sent {
		checks = append(checks, count("message", n, `SELECT count(*) FROM message.messages WHERE from_user_id = $1 AND to_user_id = $2 AND content LIKE 'during the fault %'`, from, w.author.ID))
	}
	for _, check := range checks {
		eventually(t, 90*time.Second, check)
	}
	t.Logf("acknowledged during the fault and persisted after it: %v", acked)
}

// hangThenKill pauses process (SIGSTOP) under load, kills it (SIGKILL) and starts it again,
// then checks the answers given meanwhile and the acknowledged writes.
func hangThenKill(t *testing.T, process string) {
	w := newFaultWorld(t, 14)
	if err := stack.Pause(process); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed { // a failed test must not leave the stack hung for the next one
			_ = stack.Resume(process)
		}
	}()
	outcomes := w.load(8 * time.Second)
	if err := stack.Kill(process); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if err := stack.Restart(context.Background(), process); err != nil {
		t.Fatal(err)
	}
	checkAnswers(t, process+" hung", outcomes)
	w.checkAcknowledgedPersisted(t, outcomes)
	w.servesAgain(t)
}

// servesAgain waits until logins, user info, comments, follows and messages succeed again (a
// sidecar that marked its app unhealthy, or a pool whose connections died with the database,
// recovers within seconds), so the next test starts on a recovered system.
func (w faultWorld) servesAgain(t *testing.T) {
	t.Helper()
	fan, video, author := w.fans[0], strconv.FormatInt(w.video, 10), strconv.FormatInt(w.author.ID, 10)
	for _, o := range []struct {
		what, method, path string
		query              url.Values
	}{
		{"login", http.MethodPost, "/douyin/user/login/", url.Values{"username": {fan.Name}, "password": {"secret123"}}},
		{"user", http.MethodGet, "/douyin/user/", url.Values{"token": {fan.Token}, "user_id": {author}}},
		{"comment", http.MethodPost, "/douyin/comment/action/", url.Values{"token": {fan.Token}, "video_id": {video}, "action_type": {"1"}, "comment_text": {"after the fault"}}},
		{"follow", http.MethodPost, "/douyin/relation/action/", url.Values{"token": {fan.Token}, "to_user_id": {author}, "action_type": {"1"}}},
		{"message", http.MethodPost, "/douyin/message/action/", url.Values{"token": {fan.Token}, "to_user_id": {author}, "action_type": {"1"}, "content": {"after the fault"}}},
	} {
		eventually(t, 30*time.Second, func() (bool, string) {
			got := timedRequest(o.what, fan, o.method, o.path, o.query)
			return got.acknowledged(), fmt.Sprintf("%s after the recovery: HTTP %d %v %v", o.what, got.status, got.body, got.err)
		})
	}
}

func TestHungPostgresNeverHangsARequest(t *testing.T) { hangThenKill(t, "postgres") }

func TestHungRedisNeverHangsARequest(t *testing.T) {
	// On the local set Redis is the broker too: that run covers more than another set's would.
	sameOnEverySet(t)
	hangThenKill(t, "redis")
}

func TestHungCommentServiceNeverHangsARequest(t *testing.T) { hangThenKill(t, "comment") }

// outage is how long TestPostgresOutageLosesNothing keeps the database down: longer than the
// old retry policy's whole span (8 tries at most 10 s apart, about 55 s), after which it moved
// events to the dead-letter topic. E2E_OUTAGE=5m runs the five minutes.
func outage() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("E2E_OUTAGE")); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}

// TestPostgresOutageLosesNothing stops PostgreSQL (connections refused) while likes, comments,
// follows and messages are acknowledged, keeps it down past the retry span, and starts it again:
// every acknowledged write reaches PostgreSQL and nothing is dead-lettered.
func TestPostgresOutageLosesNothing(t *testing.T) {
	w := newFaultWorld(t, 10)
	db := openDB(t)
	deadBefore := countDeadLetters(t, db)
	if err := stack.Kill("postgres"); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	outcomes := w.load(10 * time.Second)
	checkAnswers(t, "the PostgreSQL outage", outcomes)
	time.Sleep(time.Until(down.Add(outage())))
	if err := stack.Restart(context.Background(), "postgres"); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL was down for %s", time.Since(down).Round(time.Second))
	w.checkAcknowledgedPersisted(t, outcomes)
	w.servesAgain(t)
	if after := countDeadLetters(t, db); after != deadBefore {
		t.Errorf("the outage dead-lettered %d events", after-deadBefore)
	}
}

// countDeadLetters counts the dead letters every service keeps.
func countDeadLetters(t *testing.T, db *sql.DB) int {
	t.Helper()
	n := 0
	for _, schema := range []string{"favorite", "comment", "relation", "message"} {
		n += countRows(t, db, `SELECT count(*) FROM `+schema+`.dead_letters`)
	}
	return n
}

// TestDeadLettersAreKeptAndReplayed: an event that can never be saved is kept in its service's
// dead_letters table; `make replay-dead-letters` publishes what is kept again, so an event whose
// cause was fixed is saved, and one that still cannot be is kept again.
func TestDeadLettersAreKeptAndReplayed(t *testing.T) {
	db := openDB(t)
	mark := uuid.NewString()
	publishLikeEvent(t, map[string]any{"event_id": "", "user_id": -1, "test": mark})
	keptPoison := func() (bool, string) {
		n := countRows(t, db, `SELECT count(*) FROM favorite.dead_letters WHERE strpos(encode(data, 'escape'), $1) > 0`, mark)
		return n == 1, fmt.Sprintf("the poison event is kept %d times, want once", n)
	}
	eventually(t, 90*time.Second, keptPoison)

	// A like that died while, say, a bug was deployed: kept as the service keeps dead letters.
	author, fan := register(t, "deadauthor"), register(t, "deadfan")
	v := publishedVideo(t, author)
	event, _ := json.Marshal(map[string]any{"event_id": uuid.NewString(), "user_id": fan.ID, "video_id": v,
		"author_id": author.ID, "liked": true, "at": time.Now().UnixMilli()})
	if _, err := db.Exec(`INSERT INTO favorite.dead_letters (digest, topic, data) VALUES ($1, 'favorite.changed', $2)`,
		uuid.NewString(), event); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	replayed, err := devstack.ReplayDeadLetters(ctx, stackCf)
	if err != nil {
		t.Fatal(err)
	}
	if replayed["favorite"] < 2 {
		t.Fatalf("replayed %v, want at least the two favorite dead letters", replayed)
	}
	waitPersisted(t, db, 1, `SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND video_id = $2 AND liked`, fan.ID, v)
	if c := videoAsSeenBy(t, fan, author.ID, v); c.FavoriteCount != 1 || !c.IsFavorite {
		t.Errorf("the replayed like is persisted but not shown: %+v", c)
	}
	eventually(t, 90*time.Second, keptPoison)
	if n := countRows(t, db, `SELECT count(*) FROM favorite.dead_letters WHERE data = $1`, event); n != 0 {
		t.Errorf("the replayed like is still kept as a dead letter (%d)", n)
	}
}

// countRows counts the rows of a query.
func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func like(t *testing.T, a account, videoID int64, actionType int) reply {
	t.Helper()
	return postQuery(t, "/douyin/favorite/action/", url.Values{
		"video_id": {strconv.FormatInt(videoID, 10)}, "action_type": {strconv.Itoa(actionType)}, "token": {a.Token},
	})
}

// publishedVideo uploads a clip for a and returns its id.
func publishedVideo(t *testing.T, a account) int64 {
	t.Helper()
	upload(t, a.Token, "likeable "+uniqueName("v"), testClip(t)).expect(t, 200, 0)
	return publishList(t, a, a.ID)[0].ID
}

type counted struct {
	FavoriteCount int64 `json:"favorite_count"`
	CommentCount  int64 `json:"comment_count"`
	IsFavorite    bool  `json:"is_favorite"`
	Author        struct {
		TotalFavorited int64 `json:"total_favorited"`
	} `json:"author"`
}

// countedVideo is a video of a list with its counts and flag, as the viewer sees them.
type countedVideo struct {
	ID int64 `json:"id"`
	counted
}

// countedPublishList is authorID's publish list as viewer sees it, in its order.
func countedPublishList(t *testing.T, viewer account, authorID int64) []countedVideo {
	t.Helper()
	var out struct {
		VideoList []countedVideo `json:"video_list"`
	}
	get(t, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(authorID, 10)}, "token": {viewer.Token}}).
		expect(t, 200, 0).decode(t, &out)
	return out.VideoList
}

// videoAsSeenBy finds a video in the author's publish list as viewer sees it.
func videoAsSeenBy(t *testing.T, viewer account, authorID, videoID int64) counted {
	t.Helper()
	for _, v := range countedPublishList(t, viewer, authorID) {
		if v.ID == videoID {
			return v.counted
		}
	}
	t.Fatalf("video %d not in the list of %d", videoID, authorID)
	return counted{}
}

// feedVideo finds a video on the feed's first page as viewer (nil: anonymous) sees it.
func feedVideo(t *testing.T, viewer *account, videoID int64) counted {
	t.Helper()
	q := url.Values{}
	if viewer != nil {
		q.Set("token", viewer.Token)
	}
	var out struct {
		VideoList []countedVideo `json:"video_list"`
	}
	get(t, "/douyin/feed/", q).expect(t, 200, 0).decode(t, &out)
	for _, v := range out.VideoList {
		if v.ID == videoID {
			return v.counted
		}
	}
	t.Fatalf("video %d not on the feed's first page", videoID)
	return counted{}
}

type userCounts struct {
	FavoriteCount  int64 `json:"favorite_count"`
	TotalFavorited int64 `json:"total_favorited"`
}

func userInfo(t *testing.T, viewer account, id int64) userCounts {
	t.Helper()
	var out struct {
		User userCounts `json:"user"`
	}
	get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(id, 10)}, "token": {viewer.Token}}).expect(t, 200, 0).decode(t, &out)
	return out.User
}

func favoriteList(t *testing.T, viewer account, userID int64) []int64 {
	t.Helper()
	ids, unflagged, raw := favoriteListFlags(t, viewer, userID)
	if len(unflagged) > 0 {
		t.Fatalf("own favorite list shows is_favorite false: %s", raw)
	}
	return ids
}

// favoriteListFlags returns a user's favorite list as viewer sees it, and, when it is the
// viewer's own list, the videos it shows with is_favorite false (none is right), with the raw
// answer; for checks that wait for a state to come back instead of failing at once.
func favoriteListFlags(t *testing.T, viewer account, userID int64) (ids, unflagged []int64, raw []byte) {
	t.Helper()
	var out struct {
		VideoList []struct {
			ID         int64 `json:"id"`
			IsFavorite bool  `json:"is_favorite"`
		} `json:"video_list"`
	}
	r := get(t, "/douyin/favorite/list/", url.Values{"user_id": {strconv.FormatInt(userID, 10)}, "token": {viewer.Token}}).expect(t, 200, 0)
	r.decode(t, &out)
	ids = []int64{}
	for _, v := range out.VideoList {
		ids = append(ids, v.ID)
		if viewer.ID == userID && !v.IsFavorite {
			unflagged = append(unflagged, v.ID)
		}
	}
	return ids, unflagged, r.Raw
}

func TestLikeRules(t *testing.T) {
	author, fan, other := register(t, "author"), register(t, "fan"), register(t, "other")
	v := publishedVideo(t, author)

	like(t, fan, v, 1).expect(t, 200, 0)
	like(t, fan, v, 1).expect(t, 200, 0) // liking twice = once
	if c := videoAsSeenBy(t, fan, author.ID, v); c.FavoriteCount != 1 || !c.IsFavorite || c.Author.TotalFavorited != 1 {
		t.Fatalf("after like, as the fan: %+v", c)
	}
	if c := videoAsSeenBy(t, other, author.ID, v); c.FavoriteCount != 1 || c.IsFavorite {
		t.Fatalf("after like, as someone else: %+v", c)
	}
	if u := userInfo(t, other, fan.ID); u.FavoriteCount != 1 {
		t.Fatalf("fan's favorite_count: %+v", u)
	}
	if u := userInfo(t, other, author.ID); u.TotalFavorited != 1 {
		t.Fatalf("author's total_favorited: %+v", u)
	}
	if ids := favoriteList(t, fan, fan.ID); len(ids) != 1 || ids[0] != v {
		t.Fatalf("favorite list: %v", ids)
	}
	// The feed shows the counts, is_favorite only to the fan; twice each, so the second answer
	// comes from the gateway's revalidated copy.
	for range 2 {
		if c := feedVideo(t, nil, v); c.FavoriteCount != 1 || c.IsFavorite || c.Author.TotalFavorited != 1 {
			t.Fatalf("anonymous feed after like: %+v", c)
		}
		if c := feedVideo(t, &fan, v); c.FavoriteCount != 1 || !c.IsFavorite {
			t.Fatalf("fan's feed after like: %+v", c)
		}
	}

	like(t, other, v, 2).expect(t, 200, 0) // unliking what you don't like changes nothing
	if c := videoAsSeenBy(t, fan, author.ID, v); c.FavoriteCount != 1 {
		t.Fatalf("after a stranger's unlike: %+v", c)
	}
	like(t, fan, v, 2).expect(t, 200, 0)
	like(t, fan, v, 2).expect(t, 200, 0)
	if c := videoAsSeenBy(t, fan, author.ID, v); c.FavoriteCount != 0 || c.IsFavorite || c.Author.TotalFavorited != 0 {
		t.Fatalf("after unlike: %+v", c)
	}
	if ids := favoriteList(t, fan, fan.ID); len(ids) != 0 {
		t.Fatalf("favorite list after unlike: %v", ids)
	}
	if c := feedVideo(t, nil, v); c.FavoriteCount != 0 || c.Author.TotalFavorited != 0 {
		t.Fatalf("anonymous feed after unlike: %+v", c)
	}
	if c := feedVideo(t, &fan, v); c.FavoriteCount != 0 || c.IsFavorite {
		t.Fatalf("fan's feed after unlike: %+v", c)
	}

	like(t, fan, 9007199254740000, 1).expect(t, 200, 30003)
	like(t, fan, v, 3).expect(t, 200, 10002)
	postQuery(t, "/douyin/favorite/action/", url.Values{"video_id": {"abc"}, "action_type": {"1"}, "token": {fan.Token}}).expect(t, 200, 10001)
	postQuery(t, "/douyin/favorite/action/", url.Values{"video_id": {strconv.FormatInt(v, 10)}, "token": {fan.Token}}).expect(t, 200, 10001)
	postQuery(t, "/douyin/favorite/action/", url.Values{"video_id": {strconv.FormatInt(v, 10)}, "action_type": {"1"}}).expect(t, 401, 20001)
	get(t, "/douyin/favorite/list/", url.Values{"user_id": {"x"}, "token": {fan.Token}}).expect(t, 200, 10001)
}

func TestFavoriteListIsMostRecentlyLikedFirst(t *testing.T) {
	author, fan := register(t, "author2"), register(t, "fan2")
	first, second, third := publishedVideo(t, author), publishedVideo(t, author), publishedVideo(t, author)
	for _, v := range []int64{second, first, third} {
		like(t, fan, v, 1).expect(t, 200, 0)
		time.Sleep(5 * time.Millisecond)
	}
	if ids := favoriteList(t, author, fan.ID); fmt.Sprint(ids) != fmt.Sprint([]int64{third, first, second}) {
		t.Fatalf("favorite list %v, want %v", ids, []int64{third, first, second})
	}
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", stackCf.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitPersisted polls PostgreSQL until query returns want, or fails after 90 s.
func waitPersisted(t *testing.T, db *sql.DB, want int64, query string, args ...any) {
	t.Helper()
	eventually(t, 90*time.Second, func() (bool, string) {
		var got int64
		if err := db.QueryRow(query, args...).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got == want, fmt.Sprintf("%s: %d persisted, want %d", query, got, want)
	})
}

// eventually calls check until it reports done, or fails the test after timeout with check's
// account of what it last saw.
func eventually(t *testing.T, timeout time.Duration, check func() (done bool, saw string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, saw := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(saw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// publishedBy reads how many events a favorite instance's sidecar has published.
func publishedBy(t *testing.T, instance string) int64 {
	t.Helper()
	n, _ := scrapeMetric(t, stack.MetricsURL(instance), "dapr_grpc_io_server_completed_rpcs", map[string]string{
		"grpc_server_method": "/dapr.proto.runtime.v1.Dapr/PublishEvent", "grpc_server_status": "OK"})
	return int64(n)
}

func TestConcurrentLikesAndUnlikesAreExact(t *testing.T) {
	// The stack runs favorite twice (see TestMain): the burst is shared by two processes whose
	// compare-and-swaps on the same keys must still add up.
	before := [2]int64{publishedBy(t, "favorite"), publishedBy(t, "favorite-2")}
	author := register(t, "popular")
	v := publishedVideo(t, author)
	const n = 50
	fans := make([]account, n)
	for i := range fans {
		fans[i] = register(t, "crowd")
	}
	// Everyone toggles a few times at once; odd fans end on unlike, even fans on like. Replies
	// are checked once all are in (a test may fail only from its own goroutine).
	replies := make([][]reply, n)
	var wg sync.WaitGroup
	for i, f := range fans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acts := []int{1, 2, 1, 1}
			if i%2 == 1 {
				acts = append(acts, 2)
			}
			for _, act := range acts {
				replies[i] = append(replies[i], like(t, f, v, act))
			}
		}()
	}
	wg.Wait()
	for _, fanReplies := range replies {
		for _, r := range fanReplies {
			r.expect(t, 200, 0)
		}
	}
	for i, instance := range []string{"favorite", "favorite-2"} {
		if publishedBy(t, instance) == before[i] {
			t.Fatalf("instance %s took no like of the burst: the test needs both", instance)
		}
	}
	const want = n / 2
	c := videoAsSeenBy(t, fans[0], author.ID, v)
	if c.FavoriteCount != want || !c.IsFavorite || c.Author.TotalFavorited != want {
		t.Fatalf("right after the burst: %+v, want count %d", c, want)
	}
	if u := userInfo(t, fans[1], fans[1].ID); u.FavoriteCount != 0 {
		t.Fatalf("an unliking fan has favorite_count %d", u.FavoriteCount)
	}
	if u := userInfo(t, fans[2], fans[2].ID); u.FavoriteCount != 1 {
		t.Fatalf("a liking fan has favorite_count %d", u.FavoriteCount)
	}
	db := openDB(t)
	waitPersisted(t, db, want, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v)
	waitPersisted(t, db, n, `SELECT count(*) FROM favorite.likes WHERE video_id = $1`, v)
	if c := videoAsSeenBy(t, fans[0], author.ID, v); c.FavoriteCount != want {
		t.Fatalf("after the consumers drained: %+v", c)
	}
}

// publishLikeEvent puts a favorite.changed event on the broker directly, as a redelivery would.
func publishLikeEvent(t *testing.T, event map[string]any) {
	t.Helper()
	if err := sendLikeEvent(event); err != nil {
		t.Fatal(err)
	}
}

// sendLikeEvent is publishLikeEvent for goroutines other than the test's.
func sendLikeEvent(event map[string]any) error {
	base, token := stack.SidecarHTTP("favorite")
	body, _ := json.Marshal(event)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1.0/publish/pubsub/favorite.changed", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("publish: HTTP %d", resp.StatusCode)
	}
	return nil
}

func TestDuplicateAndLateEventsChangeNothing(t *testing.T) {
	author, fan := register(t, "dupauthor"), register(t, "dupfan")
	v := publishedVideo(t, author)
	like(t, fan, v, 1).expect(t, 200, 0)
	db := openDB(t)
	waitPersisted(t, db, 1, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v)

	// A second liker's event arrives three times (redelivery), and an older unlike of the first
	// fan arrives late.
	second := register(t, "dupsecond")
	event := map[string]any{"event_id": uuid.NewString(), "user_id": second.ID, "video_id": v, "author_id": author.ID,
		"liked": true, "at": time.Now().UnixMilli()}
	for range 3 {
		publishLikeEvent(t, event)
	}
	publishLikeEvent(t, map[string]any{"event_id": uuid.NewString(), "user_id": fan.ID, "video_id": v, "author_id": author.ID,
		"liked": false, "at": time.Now().Add(-time.Hour).UnixMilli()})
	waitPersisted(t, db, 2, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v)
	time.Sleep(time.Second) // let any further (wrong) delivery land
	waitPersisted(t, db, 2, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v)
	if c := videoAsSeenBy(t, fan, author.ID, v); c.FavoriteCount != 2 || !c.IsFavorite || c.Author.TotalFavorited != 2 {
		t.Fatalf("after duplicates: %+v", c)
	}
	// A poison event goes to the dead-letter topic instead of blocking the stream.
	publishLikeEvent(t, map[string]any{"event_id": "", "user_id": -1})
	third := register(t, "dupthird")
	like(t, third, v, 1).expect(t, 200, 0)
	waitPersisted(t, db, 3, `SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v)
}

// burstWithCrash sends likes from 30 users on 4 videos, kills process with SIGKILL in the middle,
// restarts it and goes on liking; it returns the (user, video) pairs whose like was acknowledged.
func burstWithCrash(t *testing.T, process string) (author account, acked map[[2]int64]bool, videos []int64) {
	t.Helper()
	author = register(t, "crash")
	for range 4 {
		videos = append(videos, publishedVideo(t, author))
	}
	fans := make([]account, 30)
	for i := range fans {
		fans[i] = register(t, "crashfan")
	}
	return author, actionBurstWithCrash(t, process, "/douyin/favorite/action/", "video_id", fans, videos), videos
}

// actionBurstWithCrash has every actor send path's action_type 1 to the targets in turn (the
// target in the param parameter), one every 20 ms; it kills process with SIGKILL in the middle,
// restarts it and goes on for a while. It returns the (actor, target) pairs acknowledged, before,
// during and after the crash.
func actionBurstWithCrash(t *testing.T, process, path, param string, actors []account, targets []int64) map[[2]int64]bool {
	t.Helper()
	acked := map[[2]int64]bool{}
	var mu sync.Mutex
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				target := targets[i%len(targets)]
				sent.Add(1)
				r := do(t, http.MethodPost, path, url.Values{
					param: {strconv.FormatInt(target, 10)}, "action_type": {"1"}, "token": {a.Token}}, nil, nil)
				if code, ok := r.Body["status_code"].(float64); r.HTTPStatus == 200 && ok && code == 0 {
					mu.Lock()
					acked[[2]int64{a.ID, target}] = true
					mu.Unlock()
				} else {
					failed.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := stack.Kill(process); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := stack.Restart(context.Background(), process); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%s killed mid-burst: %d actions sent, %d acknowledged pairs, %d failed while it was down",
		process, sent.Load(), len(acked), failed.Load())
	return acked
}

// waitEveryPairPersistedOnce waits until query (counting the persisted rows of a pair) finds every
// acknowledged pair exactly once.
func waitEveryPairPersistedOnce(t *testing.T, db *sql.DB, acked map[[2]int64]bool, what, query string) {
	t.Helper()
	eventually(t, 90*time.Second, func() (bool, string) {
		var missing [][2]int64
		for pair := range acked {
			var rows int
			if err := db.QueryRow(query, pair[0], pair[1]).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows > 1 {
				t.Fatalf("pair %v persisted %d times", pair, rows)
			}
			if rows == 0 {
				missing = append(missing, pair)
			}
		}
		if len(missing) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d of %d acknowledged %s never reached PostgreSQL, e.g. %v", len(missing), len(acked), what, missing[0])
	})
}

func checkEveryAcknowledgedLikePersistedOnce(t *testing.T, author account, acked map[[2]int64]bool, videos []int64) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no like was acknowledged")
	}
	db := openDB(t)
	waitEveryPairPersistedOnce(t, db, acked, "likes",
		`SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND video_id = $2 AND liked`)
	// The hot counts agree with what was persisted, once the broker has redelivered the changes
	// that were announced but not acknowledged when the process died.
	checker := register(t, "checker")
	for _, v := range videos {
		eventually(t, 60*time.Second, func() (bool, string) {
			var persisted int64
			if err := db.QueryRow(`SELECT count(*) FROM favorite.likes WHERE video_id = $1 AND liked`, v).Scan(&persisted); err != nil {
				t.Fatal(err)
			}
			shown := videoAsSeenBy(t, checker, author.ID, v).FavoriteCount
			return shown == persisted, fmt.Sprintf("video %d: shows %d likes, PostgreSQL has %d", v, shown, persisted)
		})
	}
	t.Logf("%d acknowledged likes, %d persisted exactly once", len(acked), len(acked))
}

func TestCrashOfTheFavoriteServiceLosesNoAcknowledgedLike(t *testing.T) {
	author, acked, videos := burstWithCrash(t, "favorite")
	checkEveryAcknowledgedLikePersistedOnce(t, author, acked, videos)
}

func TestCrashOfTheFavoriteSidecarLosesNoAcknowledgedLike(t *testing.T) {
	author, acked, videos := burstWithCrash(t, "favorite-dapr")
	checkEveryAcknowledgedLikePersistedOnce(t, author, acked, videos)
}

// A user who likes more videos than one internal batch call may carry (500 ids) still gets the
// whole list, and an author with that many videos still gets the whole publish list, with
// counters: the clients split such calls instead of passing the limit on to the mobile client.
func TestListsLongerThanOneBatch(t *testing.T) {
	author, fan := register(t, "manyauthor"), register(t, "manyfan")
	const n = 501
	videos := seedVideos(t, author, n)
	for _, v := range videos {
		like(t, fan, v, 1).expect(t, 200, 0)
	}
	if liked := favoriteList(t, fan, fan.ID); len(liked) != n {
		t.Fatalf("favorite list of a user with %d likes has %d videos", n, len(liked))
	}
	var out struct {
		VideoList []counted `json:"video_list"`
	}
	get(t, "/douyin/publish/list/", url.Values{"user_id": {strconv.FormatInt(author.ID, 10)}, "token": {fan.Token}}).
		expect(t, 200, 0).decode(t, &out)
	if len(out.VideoList) != n {
		t.Fatalf("publish list of an author with %d videos has %d", n, len(out.VideoList))
	}
	for _, v := range out.VideoList {
		if v.FavoriteCount != 1 || !v.IsFavorite || v.Author.TotalFavorited != n {
			t.Fatalf("a video of the list shows %+v", v)
		}
	}
}

// seedVideos inserts n videos of author straight into the publish schema and returns their ids.
func seedVideos(t *testing.T, author account, n int) []int64 {
	t.Helper()
	rows, err := openDB(t).Query(`
		INSERT INTO publish.videos (author_id, title, play_key, cover_key, published_at)
		SELECT $1::bigint, 'batch video ' || g, 'batch-' || $1::bigint || '-' || g, 'batchcover-' || $1::bigint || '-' || g,
		       1000000000000 + $1::bigint * 10000 + g -- in 2001: unique, and older than any real upload
		FROM generate_series(1, $2) AS g
		RETURNING id`, author.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var videos []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		videos = append(videos, id)
	}
	return videos
}

// One user likes many videos at once (more than the hot window of recent changes holds, over
// several buckets of ids), then unlikes some at once: the counts stay exact, is_favorite is right
// on every video of the pages that show them, the list is the liked videos most recently liked
// first, and all of it comes back the same after the state store loses its data.
func TestManyLikesOfOneUserAcrossPages(t *testing.T) {
	// A test before this one may have emptied the state store: the likes below may then be made
	// while the favorite service restores its hot model, and must show at once all the same.
	author, fan, viewer := register(t, "pagesauthor"), register(t, "pagesfan"), register(t, "pagesviewer")
	videos := seedVideos(t, author, 300)
	liked := map[int64]bool{}
	act := func(ids []int64, action int) {
		var wg sync.WaitGroup
		replies := make([]reply, len(ids))
		work := make(chan int)
		for range 16 {
			wg.Go(func() {
				for i := range work {
					replies[i] = like(t, fan, ids[i], action)
				}
			})
		}
		for i := range ids {
			work <- i
		}
		close(work)
		wg.Wait()
		for i, r := range replies {
			r.expect(t, 200, 0)
			liked[ids[i]] = action == 1
		}
	}
	var toLike, toUnlike []int64
	for i, v := range videos {
		if i%4 != 3 {
			toLike = append(toLike, v)
			if i%3 == 0 {
				toUnlike = append(toUnlike, v)
			}
		}
	}
	act(toLike, 1)
	act(toUnlike, 2)
	// The newest like is one liked after the burst.
	last := videos[3]
	like(t, fan, last, 1).expect(t, 200, 0)
	liked[last] = true
	want := int64(0)
	for _, l := range liked {
		if l {
			want++
		}
	}
	type view struct {
		fan, author userCounts
		list        []int64
		flags       map[int64]counted
	}
	look := func(lister account) view {
		flags := map[int64]counted{}
		for _, v := range countedPublishList(t, fan, author.ID) {
			flags[v.ID] = v.counted
		}
		return view{fan: userInfo(t, viewer, fan.ID), author: userInfo(t, viewer, author.ID), list: favoriteList(t, lister, fan.ID), flags: flags}
	}
	check := func(v view) string {
		if v.fan.FavoriteCount != want || v.author.TotalFavorited != want || int64(len(v.list)) != want || len(v.flags) != len(videos) {
			return fmt.Sprintf("favorite_count %d, total_favorited %d, list of %d, %d videos shown; want %d liked of %d",
				v.fan.FavoriteCount, v.author.TotalFavorited, len(v.list), len(v.flags), want, len(videos))
		}
		if v.list[0] != last {
			return fmt.Sprintf("the list starts with %d, not the last liked %d", v.list[0], last)
		}
		for _, id := range v.list {
			if !liked[id] {
				return fmt.Sprintf("video %d is in the list but not liked", id)
			}
		}
		for _, id := range videos {
			if c := v.flags[id]; c.IsFavorite != liked[id] || c.FavoriteCount != map[bool]int64{true: 1}[liked[id]] {
				return fmt.Sprintf("video %d shows %+v, liked %v", id, c, liked[id])
			}
		}
		return ""
	}
	before := look(fan) // the fan's own list: every video in it shows is_favorite
	if msg := check(before); msg != "" {
		t.Fatal(msg)
	}
	waitPersisted(t, openDB(t), want, `SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND liked`, fan.ID)
	if _, err := stack.WipeStateStore(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() (bool, string) {
		// The list as someone else sees it: while the restore runs, the fan's own would fail the
		// test at once on an is_favorite not yet restored.
		now := look(viewer)
		if msg := check(now); msg != "" {
			return false, "after the state store lost its data: " + msg
		}
		return slices.Equal(now.list, before.list), fmt.Sprintf("the list changed order: %v, was %v", now.list[:5], before.list[:5])
	})
}

// waitHotModel waits until owner's hot model is complete in the state store: its marker key is
// written once a restore after a loss has finished (hotmodel.KeepRestored).
func waitHotModel(t *testing.T, owner string) {
	t.Helper()
	eventually(t, 3*time.Minute, func() (bool, string) {
		return hotModelComplete(owner), owner + " has not restored its hot model"
	})
}

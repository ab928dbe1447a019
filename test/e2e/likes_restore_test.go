//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Likes and unlikes made while the favorite service rebuilds its hot model after the state
// store lost its data are all kept, and counted once: the fans like and unlike videos from the
// moment of the loss (before the services notice it) until the restore has finished, on videos
// whose likes PostgreSQL already has (the restore writes the same keys), videos they liked
// through the API just before the loss (this process remembers writing those keys), and videos
// they never liked; old events are delivered again meanwhile. Once the hot model is marked
// complete, each fan's own favorite list shows is_favorite on every video, newest first, the
// publish list and the feed show each fan's flags and exact counts, and so do user profiles.
func TestLikesDuringARestoreAreKept(t *testing.T) {
	waitHotModel(t, "favorite") // a loss in an earlier test is over: this test makes its own
	author := register(t, "rsauthor")
	fresh := publishedVideo(t, author) // on the feed's first page
	videos := append(seedVideos(t, author, 1400), fresh)
	const nFans = 5
	fans := make([]account, nFans)
	for i := range fans {
		fans[i] = register(t, "rsfan")
	}
	db := openDB(t)

	// liked[f][v]: what fan f's last acknowledged action on v was.
	liked := make([]map[int64]bool, nFans)
	for i := range liked {
		liked[i] = map[int64]bool{}
	}
	// Persisted likes the hot model does not have yet: the restore brings them. The first fan has
	// more than a favorite list shows (favoriteapi.MaxListed); the others some hundreds each.
	base := time.Now().Add(-24 * time.Hour).UnixMilli()
	for f, fan := range fans {
		n := 300 + 60*f
		if f == 0 {
			n = 1200
		}
		if _, err := db.Exec(`
			INSERT INTO favorite.likes (user_id, video_id, author_id, liked, changed_at, event_id)
			SELECT $1::bigint, v, $2::bigint, true, $3::bigint + i, 'seed-' || $1::bigint || '-' || v
			FROM unnest($4::bigint[]) WITH ORDINALITY AS s(v, i)`,
			fan.ID, author.ID, base, videos[f*40:f*40+n]); err != nil {
			t.Fatal(err)
		}
		for _, v := range videos[f*40 : f*40+n] {
			liked[f][v] = true
		}
	}
	// Likes through the API just before the loss: the shards and windows of these are in the
	// favorite processes' memory of their own writes.
	pool := make([][]int64, nFans) // the videos each fan acts on during the restore
	for f, fan := range fans {
		seeded := videos[f*40 : f*40+20]           // liked in PostgreSQL only
		before := videos[1300+f*10 : 1300+f*10+10] // liked through the API before the loss
		never := videos[1350+f*8 : 1350+f*8+8]     // not liked before
		pool[f] = slices.Concat(seeded, before, never, []int64{fresh})
		for _, v := range before {
			like(t, fan, v, 1).expect(t, 200, 0)
			liked[f][v] = true
		}
	}
	waitPersisted(t, db, int64(nFans*10), `SELECT count(*) FROM favorite.likes WHERE user_id = ANY($1) AND event_id NOT LIKE 'seed-%'`, ids(fans))

	// Events to deliver again during the restore: the persisted ones of the API likes as they
	// were, and older unlikes of the same pairs.
	var redeliver []map[string]any
	rows, err := db.Query(`SELECT user_id, video_id, event_id, changed_at FROM favorite.likes WHERE user_id = ANY($1) AND event_id NOT LIKE 'seed-%'`, ids(fans))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var user, video, at int64
		var event string
		if err := rows.Scan(&user, &video, &event, &at); err != nil {
			t.Fatal(err)
		}
		redeliver = append(redeliver,
			map[string]any{"event_id": event, "user_id": user, "video_id": video, "author_id": author.ID, "liked": true, "at": at},
			map[string]any{"event_id": "old-" + event, "user_id": user, "video_id": video, "author_id": author.ID, "liked": false, "at": at - 60_000})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	if _, err := stack.WipeStateStore(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every fan acts on its pool in rounds until the hot model is complete again (at most
	// 20 actions a second each: the stack's writes per user).
	start := time.Now()
	var duringRestore, rounds [nFans]int
	var failed [nFans]string
	var wg sync.WaitGroup
	for f, fan := range fans {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(fan.ID), 7))
			for round := 0; ; round++ {
				complete := hotModelComplete("favorite")
				if complete && round >= 2 || time.Since(start) > 3*time.Minute {
					return
				}
				for _, v := range pool[f] {
					act := 1 + rng.IntN(2)
					if r := likeAcknowledged(t, fan, v, act); r != nil {
						failed[f] = fmt.Sprintf("action %d on video %d: HTTP %d %s", act, v, r.HTTPStatus, r.Raw)
						return
					}
					liked[f][v] = act == 1
					time.Sleep(50 * time.Millisecond)
				}
				rounds[f]++
				if !complete {
					duringRestore[f]++
				}
			}
		})
	}
	var redeliveryFailed error
	wg.Go(func() {
		for !hotModelComplete("favorite") && time.Since(start) < 3*time.Minute && redeliveryFailed == nil {
			for _, e := range redeliver {
				if redeliveryFailed = sendLikeEvent(e); redeliveryFailed != nil {
					break
				}
			}
			time.Sleep(time.Second)
		}
	})
	wg.Wait()
	if redeliveryFailed != nil {
		t.Fatal(redeliveryFailed)
	}
	for f := range fans {
		if failed[f] != "" {
			t.Fatalf("fan %d: %s", f, failed[f])
		}
		if duringRestore[f] == 0 {
			t.Fatalf("fan %d finished no round of likes before the hot model was complete again (rounds: %v): the test did not test a restore", f, rounds)
		}
	}
	waitHotModel(t, "favorite")
	t.Logf("rounds of %d actions per fan while the store was being restored: %v; %s in all", len(pool[0]), duringRestore, time.Since(start).Round(time.Second))

	// The hot model is complete: everything must show at once, and still once the changes are
	// persisted and both favorite processes are done.
	checkLikesShown(t, author, fans, videos, fresh, liked, "right after the restore")
	for f, fan := range fans {
		want := int64(0)
		for _, l := range liked[f] {
			if l {
				want++
			}
		}
		waitPersisted(t, db, want, `SELECT count(*) FROM favorite.likes WHERE user_id = $1 AND liked`, fan.ID)
	}
	time.Sleep(6 * time.Second) // a second restore (the other process) and any redelivery land
	checkLikesShown(t, author, fans, videos, fresh, liked, "once persisted")
	// The favorite lists are newest first: the order PostgreSQL has.
	for _, fan := range fans {
		var want []int64
		rows, err := db.Query(`SELECT video_id FROM favorite.likes WHERE user_id = $1 AND liked ORDER BY changed_at DESC, video_id DESC LIMIT 1000`, fan.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			want = append(want, v)
		}
		if got := favoriteList(t, fan, fan.ID); !slices.Equal(got, want) {
			t.Fatalf("fan %d's favorite list is not its likes newest first: %d videos, want %d", fan.ID, len(got), len(want))
		}
	}
}

// checkLikesShown checks, as each fan, its own favorite list, the author's publish list and the
// feed against liked, and the counts of the videos, the fans and the author.
func checkLikesShown(t *testing.T, author account, fans []account, videos []int64, fresh int64, liked []map[int64]bool, when string) {
	t.Helper()
	likes := map[int64]int64{}
	total := int64(0)
	for f := range fans {
		for v, l := range liked[f] {
			if l {
				likes[v]++
				total++
			}
		}
	}
	for f, fan := range fans {
		var mine []int64
		for v, l := range liked[f] {
			if l {
				mine = append(mine, v)
			}
		}
		list := favoriteList(t, fan, fan.ID) // fails on an is_favorite false
		if want := min(len(mine), 1000); len(list) != want {
			t.Fatalf("%s: fan %d's own favorite list has %d videos, want %d", when, f, len(list), want)
		}
		for _, v := range list {
			if !liked[f][v] {
				t.Fatalf("%s: fan %d's favorite list has video %d, which it does not like", when, f, v)
			}
		}
		if u := userInfo(t, fan, fan.ID); u.FavoriteCount != int64(len(mine)) {
			t.Fatalf("%s: fan %d's favorite_count %d, want %d", when, f, u.FavoriteCount, len(mine))
		}
		shown := countedPublishList(t, fan, author.ID)
		if len(shown) != len(videos) {
			t.Fatalf("%s: the publish list has %d videos, want %d", when, len(shown), len(videos))
		}
		for _, v := range shown {
			if v.IsFavorite != liked[f][v.ID] || v.FavoriteCount != likes[v.ID] || v.Author.TotalFavorited != total {
				t.Fatalf("%s: fan %d sees video %d as %+v; want is_favorite %v, favorite_count %d, total_favorited %d",
					when, f, v.ID, v.counted, liked[f][v.ID], likes[v.ID], total)
			}
		}
		if c := feedVideo(t, &fan, fresh); c.IsFavorite != liked[f][fresh] || c.FavoriteCount != likes[fresh] {
			t.Fatalf("%s: fan %d's feed shows %+v; want is_favorite %v, favorite_count %d", when, f, c, liked[f][fresh], likes[fresh])
		}
	}
	if u := userInfo(t, fans[0], author.ID); u.TotalFavorited != total {
		t.Fatalf("%s: the author's total_favorited %d, want %d", when, u.TotalFavorited, total)
	}
}

// likeAcknowledged sends a like or unlike until it is acknowledged, as the app does with a 503
// that asks to try again (the machine running the tests may be busy enough for an invocation
// between two sidecars to fail); it returns the last refusal if that does not happen. A refused
// action may still have been announced: the one sent again is newer, so the outcome is act.
func likeAcknowledged(t *testing.T, fan account, video int64, act int) *reply {
	for attempt := 0; ; attempt++ {
		r := do(t, "POST", "/douyin/favorite/action/", url.Values{
			"video_id": {strconv.FormatInt(video, 10)}, "action_type": {strconv.Itoa(act)}, "token": {fan.Token}}, nil, nil)
		code, ok := r.Body["status_code"].(float64)
		if r.HTTPStatus == 200 && ok && code == 0 {
			return nil
		}
		if r.HTTPStatus != 503 || r.Header.Get("Retry-After") == "" || attempt == 4 {
			return &r
		}
		time.Sleep(time.Second)
	}
}

func ids(accounts []account) []int64 {
	out := make([]int64, len(accounts))
	for i, a := range accounts {
		out[i] = a.ID
	}
	return out
}

// hotModelComplete reports whether owner's hot model is marked complete (hotmodel.KeepRestored).
func hotModelComplete(owner string) bool {
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(stackCf.RedisPort), "EXISTS", "statestore||"+owner+":hot-model").CombinedOutput()
	return err == nil && strings.TrimSpace(string(out)) == "1"
}

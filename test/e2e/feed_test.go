//go:build e2e

package e2e

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestFeedScrollsEveryPageToTheEnd scrolls the whole timeline the way the app does (latest_time =
// the previous next_time) and compares it with the feed's own table: every video exactly once,
// newest first, next_time the publish time of each page's oldest video, and an empty last page
// whose next_time is the current time.
func TestFeedScrollsEveryPageToTheEnd(t *testing.T) {
	a := register(t, "scroller")
	for i := range 3 {
		upload(t, a.Token, "scrolled "+strconv.Itoa(i), testClip(t)).expect(t, 200, 0)
	}
	// Uploads still running in parallel tests index within their call; 5 s back, none is pending.
	start := time.Now().Add(-5 * time.Second).UnixMilli()
	if start <= 0 {
		t.Fatal("clock")
	}
	db := openDB(t)
	rows, err := db.Query(`SELECT video_id, published_at FROM feed.timeline WHERE published_at < $1 ORDER BY published_at DESC`, start)
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs, wantTimes []int64
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		wantIDs, wantTimes = append(wantIDs, id), append(wantTimes, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(wantIDs) == 0 {
		t.Skip("no video older than five seconds yet")
	}

	for _, viewer := range []*account{nil, &a} {
		latest, got := start, 0
		for page := 0; ; page++ {
			if page > len(wantIDs) {
				t.Fatal("scrolling does not end")
			}
			q := url.Values{"latest_time": {strconv.FormatInt(latest, 10)}}
			if viewer != nil {
				q.Set("token", viewer.Token)
			}
			before := time.Now().UnixMilli()
			f := feedPage(t, q)
			if len(f.VideoList) == 0 {
				if got != len(wantIDs) {
					t.Fatalf("the feed ended after %d of %d videos", got, len(wantIDs))
				}
				if f.NextTime < before {
					t.Fatalf("an empty page's next_time %d is not the current time (%d)", f.NextTime, before)
				}
				break
			}
			if len(f.VideoList) != 30 && got+len(f.VideoList) != len(wantIDs) {
				t.Fatalf("page %d has %d videos with more to come", page, len(f.VideoList))
			}
			for _, v := range f.VideoList {
				if got >= len(wantIDs) || v.ID != wantIDs[got] {
					t.Fatalf("page %d: video %d where the timeline has %v next", page, v.ID, wantIDs[got:min(got+1, len(wantIDs))])
				}
				got++
			}
			if f.NextTime != wantTimes[got-1] {
				t.Fatalf("page %d: next_time %d, the oldest video's publish time is %d", page, f.NextTime, wantTimes[got-1])
			}
			latest = f.NextTime
		}
	}
}

// TestFeedCountersAreFreshOnAnOlderPage likes and unlikes a video while it sits on an older page
// (a latest_time in the past), which every request must show at once: the counters are never
// cached with the page.
func TestFeedCountersAreFreshOnAnOlderPage(t *testing.T) {
	author, fan := register(t, "olderauthor"), register(t, "olderfan")
	videoID := publishedVideo(t, author)
	var at int64
	if err := openDB(t).QueryRow(`SELECT published_at FROM feed.timeline WHERE video_id = $1`, videoID).Scan(&at); err != nil {
		t.Fatal(err)
	}
	// A newer video, so the page below is not the newest one.
	upload(t, author.Token, "newer", testClip(t)).expect(t, 200, 0)
	older := func(viewer account) counted {
		t.Helper()
		var out struct {
			VideoList []countedVideo `json:"video_list"`
		}
		get(t, "/douyin/feed/", url.Values{"latest_time": {strconv.FormatInt(at+1, 10)}, "token": {viewer.Token}}).
			expect(t, 200, 0).decode(t, &out)
		if len(out.VideoList) == 0 || out.VideoList[0].ID != videoID {
			t.Fatalf("video %d is not first on the page before %d: %+v", videoID, at+1, out.VideoList)
		}
		return out.VideoList[0].counted
	}
	if c := older(fan); c.FavoriteCount != 0 || c.IsFavorite || c.Author.TotalFavorited != 0 {
		t.Fatalf("before the like: %+v", c)
	}
	like(t, fan, videoID, 1).expect(t, 200, 0)
	if c := older(fan); c.FavoriteCount != 1 || !c.IsFavorite || c.Author.TotalFavorited != 1 {
		t.Fatalf("right after the like, as the fan: %+v", c)
	}
	if c := older(author); c.FavoriteCount != 1 || c.IsFavorite {
		t.Fatalf("right after the like, as the author: %+v", c)
	}
	like(t, fan, videoID, 2).expect(t, 200, 0)
	if c := older(fan); c.FavoriteCount != 0 || c.IsFavorite || c.Author.TotalFavorited != 0 {
		t.Fatalf("right after the unlike: %+v", c)
	}
}

// TestFeedShowsANewUploadOnTheNewestPageAtOnce reads the newest page (so the gateway holds its
// entries), uploads, and reads it again: the new video is there, with its author's new work count.
func TestFeedShowsANewUploadOnTheNewestPageAtOnce(t *testing.T) {
	a := register(t, "fresh")
	upload(t, a.Token, "fresh one", testClip(t)).expect(t, 200, 0)
	feedPage(t, nil)
	upload(t, a.Token, "fresh two", testClip(t)).expect(t, 200, 0)
	newest := publishList(t, a, a.ID)[0]
	for _, q := range []url.Values{nil, {"token": {a.Token}}} {
		found := false
		for _, v := range feedPage(t, q).VideoList {
			if v.ID == newest.ID {
				found = true
				if v.Title != "fresh two" || v.Author.WorkCount != 2 {
					t.Fatalf("new video on the feed: %+v", v)
				}
			}
		}
		if !found {
			t.Fatalf("video %d is not on the newest page right after its upload", newest.ID)
		}
	}
}

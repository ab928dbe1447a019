//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type commentJSON struct {
	ID   int64 `json:"id"`
	User struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	Content    string `json:"content"`
	CreateDate string `json:"create_date"`
}

func comment(t *testing.T, a account, videoID int64, text string) reply {
	t.Helper()
	return postForm(t, "/douyin/comment/action/", url.Values{
		"video_id": {strconv.FormatInt(videoID, 10)}, "action_type": {"1"}, "comment_text": {text}, "token": {a.Token},
	})
}

func deleteComment(t *testing.T, a account, videoID, commentID int64) reply {
	t.Helper()
	return postQuery(t, "/douyin/comment/action/", url.Values{
		"video_id": {strconv.FormatInt(videoID, 10)}, "action_type": {"2"}, "comment_id": {strconv.FormatInt(commentID, 10)}, "token": {a.Token},
	})
}

func comments(t *testing.T, viewer account, videoID int64) []commentJSON {
	t.Helper()
	var out struct {
		CommentList []commentJSON `json:"comment_list"`
	}
	r := get(t, "/douyin/comment/list/", url.Values{"video_id": {strconv.FormatInt(videoID, 10)}, "token": {viewer.Token}}).expect(t, 200, 0)
	if !strings.Contains(string(r.Raw), `"comment_list":[`) {
		t.Fatalf("comment_list is not a list: %s", r.Raw)
	}
	r.decode(t, &out)
	return out.CommentList
}

func TestCommentRules(t *testing.T) {
	author, alice, bob := register(t, "cauthor"), register(t, "calice"), register(t, "cbob")
	v := publishedVideo(t, author)
	other := publishedVideo(t, author)

	var first struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, alice, v, "first! 第一").expect(t, 200, 0).decode(t, &first)
	c1 := first.Comment
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("01-02")
	if c1.ID <= 0 || c1.Content != "first! 第一" || c1.User.ID != alice.ID || c1.User.Name != alice.Name || c1.CreateDate != today {
		t.Fatalf("add answered %+v (today is %s)", c1, today)
	}
	time.Sleep(5 * time.Millisecond)
	var second struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, bob, v, "second").expect(t, 200, 0).decode(t, &second)
	c2 := second.Comment

	list := comments(t, author, v)
	if len(list) != 2 || list[0].ID != c2.ID || list[1].ID != c1.ID {
		t.Fatalf("list is not newest first: %+v", list)
	}
	if n := videoAsSeenBy(t, bob, author.ID, v).CommentCount; n != 2 {
		t.Fatalf("comment_count %d, want 2", n)
	}

	// Only the author deletes; anyone else changes nothing.
	deleteComment(t, bob, v, c1.ID).expect(t, 200, 30005)
	deleteComment(t, alice, other, c1.ID).expect(t, 200, 30004) // not on that video
	deleteComment(t, alice, v, 9007199254740000).expect(t, 200, 30004)
	if n := videoAsSeenBy(t, bob, author.ID, v).CommentCount; n != 2 {
		t.Fatalf("comment_count after refused deletes: %d", n)
	}
	var deleted struct {
		Comment commentJSON `json:"comment"`
	}
	deleteComment(t, alice, v, c1.ID).expect(t, 200, 0).decode(t, &deleted) // no comment_text needed
	if deleted.Comment.ID != c1.ID {
		t.Fatalf("delete answered %+v", deleted.Comment)
	}
	deleteComment(t, alice, v, c1.ID).expect(t, 200, 30004) // already gone
	if list := comments(t, bob, v); len(list) != 1 || list[0].ID != c2.ID {
		t.Fatalf("list after delete: %+v", list)
	}
	if n := videoAsSeenBy(t, bob, author.ID, v).CommentCount; n != 1 {
		t.Fatalf("comment_count after delete: %d", n)
	}
	if n := feedVideo(t, nil, v).CommentCount; n != 1 {
		t.Fatalf("feed comment_count after delete: %d", n)
	}

	// Bad input.
	comment(t, alice, v, "").expect(t, 200, 10008)
	comment(t, alice, v, "   ").expect(t, 200, 10008)
	comment(t, alice, v, strings.Repeat("字", 501)).expect(t, 200, 10008)
	comment(t, alice, v, strings.Repeat("字", 500)).expect(t, 200, 0)
	comment(t, alice, 9007199254740000, "hello").expect(t, 200, 30003)
	postQuery(t, "/douyin/comment/action/", url.Values{"video_id": {strconv.FormatInt(v, 10)}, "action_type": {"3"}, "token": {alice.Token}}).expect(t, 200, 10002)
	postQuery(t, "/douyin/comment/action/", url.Values{"video_id": {strconv.FormatInt(v, 10)}, "action_type": {"2"}, "comment_id": {"x"}, "token": {alice.Token}}).expect(t, 200, 10001)
	postQuery(t, "/douyin/comment/action/", url.Values{"video_id": {"x"}, "action_type": {"1"}, "token": {alice.Token}}).expect(t, 200, 10001)
	postQuery(t, "/douyin/comment/action/", url.Values{"video_id": {strconv.FormatInt(v, 10)}, "action_type": {"1"}, "comment_text": {"hi"}}).expect(t, 401, 20001)
	get(t, "/douyin/comment/list/", url.Values{"video_id": {"9007199254740000"}, "token": {alice.Token}}).expect(t, 200, 30003)
	if list := comments(t, alice, other); len(list) != 0 {
		t.Fatalf("a video without comments lists %d", len(list))
	}

	// Everything reaches PostgreSQL: 3 comments written, 1 deleted.
	db := openDB(t)
	waitPersisted(t, db, 2, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND NOT deleted`, v)
	waitPersisted(t, db, 1, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND deleted`, v)
}

func TestConcurrentCommentsAreExact(t *testing.T) {
	author := register(t, "busy")
	v := publishedVideo(t, author)
	const n = 30
	talkers := make([]account, n)
	for i := range talkers {
		talkers[i] = register(t, "talker")
	}
	// Replies are checked once all are in: a test may fail only from its own goroutine.
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i, a := range talkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = comment(t, a, v, "comment "+strconv.Itoa(i))
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, r := range replies {
		var out struct {
			Comment commentJSON `json:"comment"`
		}
		r.expect(t, 200, 0).decode(t, &out)
		if seen[out.Comment.ID] {
			t.Fatalf("comment id %d handed out twice", out.Comment.ID)
		}
		seen[out.Comment.ID] = true
	}
	if got := videoAsSeenBy(t, author, author.ID, v).CommentCount; got != n {
		t.Fatalf("comment_count %d, want %d", got, n)
	}
	if list := comments(t, author, v); len(list) != n {
		t.Fatalf("list has %d, want %d", len(list), n)
	}

	// Two thirds delete theirs while the others add a second one.
	var mine struct {
		Comment commentJSON `json:"comment"`
	}
	ids := make([]int64, n)
	for i, r := range replies {
		r.decode(t, &mine)
		ids[i] = mine.Comment.ID
	}
	for i, a := range talkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 {
				replies[i] = comment(t, a, v, "again "+strconv.Itoa(i))
			} else {
				replies[i] = deleteComment(t, a, v, ids[i])
			}
		}()
	}
	wg.Wait()
	for _, r := range replies {
		r.expect(t, 200, 0)
	}
	const want = n - 2*n/3 + n/3
	if got := videoAsSeenBy(t, author, author.ID, v).CommentCount; got != want {
		t.Fatalf("comment_count %d after adds and deletes, want %d", got, want)
	}
	if list := comments(t, author, v); len(list) != want {
		t.Fatalf("list has %d after adds and deletes, want %d", len(list), want)
	}
	db := openDB(t)
	waitPersisted(t, db, want, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND NOT deleted`, v)
	waitPersisted(t, db, 2*n/3, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND deleted`, v)
}

func addComment(t *testing.T, a account, videoID int64, text string) int64 {
	t.Helper()
	var out struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, a, videoID, text).expect(t, 200, 0).decode(t, &out)
	return out.Comment.ID
}

// newestIDs lists the newest (last added) max ids of ids, newest first.
func newestIDs(ids []int64, max int) []int64 {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out[:min(len(out), max)]
}

func commentIDs(list []commentJSON) []int64 {
	ids := make([]int64, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// A video with more comments than its hot window keeps (README: the newest 150, the list the
// newest 100): the list is the newest 100, newest first, also once deletions thin the newest
// and the list reaches into PostgreSQL; an old comment, long dropped from the window, is
// deleted once and counted once; and after the state store loses everything, the window starts
// again from PostgreSQL with the same count and list.
func TestBigVideoListsTheNewestAndDeletesOldComments(t *testing.T) {
	const n, capped = 220, 100
	author, writer := register(t, "bigauthor"), register(t, "bigwriter")
	v := publishedVideo(t, author)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = addComment(t, writer, v, "comment "+strconv.Itoa(i))
	}
	if got := commentIDs(comments(t, author, v)); !slices.Equal(got, newestIDs(ids, capped)) {
		t.Fatalf("the list is not the newest %d, newest first: %v", capped, got)
	}
	db := openDB(t)
	waitPersisted(t, db, n, `SELECT count(*) FROM comment.comments WHERE video_id = $1`, v)

	// The oldest: only its author deletes it, once.
	deleteComment(t, author, v, ids[0]).expect(t, 200, 30005)
	deleteComment(t, writer, v, ids[0]).expect(t, 200, 0)
	deleteComment(t, writer, v, ids[0]).expect(t, 200, 30004)
	if got := videoAsSeenBy(t, author, author.ID, v).CommentCount; got != n-1 {
		t.Fatalf("comment_count %d after deleting an old comment, want %d", got, n-1)
	}

	// Thin the newest: the list then reaches past what the window holds.
	for _, id := range ids[n-70:] {
		deleteComment(t, writer, v, id).expect(t, 200, 0)
	}
	want := newestIDs(ids[1:n-70], capped)
	if got := commentIDs(comments(t, author, v)); !slices.Equal(got, want) {
		t.Fatalf("after deleting the newest 70 the list is %v, want %v", got, want)
	}
	if got := videoAsSeenBy(t, author, author.ID, v).CommentCount; got != n-71 {
		t.Fatalf("comment_count %d, want %d", got, n-71)
	}
	waitPersisted(t, db, 71, `SELECT count(*) FROM comment.comments WHERE video_id = $1 AND deleted`, v)

	wiped, err := stack.WipeStateStore(context.Background())
	if err != nil || wiped == 0 {
		t.Fatalf("wipe: %d keys, %v", wiped, err)
	}
	eventually(t, 60*time.Second, func() (bool, string) {
		got, count := commentIDs(comments(t, author, v)), videoAsSeenBy(t, author, author.ID, v).CommentCount
		return slices.Equal(got, want) && count == n-71, fmt.Sprintf("after the loss: count %d, list %v", count, got)
	})
	// The window started again: an old comment still deletes once, a new one lists first.
	deleteComment(t, writer, v, ids[1]).expect(t, 200, 0)
	deleteComment(t, writer, v, ids[1]).expect(t, 200, 30004)
	last := addComment(t, writer, v, "after the loss")
	if list := comments(t, author, v); len(list) != capped || list[0].ID != last {
		t.Fatalf("after the loss the list has %d, starting with %d; want %d starting with %d", len(list), list[0].ID, capped, last)
	}
	if got := videoAsSeenBy(t, author, author.ID, v).CommentCount; got != n-71 {
		t.Fatalf("comment_count %d after the loss, a delete and an add, want %d", got, n-71)
	}
}

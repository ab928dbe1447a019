//go:build e2e

package e2e

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// userJSON is a User object as the API sends it.
type userJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	FollowCount   int64  `json:"follow_count"`
	FollowerCount int64  `json:"follower_count"`
	IsFollow      bool   `json:"is_follow"`
}

// friendJSON is an entry of a user list: a User, plus message and msgType on the friend list.
type friendJSON struct {
	userJSON
	Message string `json:"message"`
	MsgType int64  `json:"msgType"`
}

// friendUserFields are the keys of a FriendUser: every User field flattened, and two more.
var friendUserFields = append(slices.Clone(userFields), "message", "msgType")

const (
	followListPath   = "/douyin/relation/follow/list/"
	followerListPath = "/douyin/relation/follower/list/"
	friendListPath   = "/douyin/relation/friend/list/"
)

// follow makes a follow (actionType 1) or unfollow (2) toUserID.
func follow(t *testing.T, a account, toUserID int64, actionType int) reply {
	t.Helper()
	return postQuery(t, "/douyin/relation/action/", url.Values{
		"to_user_id": {strconv.FormatInt(toUserID, 10)}, "action_type": {strconv.Itoa(actionType)}, "token": {a.Token},
	})
}

// userList reads a relation list (follow, follower or friend) of userID as viewer sees it.
func userList(t *testing.T, path string, viewer account, userID int64) []friendJSON {
	t.Helper()
	r := get(t, path, url.Values{"user_id": {strconv.FormatInt(userID, 10)}, "token": {viewer.Token}}).expect(t, 200, 0)
	if !strings.Contains(string(r.Raw), `"user_list":[`) {
		t.Fatalf("%s: user_list is not a list: %s", path, r.Raw)
	}
	var out struct {
		UserList []friendJSON `json:"user_list"`
	}
	r.decode(t, &out)
	return out.UserList
}

// profile reads a user's profile as viewer sees it.
func profile(t *testing.T, viewer account, id int64) userJSON {
	t.Helper()
	var out struct {
		User userJSON `json:"user"`
	}
	get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(id, 10)}, "token": {viewer.Token}}).
		expect(t, 200, 0).decode(t, &out)
	return out.User
}

func idsOf(list []friendJSON) []int64 {
	ids := []int64{}
	for _, u := range list {
		ids = append(ids, u.ID)
	}
	return ids
}

// sameSet reports whether two id lists hold the same ids, each once.
func sameSet(got, want []int64) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w) && len(slices.Compact(g)) == len(got)
}

// checkKeys fails unless the JSON object m has exactly the keys want.
func checkKeys(t *testing.T, what string, m any, want []string) {
	t.Helper()
	obj, ok := m.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, m)
	}
	got := slices.Sorted(maps.Keys(obj))
	if w := slices.Sorted(slices.Values(want)); !slices.Equal(got, w) {
		t.Fatalf("%s has keys %v, want %v", what, got, w)
	}
}

// inParallel runs send(0) … send(n-1) at once and hands their replies back, for the test's own
// goroutine to check (a test may fail only from its own goroutine).
func inParallel(n int, send func(i int) reply) []reply {
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = send(i)
		}()
	}
	wg.Wait()
	return replies
}

// registerMany registers n users, a few at a time: registration hashes a password, so one by
// one is slow, and all at once starves the user service (a registration burst is not what the
// tests using this are about).
func registerMany(t *testing.T, prefix string, n int) []account {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = uniqueName(prefix)
	}
	slots := make(chan struct{}, 4)
	replies := inParallel(n, func(i int) reply {
		slots <- struct{}{}
		defer func() { <-slots }()
		return postQuery(t, "/douyin/user/register/", url.Values{"username": {names[i]}, "password": {"secret123"}})
	})
	accounts := make([]account, n)
	for i, r := range replies {
		var out struct {
			UserID int64  `json:"user_id"`
			Token  string `json:"token"`
		}
		r.expect(t, 200, 0).decode(t, &out)
		if out.UserID <= 0 || out.Token == "" {
			t.Fatalf("register %s: %s", names[i], r.Raw)
		}
		accounts[i] = account{ID: out.UserID, Name: names[i], Token: out.Token}
	}
	return accounts
}

func TestFollowRules(t *testing.T) {
	t.Parallel()
	a, b, c, d := register(t, "fa"), register(t, "fb"), register(t, "fc"), register(t, "fd")

	follow(t, a, b.ID, 1).expect(t, 200, 0)
	follow(t, a, b.ID, 1).expect(t, 200, 0) // following twice = once
	if u := profile(t, c, b.ID); u.FollowerCount != 1 || u.FollowCount != 0 || u.IsFollow {
		t.Fatalf("b as c sees b after a follows b: %+v", u)
	}
	if u := profile(t, c, a.ID); u.FollowCount != 1 || u.FollowerCount != 0 || u.IsFollow {
		t.Fatalf("a as c sees a after a follows b: %+v", u)
	}
	if u := profile(t, a, b.ID); !u.IsFollow || u.FollowerCount != 1 {
		t.Fatalf("b as its follower a sees b: %+v", u)
	}
	if u := profile(t, b, a.ID); u.IsFollow {
		t.Fatalf("b does not follow a, yet sees is_follow: %+v", u)
	}

	// Refused: nothing changes.
	follow(t, a, a.ID, 1).expect(t, 200, 30006)
	follow(t, a, 9007199254740000, 1).expect(t, 200, 30002)
	follow(t, a, b.ID, 3).expect(t, 200, 10002)
	follow(t, a, b.ID, 0).expect(t, 200, 10002)
	for _, id := range []string{"abc", "0", "-3", "1.5"} {
		postQuery(t, "/douyin/relation/action/", url.Values{"to_user_id": {id}, "action_type": {"1"}, "token": {a.Token}}).expect(t, 200, 10001)
	}
	postQuery(t, "/douyin/relation/action/", url.Values{"action_type": {"1"}, "token": {a.Token}}).expect(t, 200, 10001)
	postQuery(t, "/douyin/relation/action/", url.Values{"to_user_id": {strconv.FormatInt(c.ID, 10)}, "action_type": {"1"}}).expect(t, 401, 20001)
	follow(t, c, b.ID, 2).expect(t, 200, 0) // unfollowing someone you don't follow changes nothing
	if u := profile(t, d, a.ID); u.FollowCount != 1 || u.FollowerCount != 0 {
		t.Fatalf("a after refused follows: %+v", u)
	}
	if u := profile(t, d, b.ID); u.FollowerCount != 1 {
		t.Fatalf("b after a stranger's unfollow: %+v", u)
	}
	if u := profile(t, d, c.ID); u.FollowCount != 0 || u.FollowerCount != 0 {
		t.Fatalf("c after its unfollow of nobody: %+v", u)
	}

	// Lists are most recently followed first; 20 ms apart are ordered.
	time.Sleep(20 * time.Millisecond)
	follow(t, a, d.ID, 1).expect(t, 200, 0)
	time.Sleep(20 * time.Millisecond)
	follow(t, a, c.ID, 1).expect(t, 200, 0)
	if ids := idsOf(userList(t, followListPath, d, a.ID)); !slices.Equal(ids, []int64{c.ID, d.ID, b.ID}) {
		t.Fatalf("a's follow list %v, want [c d b] = %v", ids, []int64{c.ID, d.ID, b.ID})
	}
	// As a sees it, every entry is followed; as d sees it, none is (d follows nobody), d itself
	// included; counts are the same for both viewers.
	for _, u := range userList(t, followListPath, a, a.ID) {
		if !u.IsFollow || u.FollowerCount != 1 {
			t.Fatalf("a's follow list as a: %+v", u)
		}
	}
	for _, u := range userList(t, followListPath, d, a.ID) {
		if u.IsFollow || u.FollowerCount != 1 {
			t.Fatalf("a's follow list as d: %+v", u)
		}
	}
	r := get(t, followListPath, url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}, "token": {a.Token}}).expect(t, 200, 0)
	for i, u := range r.Body["user_list"].([]any) {
		checkKeys(t, fmt.Sprintf("follow list entry %d", i), u, userFields)
	}

	// Re-following after an unfollow moves b to the front.
	follow(t, a, b.ID, 2).expect(t, 200, 0)
	if u := profile(t, c, b.ID); u.FollowerCount != 0 {
		t.Fatalf("b after a's unfollow: %+v", u)
	}
	if u := profile(t, a, b.ID); u.IsFollow {
		t.Fatalf("a still sees is_follow on b after unfollowing: %+v", u)
	}
	if ids := idsOf(userList(t, followerListPath, c, b.ID)); len(ids) != 0 {
		t.Fatalf("b's follower list after a's unfollow: %v", ids)
	}
	time.Sleep(20 * time.Millisecond)
	follow(t, a, b.ID, 1).expect(t, 200, 0)
	if ids := idsOf(userList(t, followListPath, c, a.ID)); !slices.Equal(ids, []int64{b.ID, c.ID, d.ID}) {
		t.Fatalf("a's follow list after re-following b: %v, want [b c d] = %v", ids, []int64{b.ID, c.ID, d.ID})
	}

	// Follower lists, most recent first: b then d follow c, after a did.
	time.Sleep(20 * time.Millisecond)
	follow(t, b, c.ID, 1).expect(t, 200, 0)
	time.Sleep(20 * time.Millisecond)
	follow(t, d, c.ID, 1).expect(t, 200, 0)
	followers := userList(t, followerListPath, c, c.ID)
	if ids := idsOf(followers); !slices.Equal(ids, []int64{d.ID, b.ID, a.ID}) {
		t.Fatalf("c's follower list %v, want [d b a] = %v", ids, []int64{d.ID, b.ID, a.ID})
	}
	for _, u := range followers { // c follows none of them
		if u.IsFollow {
			t.Fatalf("c's follower list as c: %+v", u)
		}
	}
	if u := profile(t, b, c.ID); u.FollowerCount != 3 || u.FollowCount != 0 || !u.IsFollow {
		t.Fatalf("c as b sees it: %+v", u)
	}

	// Friends are mutual follows only: c follows a back; a's friends are c alone (a follows b and
	// d one-way), c's are a alone (b and d follow c one-way).
	follow(t, c, a.ID, 1).expect(t, 200, 0)
	if ids := idsOf(userList(t, friendListPath, b, a.ID)); !slices.Equal(ids, []int64{c.ID}) {
		t.Fatalf("a's friends %v, want [c] = %d", ids, c.ID)
	}
	if ids := idsOf(userList(t, friendListPath, b, c.ID)); !slices.Equal(ids, []int64{a.ID}) {
		t.Fatalf("c's friends %v, want [a] = %d", ids, a.ID)
	}
	for _, who := range []account{b, d} {
		if ids := idsOf(userList(t, friendListPath, a, who.ID)); len(ids) != 0 {
			t.Fatalf("%s has one-way follows only, yet friends %v", who.Name, ids)
		}
	}
	follow(t, c, a.ID, 2).expect(t, 200, 0)
	if ids := idsOf(userList(t, friendListPath, a, a.ID)); len(ids) != 0 {
		t.Fatalf("a's friends after c's unfollow: %v", ids)
	}

	// List errors.
	for _, path := range []string{followListPath, followerListPath, friendListPath} {
		get(t, path, url.Values{"user_id": {"9007199254740000"}, "token": {a.Token}}).expect(t, 200, 30002)
		get(t, path, url.Values{"user_id": {"abc"}, "token": {a.Token}}).expect(t, 200, 10001)
		get(t, path, url.Values{"token": {a.Token}}).expect(t, 200, 10001)
		get(t, path, url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}}).expect(t, 401, 20001)
	}

	// Everything reaches PostgreSQL: a follows b, c and d; b and d follow c; c unfollowed a (the
	// unfollow is kept, so that a late follow event cannot bring the follow back).
	db := openDB(t)
	waitPersisted(t, db, 3, `SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND following`, a.ID)
	waitPersisted(t, db, 3, `SELECT count(*) FROM relation.follows WHERE followee_id = $1 AND following`, c.ID)
	waitPersisted(t, db, 1, `SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND followee_id = $2 AND NOT following`, c.ID, a.ID)
	waitPersisted(t, db, 0, `SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND following`, c.ID)
}

// videoAuthor finds a video in a video list reply (feed, publish list, favorite list) and returns
// its author as that request's viewer sees it, and the feed's next_time (0 for an empty page).
func videoAuthor(t *testing.T, path string, query url.Values, videoID int64) (author userJSON, found bool, nextTime int64) {
	t.Helper()
	var out struct {
		VideoList []struct {
			ID     int64    `json:"id"`
			Author userJSON `json:"author"`
		} `json:"video_list"`
		NextTime int64 `json:"next_time"`
	}
	get(t, path, query).expect(t, 200, 0).decode(t, &out)
	if len(out.VideoList) == 0 {
		return userJSON{}, false, 0 // the end (an empty feed page's next_time starts over)
	}
	for _, v := range out.VideoList {
		if v.ID == videoID {
			return v.Author, true, out.NextTime
		}
	}
	return userJSON{}, false, out.NextTime
}

// feedAuthor pages through the feed as viewer (nil: anonymous) to a video and returns its author.
func feedAuthor(t *testing.T, viewer *account, videoID int64) userJSON {
	t.Helper()
	q := url.Values{}
	if viewer != nil {
		q.Set("token", viewer.Token)
	}
	for range 20 {
		author, found, next := videoAuthor(t, "/douyin/feed/", q, videoID)
		if found {
			return author
		}
		if next == 0 {
			break
		}
		q.Set("latest_time", strconv.FormatInt(next, 10))
	}
	t.Fatalf("video %d not found on the feed", videoID)
	return userJSON{}
}

// listAuthor returns the author of a video in a user's publish or favorite list as viewer sees it.
func listAuthor(t *testing.T, path string, viewer account, userID, videoID int64) userJSON {
	t.Helper()
	author, found, _ := videoAuthor(t, path, url.Values{"user_id": {strconv.FormatInt(userID, 10)}, "token": {viewer.Token}}, videoID)
	if !found {
		t.Fatalf("video %d not in %s of user %d", videoID, path, userID)
	}
	return author
}

// commentAuthor returns the user of a comment in a video's comment list as viewer sees it.
func commentAuthor(t *testing.T, viewer account, videoID, commentID int64) userJSON {
	t.Helper()
	var out struct {
		CommentList []struct {
			ID   int64    `json:"id"`
			User userJSON `json:"user"`
		} `json:"comment_list"`
	}
	get(t, "/douyin/comment/list/", url.Values{"video_id": {strconv.FormatInt(videoID, 10)}, "token": {viewer.Token}}).
		expect(t, 200, 0).decode(t, &out)
	for _, c := range out.CommentList {
		if c.ID == commentID {
			return c.User
		}
	}
	t.Fatalf("comment %d not listed on video %d", commentID, videoID)
	return userJSON{}
}

func TestIsFollowEverywhere(t *testing.T) {
	t.Parallel()
	a, b, c, x := register(t, "ifa"), register(t, "ifb"), register(t, "ifc"), register(t, "ifx")
	v := publishedVideo(t, b)
	var posted struct {
		Comment commentJSON `json:"comment"`
	}
	comment(t, b, v, "my own video").expect(t, 200, 0).decode(t, &posted)
	like(t, a, v, 1).expect(t, 200, 0)
	follow(t, a, b.ID, 1).expect(t, 200, 0)
	follow(t, b, c.ID, 1).expect(t, 200, 0) // b: follow_count 1, follower_count 1

	// Every place b appears, in the order a client would look.
	places := []struct {
		name string
		see  func(viewer account) userJSON
	}{
		{"feed", func(viewer account) userJSON { return feedAuthor(t, &viewer, v) }},
		{"publish list", func(viewer account) userJSON { return listAuthor(t, "/douyin/publish/list/", viewer, b.ID, v) }},
		{"favorite list", func(viewer account) userJSON { return listAuthor(t, "/douyin/favorite/list/", viewer, a.ID, v) }},
		{"comment list", func(viewer account) userJSON { return commentAuthor(t, viewer, v, posted.Comment.ID) }},
		{"user info", func(viewer account) userJSON { return profile(t, viewer, b.ID) }},
		{"follow list", func(viewer account) userJSON {
			for _, u := range userList(t, followListPath, viewer, a.ID) {
				if u.ID == b.ID {
					return u.userJSON
				}
			}
			t.Fatalf("b is not in a's follow list")
			return userJSON{}
		}},
	}
	for _, p := range places {
		if u := p.see(a); u.ID != b.ID || !u.IsFollow || u.FollowerCount != 1 || u.FollowCount != 1 {
			t.Errorf("%s as b's follower a: %+v, want is_follow and follow_count 1, follower_count 1", p.name, u)
		}
		if u := p.see(x); u.ID != b.ID || u.IsFollow || u.FollowerCount != 1 || u.FollowCount != 1 {
			t.Errorf("%s as a stranger: %+v, want no is_follow and follow_count 1, follower_count 1", p.name, u)
		}
	}
	if u := feedAuthor(t, nil, v); u.IsFollow || u.FollowerCount != 1 || u.FollowCount != 1 {
		t.Errorf("anonymous feed: %+v", u)
	}

	// The follower list as its owner sees it: c follows a; is_follow (a follows c) only once a
	// follows back.
	follow(t, c, a.ID, 1).expect(t, 200, 0)
	followerC := func() friendJSON {
		list := userList(t, followerListPath, a, a.ID)
		if len(list) != 1 || list[0].ID != c.ID {
			t.Fatalf("a's follower list: %+v, want c = %d", list, c.ID)
		}
		return list[0]
	}
	if u := followerC(); u.IsFollow || u.FollowCount != 1 || u.FollowerCount != 1 {
		t.Fatalf("c in a's follower list before a follows c: %+v", u)
	}
	follow(t, a, c.ID, 1).expect(t, 200, 0)
	if u := followerC(); !u.IsFollow || u.FollowCount != 1 || u.FollowerCount != 2 {
		t.Fatalf("c in a's follower list after a follows c: %+v", u)
	}
	for _, u := range userList(t, followerListPath, x, a.ID) {
		if u.IsFollow {
			t.Fatalf("a's follower list as a stranger: %+v", u)
		}
	}
	// b unfollowed: every place shows it at once.
	follow(t, a, b.ID, 2).expect(t, 200, 0)
	for _, p := range places[:5] {
		if u := p.see(a); u.IsFollow || u.FollowerCount != 0 {
			t.Errorf("%s as a after a unfollowed b: %+v", p.name, u)
		}
	}
}

func TestFriendListCarriesTheLatestMessage(t *testing.T) {
	t.Parallel()
	a, b, c, x := register(t, "fra"), register(t, "frb"), register(t, "frc"), register(t, "frx")
	follow(t, a, b.ID, 1).expect(t, 200, 0)
	follow(t, b, a.ID, 1).expect(t, 200, 0)
	follow(t, a, c.ID, 1).expect(t, 200, 0) // one-way: c is no friend

	r := get(t, friendListPath, url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}, "token": {a.Token}}).expect(t, 200, 0)
	list, _ := r.Body["user_list"].([]any)
	if len(list) != 1 {
		t.Fatalf("a's friend list: %s, want b alone", r.Raw)
	}
	checkKeys(t, "friend list entry", list[0], friendUserFields)
	entry := list[0].(map[string]any)
	if entry["id"] != float64(b.ID) || entry["name"] != b.Name || entry["message"] != "" || entry["msgType"] != float64(0) ||
		entry["is_follow"] != true || entry["follow_count"] != float64(1) || entry["follower_count"] != float64(1) {
		t.Fatalf("a's friend b before any message: %s", r.Raw)
	}
	if list := userList(t, friendListPath, a, c.ID); len(list) != 0 {
		t.Fatalf("c follows nobody, yet has friends %+v", list)
	}

	// latest reads the one friend of owner's list as viewer sees it.
	latest := func(viewer, owner account) friendJSON {
		t.Helper()
		list := userList(t, friendListPath, viewer, owner.ID)
		if len(list) != 1 {
			t.Fatalf("%s's friend list: %+v, want one friend", owner.Name, list)
		}
		return list[0]
	}
	sendMessage(t, b, a.ID, "hi").expect(t, 200, 0)
	if f := latest(a, a); f.ID != b.ID || f.Message != "hi" || f.MsgType != 0 {
		t.Fatalf("a's friend after b said hi: %+v, want message hi, msgType 0", f)
	}
	if f := latest(b, b); f.ID != a.ID || f.Message != "hi" || f.MsgType != 1 {
		t.Fatalf("b's friend after b said hi: %+v, want message hi, msgType 1", f)
	}
	sendMessage(t, a, b.ID, "hello back").expect(t, 200, 0)
	if f := latest(a, a); f.Message != "hello back" || f.MsgType != 1 {
		t.Fatalf("a's friend after a replied: %+v, want msgType 1", f)
	}
	if f := latest(b, b); f.Message != "hello back" || f.MsgType != 0 {
		t.Fatalf("b's friend after a replied: %+v, want msgType 0", f)
	}
	// message is between the viewer and the friend: a stranger looking at a's friends sees none.
	if f := latest(x, a); f.ID != b.ID || f.Message != "" || f.MsgType != 0 || f.IsFollow {
		t.Fatalf("a's friend as a stranger sees it: %+v", f)
	}
}

func TestFriendListOfAUserWithManyFriends(t *testing.T) {
	t.Parallel()
	const n = 60
	hub := register(t, "hub")
	friends := registerMany(t, "spoke", n)
	for _, r := range inParallel(2*n, func(i int) reply {
		if i < n {
			return follow(t, friends[i], hub.ID, 1)
		}
		return follow(t, hub, friends[i-n].ID, 1)
	}) {
		r.expect(t, 200, 0)
	}
	// A few conversations, each with its own last word.
	type last struct {
		message string
		msgType int64
	}
	want := map[int64]last{}
	for i, f := range friends {
		want[f.ID] = last{"", 0}
		switch i % 15 {
		case 0:
			sendMessage(t, f, hub.ID, "from friend "+strconv.Itoa(i)).expect(t, 200, 0)
			want[f.ID] = last{"from friend " + strconv.Itoa(i), 0}
		case 7:
			sendMessage(t, f, hub.ID, "question "+strconv.Itoa(i)).expect(t, 200, 0)
			sendMessage(t, hub, f.ID, "answer "+strconv.Itoa(i)).expect(t, 200, 0)
			want[f.ID] = last{"answer " + strconv.Itoa(i), 1}
		}
	}
	list := userList(t, friendListPath, hub, hub.ID)
	if len(list) != n {
		t.Fatalf("friend list has %d entries, want %d", len(list), n)
	}
	seen := map[int64]bool{}
	for _, f := range list {
		w, ok := want[f.ID]
		if !ok || seen[f.ID] {
			t.Fatalf("friend list holds %d unexpectedly or twice", f.ID)
		}
		seen[f.ID] = true
		if f.Message != w.message || f.MsgType != w.msgType || !f.IsFollow || f.FollowCount != 1 || f.FollowerCount != 1 {
			t.Errorf("friend %d: %+v, want message %q msgType %d", f.ID, f, w.message, w.msgType)
		}
	}
	if u := profile(t, friends[0], hub.ID); u.FollowCount != n || u.FollowerCount != n || !u.IsFollow {
		t.Fatalf("hub: %+v", u)
	}
}

// actionSet is the outcome of follow actions: which (follower, followee) pairs follow.
type actionSet map[[2]int64]bool

func (s actionSet) followees(follower int64) []int64 {
	ids := []int64{}
	for p, on := range s {
		if on && p[0] == follower {
			ids = append(ids, p[1])
		}
	}
	return ids
}

func (s actionSet) followers(followee int64) []int64 {
	ids := []int64{}
	for p, on := range s {
		if on && p[1] == followee {
			ids = append(ids, p[0])
		}
	}
	return ids
}

func TestConcurrentFollowStormIsExact(t *testing.T) {
	t.Parallel()
	// The stack runs relation twice (see TestMain): the storm is shared by two processes.
	before := [2]int64{publishedBy(t, "relation"), publishedBy(t, "relation-2")}
	const users, targetCount, actions = 20, 5, 16
	all := registerMany(t, "storm", users+targetCount)
	fans, targets := all[:users], all[users:]
	seed := uint64(time.Now().UnixNano())
	t.Logf("storm seed %d", seed)
	// Each fan acts in sequence (its last action on a target decides); fans act at once.
	type act struct {
		target int64
		action int
	}
	plans := make([][]act, users)
	for i := range plans {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		for range actions {
			plans[i] = append(plans[i], act{targets[rng.IntN(targetCount)].ID, 1 + rng.IntN(2)})
		}
	}
	replies := make([][]reply, users)
	var wg sync.WaitGroup
	for i, f := range fans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, a := range plans[i] {
				replies[i] = append(replies[i], follow(t, f, a.target, a.action))
			}
		}()
	}
	wg.Wait()
	want := actionSet{}
	for i, f := range fans {
		for k, r := range replies[i] {
			r.expect(t, 200, 0)
			want[[2]int64{f.ID, plans[i][k].target}] = plans[i][k].action == 1
		}
	}
	for i, instance := range []string{"relation", "relation-2"} {
		if publishedBy(t, instance) == before[i] {
			t.Fatalf("instance %s took no follow of the storm: the test needs both", instance)
		}
	}

	viewer := register(t, "stormview")
	for _, target := range targets {
		wantFollowers := want.followers(target.ID)
		if u := profile(t, viewer, target.ID); u.FollowerCount != int64(len(wantFollowers)) || u.FollowCount != 0 {
			t.Errorf("target %d: %+v, want follower_count %d", target.ID, u, len(wantFollowers))
		}
		if got := idsOf(userList(t, followerListPath, viewer, target.ID)); !sameSet(got, wantFollowers) {
			t.Errorf("target %d follower list %v, want %v", target.ID, got, wantFollowers)
		}
	}
	for _, f := range fans {
		wantFollowees := want.followees(f.ID)
		if u := profile(t, viewer, f.ID); u.FollowCount != int64(len(wantFollowees)) || u.FollowerCount != 0 {
			t.Errorf("fan %d: %+v, want follow_count %d", f.ID, u, len(wantFollowees))
		}
		list := userList(t, followListPath, f, f.ID)
		if got := idsOf(list); !sameSet(got, wantFollowees) {
			t.Errorf("fan %d follow list %v, want %v", f.ID, got, wantFollowees)
		}
		for _, u := range list {
			if !u.IsFollow {
				t.Errorf("fan %d's own follow list shows is_follow false: %+v", f.ID, u)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// PostgreSQL ends up with exactly the pairs that follow.
	db := openDB(t)
	targetIDs := make([]int64, targetCount)
	for i, target := range targets {
		targetIDs[i] = target.ID
	}
	eventually(t, 90*time.Second, func() (bool, string) {
		rows, err := db.Query(`SELECT follower_id, followee_id FROM relation.follows WHERE followee_id = ANY($1) AND following`, targetIDs)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := actionSet{}
		for rows.Next() {
			var p [2]int64
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				t.Fatal(err)
			}
			got[p] = true
		}
		var missing, extra int
		for p, on := range want {
			if on && !got[p] {
				missing++
			}
		}
		for p := range got {
			if !want[p] {
				extra++
			}
		}
		return missing == 0 && extra == 0, fmt.Sprintf("relation.follows: %d following pairs missing, %d that should not follow", missing, extra)
	})
}

// followBurstWithCrash sends follows from 30 users to 4 targets, kills process with SIGKILL in the
// middle, restarts it and goes on following; it returns the (follower, followee) pairs whose
// follow was acknowledged.
func followBurstWithCrash(t *testing.T, process string) (acked actionSet, fans, targets []account) {
	t.Helper()
	all := registerMany(t, "fcrash", 34)
	fans, targets = all[:30], all[30:]
	targetIDs := make([]int64, len(targets))
	for i, a := range targets {
		targetIDs[i] = a.ID
	}
	return actionBurstWithCrash(t, process, "/douyin/relation/action/", "to_user_id", fans, targetIDs), fans, targets
}

func checkEveryAcknowledgedFollowPersistedOnce(t *testing.T, acked actionSet, fans, targets []account) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no follow was acknowledged")
	}
	db := openDB(t)
	waitEveryPairPersistedOnce(t, db, acked, "follows",
		`SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND followee_id = $2 AND following`)
	// The shown counts agree with what was persisted, once the broker has redelivered what was
	// announced but not acknowledged when the process died.
	checker := register(t, "fchecker")
	persisted := func(query string, id int64) int64 {
		var n int64
		if err := db.QueryRow(query, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, target := range targets {
		eventually(t, 60*time.Second, func() (bool, string) {
			stored := persisted(`SELECT count(*) FROM relation.follows WHERE followee_id = $1 AND following`, target.ID)
			shown := profile(t, checker, target.ID).FollowerCount
			return shown == stored, fmt.Sprintf("user %d: shows %d followers, PostgreSQL has %d", target.ID, shown, stored)
		})
	}
	for _, f := range fans {
		eventually(t, 60*time.Second, func() (bool, string) {
			stored := persisted(`SELECT count(*) FROM relation.follows WHERE follower_id = $1 AND following`, f.ID)
			shown := profile(t, checker, f.ID).FollowCount
			return shown == stored, fmt.Sprintf("user %d: shows follow_count %d, PostgreSQL has %d", f.ID, shown, stored)
		})
	}
	t.Logf("%d acknowledged follows, %d persisted exactly once", len(acked), len(acked))
}

func TestCrashOfTheRelationServiceLosesNoAcknowledgedFollow(t *testing.T) {
	acked, fans, targets := followBurstWithCrash(t, "relation")
	checkEveryAcknowledgedFollowPersistedOnce(t, acked, fans, targets)
}

func TestCrashOfTheRelationSidecarLosesNoAcknowledgedFollow(t *testing.T) {
	acked, fans, targets := followBurstWithCrash(t, "relation-dapr")
	checkEveryAcknowledgedFollowPersistedOnce(t, acked, fans, targets)
}

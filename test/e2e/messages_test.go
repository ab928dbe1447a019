//go:build e2e

package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type messageJSON struct {
	ID         int64  `json:"id"`
	ToUserID   int64  `json:"to_user_id"`
	FromUserID int64  `json:"from_user_id"`
	Content    string `json:"content"`
	CreateTime int64  `json:"create_time"`
}

var messageFields = []string{"id", "to_user_id", "from_user_id", "content", "create_time"}

// sendMessage sends content from one user to another, in the body as the client sends text.
func sendMessage(t *testing.T, from account, toUserID int64, content string) reply {
	t.Helper()
	return postForm(t, "/douyin/message/action/", url.Values{
		"to_user_id": {strconv.FormatInt(toUserID, 10)}, "action_type": {"1"}, "content": {content}, "token": {from.Token},
	})
}

// chat reads the messages between viewer and peer created after preMsgTime (ms or s).
func chat(t *testing.T, viewer account, peer, preMsgTime int64) []messageJSON {
	t.Helper()
	r := get(t, "/douyin/message/chat/", url.Values{
		"to_user_id": {strconv.FormatInt(peer, 10)}, "pre_msg_time": {strconv.FormatInt(preMsgTime, 10)}, "token": {viewer.Token},
	}).expect(t, 200, 0)
	if !strings.Contains(string(r.Raw), `"message_list":[`) {
		t.Fatalf("message_list is not a list: %s", r.Raw)
	}
	var out struct {
		MessageList []messageJSON `json:"message_list"`
	}
	r.decode(t, &out)
	return out.MessageList
}

func contents(msgs []messageJSON) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, m.Content)
	}
	return out
}

func TestChatRules(t *testing.T) {
	t.Parallel()
	a, b, x := register(t, "cha"), register(t, "chb"), register(t, "chx")
	if msgs := chat(t, a, b.ID, 0); len(msgs) != 0 {
		t.Fatalf("chat before any message: %+v", msgs)
	}
	start := time.Now().UnixMilli()
	sendMessage(t, a, b.ID, "m1").expect(t, 200, 0)
	sendMessage(t, b, a.ID, "m2").expect(t, 200, 0)
	sendMessage(t, a, b.ID, "m3").expect(t, 200, 0)
	end := time.Now().UnixMilli()

	// Both directions, oldest first, the same to both sides.
	all := chat(t, a, b.ID, 0)
	if got := contents(all); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("chat %q, want m1 m2 m3", got)
	}
	ids := map[int64]bool{}
	for i, m := range all {
		from, to := a.ID, b.ID
		if i == 1 {
			from, to = b.ID, a.ID
		}
		if m.FromUserID != from || m.ToUserID != to || m.ID <= 0 || ids[m.ID] {
			t.Fatalf("message %d: %+v, want from %d to %d and a fresh id", i, m, from, to)
		}
		ids[m.ID] = true
		if i > 0 && m.CreateTime <= all[i-1].CreateTime {
			t.Fatalf("create_time does not increase: %+v", all)
		}
		if m.CreateTime < start-1000 || m.CreateTime > end+1000 {
			t.Fatalf("create_time %d is not the sending time in ms (between %d and %d)", m.CreateTime, start, end)
		}
	}
	if other := chat(t, b, a.ID, 0); !slices.Equal(other, all) {
		t.Fatalf("b sees %+v, a sees %+v", other, all)
	}
	r := get(t, "/douyin/message/chat/", url.Values{"to_user_id": {strconv.FormatInt(b.ID, 10)}, "token": {a.Token}}).expect(t, 200, 0)
	list, _ := r.Body["message_list"].([]any)
	if len(list) != 3 {
		t.Fatalf("chat without pre_msg_time: %s", r.Raw)
	}
	for i, m := range list {
		checkKeys(t, fmt.Sprintf("message %d", i), m, messageFields)
	}
	if msgs := chat(t, x, a.ID, 0); len(msgs) != 0 {
		t.Fatalf("a stranger sees a's messages with b: %+v", msgs)
	}

	// Strictly after pre_msg_time: the last message seen is not sent again.
	if got := contents(chat(t, a, b.ID, all[0].CreateTime)); !slices.Equal(got, []string{"m2", "m3"}) {
		t.Fatalf("after m1: %q, want m2 m3", got)
	}
	if got := chat(t, a, b.ID, all[2].CreateTime); len(got) != 0 {
		t.Fatalf("after the last message, the poll repeats %+v", got)
	}

	// pre_msg_time in seconds: wait into the next second, so that a second boundary falls
	// between m3 and m4.
	time.Sleep(time.Duration(1000-all[2].CreateTime%1000+20) * time.Millisecond)
	sendMessage(t, b, a.ID, "m4").expect(t, 200, 0)
	sendMessage(t, a, b.ID, "m5").expect(t, 200, 0)
	full := chat(t, a, b.ID, 0)
	if got := contents(full); !slices.Equal(got, []string{"m1", "m2", "m3", "m4", "m5"}) {
		t.Fatalf("chat %q, want m1 … m5", got)
	}
	boundary := full[3].CreateTime / 1000
	if full[2].CreateTime >= boundary*1000 {
		t.Fatalf("m3 (%d) and m4 (%d) were created in the same second", full[2].CreateTime, full[3].CreateTime)
	}
	var want []string
	for _, m := range full {
		if m.CreateTime > boundary*1000 {
			want = append(want, m.Content)
		}
	}
	if got := contents(chat(t, a, b.ID, boundary)); !slices.Equal(got, want) {
		t.Fatalf("pre_msg_time %d (seconds): %q, want %q", boundary, got, want)
	}
	if got := contents(chat(t, a, b.ID, boundary*1000)); !slices.Equal(got, want) {
		t.Fatalf("pre_msg_time %d (ms): %q, want %q", boundary*1000, got, want)
	}
}

func TestMessageContentRules(t *testing.T) {
	t.Parallel()
	a, c := register(t, "mca"), register(t, "mcc")
	accepted := []string{
		strings.Repeat("字", 1000), // 1000 characters, 3000 bytes
		"line1\nline2\tx",
		"🙂 emoji, \"quotes\", <b>tags</b> & 'sql' --",
		"x",
	}
	for _, content := range accepted {
		sendMessage(t, a, c.ID, content).expect(t, 200, 0)
	}
	for _, content := range []string{
		strings.Repeat("字", 1001), strings.Repeat("a", 1001), "", "   ", "\n\t \n",
		"a\x00b", "a\x1bb", "a\rb", "a\x7fb", "\x00",
	} {
		if r := sendMessage(t, a, c.ID, content); r.HTTPStatus != 200 || r.code(t) != 10009 {
			t.Errorf("content %q: want 10009, got HTTP %d %s", content, r.HTTPStatus, r.Raw)
		}
	}
	msgs := chat(t, c, a.ID, 0)
	if got := contents(msgs); !slices.Equal(got, accepted) {
		t.Fatalf("chat holds %q, want exactly the accepted %q", got, accepted)
	}

	// Who and how.
	sendMessage(t, a, a.ID, "talking to myself").expect(t, 200, 30007)
	sendMessage(t, a, 9007199254740000, "anyone there?").expect(t, 200, 30002)
	send := func(v url.Values) reply { return postForm(t, "/douyin/message/action/", v) }
	cID := strconv.FormatInt(c.ID, 10)
	send(url.Values{"to_user_id": {cID}, "action_type": {"2"}, "content": {"hi"}, "token": {a.Token}}).expect(t, 200, 10002)
	send(url.Values{"to_user_id": {cID}, "content": {"hi"}, "token": {a.Token}}).expect(t, 200, 10001)
	send(url.Values{"action_type": {"1"}, "content": {"hi"}, "token": {a.Token}}).expect(t, 200, 10001)
	send(url.Values{"to_user_id": {"abc"}, "action_type": {"1"}, "content": {"hi"}, "token": {a.Token}}).expect(t, 200, 10001)
	send(url.Values{"to_user_id": {cID}, "action_type": {"1"}, "content": {"hi"}}).expect(t, 401, 20001)
	chatQuery := func(v url.Values) reply { return get(t, "/douyin/message/chat/", v) }
	chatQuery(url.Values{"to_user_id": {"abc"}, "token": {a.Token}}).expect(t, 200, 10001)
	chatQuery(url.Values{"token": {a.Token}}).expect(t, 200, 10001)
	chatQuery(url.Values{"to_user_id": {cID}, "pre_msg_time": {"yesterday"}, "token": {a.Token}}).expect(t, 200, 10001)
	chatQuery(url.Values{"to_user_id": {cID}}).expect(t, 401, 20001)
	if got := contents(chat(t, a, c.ID, 0)); !slices.Equal(got, accepted) {
		t.Fatalf("refused sends changed the chat: %q", got)
	}

	// What was accepted is stored byte for byte.
	db := openDB(t)
	waitPersisted(t, db, int64(len(accepted)), `SELECT count(*) FROM message.messages WHERE from_user_id = $1 AND to_user_id = $2`, a.ID, c.ID)
	for _, m := range msgs {
		var stored string
		if err := db.QueryRow(`SELECT content FROM message.messages WHERE id = $1`, m.ID).Scan(&stored); err != nil {
			t.Fatalf("message %d: %v", m.ID, err)
		}
		if stored != m.Content {
			t.Fatalf("message %d stored as %q, sent %q", m.ID, stored, m.Content)
		}
	}
}

// A client polling with the last create_time it saw, while the other side sends as fast as it
// can, gets every message once and in order.
func TestPollingChatGetsEveryMessageOnceInOrder(t *testing.T) {
	t.Parallel()
	a, b := register(t, "polla"), register(t, "pollb")
	const n = 100
	replies := make([]reply, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			replies = append(replies, sendMessage(t, b, a.ID, fmt.Sprintf("poll %03d", i)))
		}
	}()
	defer func() { <-done }() // the sender ends before the test does, even when it fails

	var got []messageJSON
	var last int64
	deadline := time.Now().Add(60 * time.Second)
	for polls := 1; ; polls++ {
		finished := false
		select {
		case <-done:
			finished = true // every send has returned: this poll is the last
		default:
		}
		for _, m := range chat(t, a, b.ID, last) {
			if m.CreateTime <= last {
				t.Fatalf("poll %d after %d returned %+v", polls, last, m)
			}
			last = m.CreateTime
			got = append(got, m)
		}
		if finished {
			t.Logf("%d messages in %d polls", len(got), polls)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sender did not finish in time; %d messages polled", len(got))
		}
	}
	for _, r := range replies {
		r.expect(t, 200, 0)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("poll %03d", i)
	}
	if c := contents(got); !slices.Equal(c, want) {
		t.Fatalf("polling got %d messages %q, want each of %d once in order", len(c), c, n)
	}
	full := chat(t, a, b.ID, 0)
	if !slices.Equal(full, got) {
		t.Fatalf("the whole chat (%d messages) differs from what was polled (%d)", len(full), len(got))
	}
}

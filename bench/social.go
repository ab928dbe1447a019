package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const (
	friends         = 1000 // mutual follows of the hub user
	chats           = 100  // conversations between the hub and its first friends
	messagesPerChat = 20
	pollFrom        = 3 // a poll asks for what follows one of the last pollFrom messages of a chat
	// The same-rate comparison of the follow action: shorter than the likes stage's, to keep the
	// stage near 3 minutes (registering 1,001 users takes half a minute of bcrypt).
	followRounds   = 3
	followRoundFor = 8 * time.Second
)

// social measures the profile, chat and friend reads against the trivial hop, and the follow
// action against the feed at the same rate. Everything is seeded through the API: a hub user and
// its friends (mutual follows), and chats between the hub and some of them.
func (h *harness) social(ctx context.Context) error {
	if err := h.seed(ctx); err != nil { // the same-rate comparison needs the usual feed
		return err
	}
	start := time.Now()
	ids, tokens, err := h.accounts("bench_social", friends+1) // ids[0] is the hub
	if err != nil {
		return err
	}
	if err := h.befriend(ids, tokens); err != nil {
		return err
	}
	polls, wholeChats, err := h.chat(ids, tokens)
	if err != nil {
		return err
	}
	for _, service := range []struct{ topic, group string }{{"relation.changed", "relation"}, {"message.sent", "message"}} {
		if err := h.waitDrained(service.topic, service.group, 5*time.Minute); err != nil {
			return err
		}
	}
	seeded := time.Since(start)
	friendList := fmt.Sprintf("/douyin/relation/friend/list/?user_id=%d&token=%s", ids[0], tokens[0])
	size, err := h.checkFriendList(friendList)
	if err != nil {
		return err
	}
	profiles := make([]string, len(ids))
	hubViews := make([]string, len(ids)) // the same users as seen by the hub, who follows all of them
	for i, id := range ids {
		profiles[i] = fmt.Sprintf("/douyin/user/?user_id=%d&token=%s", id, tokens[rand.IntN(len(tokens))])
		hubViews[i] = fmt.Sprintf("/douyin/user/?user_id=%d&token=%s", id, tokens[0])
	}
	user, err := h.randomPaths("profiles", fmt.Sprintf("user info, random user of %d, logged in", len(ids)), profiles)
	if err != nil {
		return err
	}
	hubUser, err := h.randomPaths("hubviews", fmt.Sprintf("user info, random user, by a viewer who follows %d", friends), hubViews)
	if err != nil {
		return err
	}
	poll, err := h.randomPaths("polls", fmt.Sprintf("chat poll, %d chats, after one of the last %d messages", chats, pollFrom), polls)
	if err != nil {
		return err
	}
	whole, err := h.randomPaths("chats", fmt.Sprintf("whole chat (pre_msg_time=0, %d messages)", messagesPerChat), wholeChats)
	if err != nil {
		return err
	}
	trivial, err := h.trivialRead()
	if err != nil {
		return err
	}
	trivial.threads = 0 // this stage's wrk -t2, as before
	eps := []endpoint{trivial, user, hubUser, poll, whole,
		{name: fmt.Sprintf("friend list, %d friends (%.0f KiB)", friends, float64(size)/1024), url: h.base + friendList, timeout: 10 * time.Second}}
	runs, err := alternate(eps)
	if err != nil {
		return err
	}
	say("\nsocial: %d users, one with %d friends (mutual follows), %d chats of %d messages, seeded through the API in %s;\n"+
		"wrk -t%d -c%d, %d alternating rounds of %s each (after a %s warm-up); medians:\n\n",
		len(ids), friends, chats, messagesPerChat, seeded.Round(time.Second), threads, connections, rounds, measure/rounds, warmup)
	medians := printMedians(eps, runs)
	sayln()
	printRatio("user info / trivial", runs, medians, 1, 0.4)
	printRatio("user info by a heavy follower / trivial", runs, medians, 2, 0.4)
	printRatio("chat poll / trivial", runs, medians, 3, 0.4)
	printRatio("whole chat / trivial", runs, medians, 4, 0)
	printRatio("friend list / trivial", runs, medians, 5, 0)

	// Any of the hub's friends follows or unfollows any other: the hub's friends stay as they are.
	follow := h.randomAction("/douyin/relation/action/", func() url.Values {
		from, to := 1+rand.IntN(friends), 1+rand.IntN(friends-1)
		if to >= from {
			to++
		}
		return url.Values{
			"to_user_id":  {strconv.FormatInt(ids[to], 10)},
			"action_type": {strconv.Itoa(1 + rand.IntN(2))},
			"token":       {tokens[from]},
		}
	})
	return h.sameRateComparison("follow", follow, followRounds, followRoundFor, 3)
}

// randomPaths is an endpoint whose requests GET a random one of paths. Each path is checked once
// first: wrk counts HTTP errors, not a refusal in the envelope.
func (h *harness) randomPaths(file, name string, paths []string) (endpoint, error) {
	if err := inParallel(len(paths), 16, func(i int) error { return h.api(http.MethodGet, paths[i], nil) }); err != nil {
		return endpoint{}, fmt.Errorf("%s: %w", name, err)
	}
	script, err := h.pathsScript(file, paths)
	return endpoint{name: name, url: h.base + "/", script: script}, err
}

// befriend makes ids[0] and every other user follow each other.
func (h *harness) befriend(ids []int64, tokens []string) error {
	return inParallel(2*(len(ids)-1), 16, func(k int) error {
		from, to := 0, 1+k/2
		if k%2 == 1 {
			from, to = to, from
		}
		return h.api(http.MethodPost, fmt.Sprintf("/douyin/relation/action/?to_user_id=%d&action_type=1&token=%s", ids[to], tokens[from]), nil)
	})
}

// chat fills the chats between ids[0] and its first friends, both ways in turn, then reads
// each back. It returns the paths of the usual polls, from either side of a chat (what came after
// one of the last messages: nothing or little), and of whole chats.
func (h *harness) chat(ids []int64, tokens []string) (polls, whole []string, err error) {
	err = inParallel(chats, 16, func(c int) error {
		for m := range messagesPerChat {
			from, to := 0, 1+c
			if m%2 == 1 {
				from, to = to, from
			}
			q := url.Values{"to_user_id": {strconv.FormatInt(ids[to], 10)}, "action_type": {"1"},
				"content": {fmt.Sprintf("message %d of chat %d, a line of chat", m, c)}, "token": {tokens[from]}}
			if err := h.api(http.MethodPost, "/douyin/message/action/?"+q.Encode(), nil); err != nil {
				return fmt.Errorf("message %d of chat %d: %w", m, c, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	chatPath := func(from, to int, after int64) string {
		return fmt.Sprintf("/douyin/message/chat/?to_user_id=%d&pre_msg_time=%d&token=%s", ids[to], after, tokens[from])
	}
	for c := range chats {
		var out struct {
			MessageList []struct {
				CreateTime int64 `json:"create_time"`
			} `json:"message_list"`
		}
		if err := h.api(http.MethodGet, chatPath(0, 1+c, 0), &out); err != nil {
			return nil, nil, err
		}
		if len(out.MessageList) != messagesPerChat {
			return nil, nil, fmt.Errorf("chat %d: %d messages, not %d", c, len(out.MessageList), messagesPerChat)
		}
		for _, sides := range [][2]int{{0, 1 + c}, {1 + c, 0}} {
			whole = append(whole, chatPath(sides[0], sides[1], 0))
			for _, m := range out.MessageList[messagesPerChat-pollFrom:] {
				polls = append(polls, chatPath(sides[0], sides[1], m.CreateTime))
			}
		}
	}
	return polls, whole, nil
}

// checkFriendList fails unless the hub's friend list names every friend, prints what it holds,
// and returns its size in bytes.
func (h *harness) checkFriendList(path string) (int, error) {
	var raw json.RawMessage
	if err := h.api(http.MethodGet, path, &raw); err != nil {
		return 0, err
	}
	var out struct {
		UserList []struct {
			Message string `json:"message"`
		} `json:"user_list"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, err
	}
	if len(out.UserList) != friends {
		return 0, fmt.Errorf("friend list: %d friends, not %d", len(out.UserList), friends)
	}
	withMessage := 0
	for _, u := range out.UserList {
		if u.Message != "" {
			withMessage++
		}
	}
	say("\nfriend list of the hub: %d friends, %d with a latest message, %d bytes\n", len(out.UserList), withMessage, len(raw))
	return len(raw), nil
}

//go:build e2e

package e2e

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// anyNumber stands for a field that must be present as a JSON number of any value.
type anyNumber struct{}

// Every endpoint's fields on a failure: zero values, [] for lists, null for objects.
var (
	accountShape  = map[string]any{"user_id": 0.0, "token": ""}
	userShape     = map[string]any{"user": nil}
	feedShape     = map[string]any{"video_list": []any{}, "next_time": anyNumber{}}
	videoShape    = map[string]any{"video_list": []any{}}
	commentShape  = map[string]any{"comment": nil}
	commentsShape = map[string]any{"comment_list": []any{}}
	usersShape    = map[string]any{"user_list": []any{}}
	chatShape     = map[string]any{"message_list": []any{}}
	actionShape   = map[string]any{}
)

// checkShape fails unless a reply holds exactly the envelope and the fields of shape, with the
// values shape gives.
func checkShape(t *testing.T, r reply, shape map[string]any) {
	t.Helper()
	want := []string{"status_code", "status_msg"}
	for f, v := range shape {
		want = append(want, f)
		got, ok := r.Body[f]
		if _, number := v.(anyNumber); ok && number {
			_, ok = got.(float64)
		} else if ok {
			ok = reflect.DeepEqual(got, v)
		}
		if !ok {
			t.Errorf("field %q should be %#v: %s", f, v, r.Raw)
		}
	}
	checkKeys(t, "reply", r.Body, want)
}

func TestEveryReplyKeepsItsShapeOnErrors(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	a := register(t, "shape")
	id := strconv.FormatInt(a.ID, 10)
	const unknown = "9007199254740000"
	tok := func(v url.Values) url.Values { v.Set("token", a.Token); return v }
	for _, tc := range []struct {
		name       string
		send       func() reply
		httpStatus int
		code       int
		shape      map[string]any
	}{
		{"feed with a bad latest_time", func() reply { return get(t, "/douyin/feed/", url.Values{"latest_time": {"yesterday"}}) }, 200, 10001, feedShape},
		{"feed with a bad token", func() reply { return get(t, "/douyin/feed/", url.Values{"token": {"garbage"}}) }, 401, 20002, feedShape},
		{"register with a taken name", func() reply {
			return postQuery(t, "/douyin/user/register/", url.Values{"username": {a.Name}, "password": {"secret123"}})
		}, 200, 30001, accountShape},
		{"register with a bad name", func() reply {
			return postQuery(t, "/douyin/user/register/", url.Values{"username": {"a b"}, "password": {"secret123"}})
		}, 200, 10003, accountShape},
		{"login with a wrong password", func() reply {
			return postQuery(t, "/douyin/user/login/", url.Values{"username": {a.Name}, "password": {"wrong-one"}})
		}, 200, 20004, accountShape},
		{"login without password", func() reply { return postQuery(t, "/douyin/user/login/", url.Values{"username": {a.Name}}) }, 200, 10001, accountShape},
		{"user info of an unknown user", func() reply { return get(t, "/douyin/user/", tok(url.Values{"user_id": {unknown}})) }, 200, 30002, userShape},
		{"user info with a bad user_id", func() reply { return get(t, "/douyin/user/", tok(url.Values{"user_id": {"abc"}})) }, 200, 10001, userShape},
		{"user info without token", func() reply { return get(t, "/douyin/user/", url.Values{"user_id": {id}}) }, 401, 20001, userShape},
		{"publish without data", func() reply { return upload(t, a.Token, "no data", nil) }, 200, 10007, actionShape},
		{"publish without token", func() reply { return upload(t, "", "no token", nil) }, 401, 20001, actionShape},
		{"publish list of an unknown user", func() reply { return get(t, "/douyin/publish/list/", tok(url.Values{"user_id": {unknown}})) }, 200, 30002, videoShape},
		{"publish list without token", func() reply { return get(t, "/douyin/publish/list/", url.Values{"user_id": {id}}) }, 401, 20001, videoShape},
		{"favorite an unknown video", func() reply {
			return postQuery(t, "/douyin/favorite/action/", tok(url.Values{"video_id": {unknown}, "action_type": {"1"}}))
		}, 200, 30003, actionShape},
		{"favorite without token", func() reply {
			return postQuery(t, "/douyin/favorite/action/", url.Values{"video_id": {unknown}, "action_type": {"1"}})
		}, 401, 20001, actionShape},
		{"favorite list with a bad user_id", func() reply { return get(t, "/douyin/favorite/list/", tok(url.Values{"user_id": {"abc"}})) }, 200, 10001, videoShape},
		{"favorite list without token", func() reply { return get(t, "/douyin/favorite/list/", url.Values{"user_id": {id}}) }, 401, 20001, videoShape},
		{"comment on an unknown video", func() reply {
			return postQuery(t, "/douyin/comment/action/", tok(url.Values{"video_id": {unknown}, "action_type": {"1"}, "comment_text": {"hi"}}))
		}, 200, 30003, commentShape},
		{"comment without token", func() reply {
			return postQuery(t, "/douyin/comment/action/", url.Values{"video_id": {unknown}, "action_type": {"1"}, "comment_text": {"hi"}})
		}, 401, 20001, commentShape},
		{"comment list of an unknown video", func() reply { return get(t, "/douyin/comment/list/", tok(url.Values{"video_id": {unknown}})) }, 200, 30003, commentsShape},
		{"comment list without token", func() reply { return get(t, "/douyin/comment/list/", url.Values{"video_id": {unknown}}) }, 401, 20001, commentsShape},
		{"follow yourself", func() reply { return follow(t, a, a.ID, 1) }, 200, 30006, actionShape},
		{"follow without token", func() reply {
			return postQuery(t, "/douyin/relation/action/", url.Values{"to_user_id": {unknown}, "action_type": {"1"}})
		}, 401, 20001, actionShape},
		{"follow list of an unknown user", func() reply { return get(t, followListPath, tok(url.Values{"user_id": {unknown}})) }, 200, 30002, usersShape},
		{"follow list without token", func() reply { return get(t, followListPath, url.Values{"user_id": {id}}) }, 401, 20001, usersShape},
		{"follower list of an unknown user", func() reply { return get(t, followerListPath, tok(url.Values{"user_id": {unknown}})) }, 200, 30002, usersShape},
		{"follower list without token", func() reply { return get(t, followerListPath, url.Values{"user_id": {id}}) }, 401, 20001, usersShape},
		{"friend list of an unknown user", func() reply { return get(t, friendListPath, tok(url.Values{"user_id": {unknown}})) }, 200, 30002, usersShape},
		{"friend list without token", func() reply { return get(t, friendListPath, url.Values{"user_id": {id}}) }, 401, 20001, usersShape},
		{"chat with a bad to_user_id", func() reply { return get(t, "/douyin/message/chat/", tok(url.Values{"to_user_id": {"abc"}})) }, 200, 10001, chatShape},
		{"chat without token", func() reply { return get(t, "/douyin/message/chat/", url.Values{"to_user_id": {id}}) }, 401, 20001, chatShape},
		{"message to yourself", func() reply { return sendMessage(t, a, a.ID, "hi me") }, 200, 30007, actionShape},
		{"message without token", func() reply {
			return postQuery(t, "/douyin/message/action/", url.Values{"to_user_id": {id}, "action_type": {"1"}, "content": {"hi"}})
		}, 401, 20001, actionShape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send()
			r.expect(t, tc.httpStatus, tc.code)
			checkShape(t, r, tc.shape)
		})
	}
}

func TestUserInfoWithoutUserIDIsTheViewer(t *testing.T) {
	sameOnEverySet(t)
	t.Parallel()
	a, fan := register(t, "me"), register(t, "mefan")
	follow(t, fan, a.ID, 1).expect(t, 200, 0)
	for name, r := range map[string]reply{
		"token parameter": get(t, "/douyin/user/", url.Values{"token": {a.Token}}),
		"bearer header": do(t, http.MethodGet, "/douyin/user/", nil, nil,
			http.Header{"Authorization": {"Bearer " + a.Token}}),
	} {
		r.expect(t, 200, 0)
		checkKeys(t, name+" user", r.Body["user"], userFields)
		var out struct {
			User userJSON `json:"user"`
		}
		r.decode(t, &out)
		if u := out.User; u.ID != a.ID || u.Name != a.Name || u.FollowerCount != 1 || u.FollowCount != 0 || u.IsFollow {
			t.Fatalf("%s: own profile %s, want id %d name %s follower_count 1", name, r.Raw, a.ID, a.Name)
		}
	}
	r := get(t, "/douyin/user/", nil).expect(t, 401, 20001)
	checkShape(t, r, userShape)
}

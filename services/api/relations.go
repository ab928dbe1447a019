package main

import (
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/relationapi"
)

const (
	actionFollow   = 1
	actionUnfollow = 2
)

type userListResponse struct {
	envelope.Status
	UserList []User `json:"user_list"`
}

func (userListResponse) failed(s envelope.Status) any {
	return userListResponse{Status: s, UserList: []User{}}
}

type friendListResponse struct {
	envelope.Status
	UserList []FriendUser `json:"user_list"`
}

func (friendListResponse) failed(s envelope.Status) any {
	return friendListResponse{Status: s, UserList: []FriendUser{}}
}

// handleRelationAction follows or unfollows a user. Invocations: 1 (relation).
func handleRelationAction(relations *relationapi.Client) action {
	return func(r *http.Request, viewer int64) (any, error) {
		to, err := params.ID(r, "to_user_id")
		if err != nil {
			return nil, err
		}
		act, err := params.ActionType(r, actionFollow, actionUnfollow)
		if err != nil {
			return nil, err
		}
		req := relationapi.ApplyRequest{FollowerID: viewer, FolloweeID: to, Follow: act == actionFollow}
		if err := relations.Apply(r.Context(), req); err != nil {
			return nil, err
		}
		return envelope.Success, nil
	}
}

// handleUserList serves whom a user follows or who follows them, most recent first.
// Invocations: 2 (relation: the list; then user, beside one bulk read of the counters), or 1 for
// an empty list.
func handleUserList(relations *relationapi.Client, c *composer, list string) action {
	return func(r *http.Request, viewer int64) (any, error) {
		ids, err := listOf(r, relations, list)
		if err != nil {
			return nil, err
		}
		users, err := c.users(r.Context(), viewer, ids)
		if err != nil {
			return nil, err
		}
		listed := make([]User, 0, len(ids))
		for _, id := range ids {
			if u, ok := users[id]; ok {
				listed = append(listed, u)
			}
		}
		return userListResponse{Status: envelope.Success, UserList: listed}, nil
	}
}

// handleFriendList serves a user's friends (mutual follows), each with the latest message
// between the viewer and that friend.
// Invocations: 3 (relation: the friends; then user and message in parallel, beside one bulk read
// of the counters), or 1 for no friends: the same for one friend or a thousand.
func handleFriendList(relations *relationapi.Client, messages *messageapi.Client, c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		ids, err := listOf(r, relations, relationapi.ListFriends)
		if err != nil {
			return nil, err
		}
		var users map[int64]User
		var latest map[int64]messageapi.Message
		g, ctx := errgroup.WithContext(r.Context())
		g.Go(func() (err error) { users, err = c.users(ctx, viewer, ids); return err })
		if len(ids) > 0 {
			g.Go(func() (err error) { latest, err = messages.Latest(ctx, viewer, ids); return err })
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		friends := make([]FriendUser, 0, len(ids))
		for _, id := range ids {
			u, ok := users[id]
			if !ok {
				continue
			}
			friend := FriendUser{User: u}
			if m, ok := latest[id]; ok {
				friend.Message = m.Content
				if m.FromUserID == viewer {
					friend.MsgType = 1
				}
			}
			friends = append(friends, friend)
		}
		return friendListResponse{Status: envelope.Success, UserList: friends}, nil
	}
}

// listOf reads one of the lists of the user named by the user_id parameter.
// Invocations: 1 (relation).
func listOf(r *http.Request, relations *relationapi.Client, list string) ([]int64, error) {
	userID, err := params.ID(r, "user_id")
	if err != nil {
		return nil, err
	}
	return relations.List(r.Context(), userID, list)
}

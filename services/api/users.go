package main

import (
	"context"
	"net/http"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/userapi"
)

type accountResponse struct {
	envelope.Status
	UserID int64  `json:"user_id"`
	Token  string `json:"token"`
}

func (accountResponse) failed(s envelope.Status) any { return accountResponse{Status: s} }

type userResponse struct {
	envelope.Status
	User *User `json:"user"`
}

func (userResponse) failed(s envelope.Status) any { return userResponse{Status: s} }

// accountCall is the user-service call behind register or login.
type accountCall func(context.Context, userapi.Credentials) (int64, error)

// handleAccount serves register and login: both take credentials and answer an id and a token.
func handleAccount(tokens *auth.Tokens, call accountCall) action {
	return func(r *http.Request, _ int64) (any, error) {
		cred := userapi.Credentials{
			Username: params.String(r, "username"),
			Password: params.String(r, "password"),
		}
		id, err := call(r.Context(), cred)
		if err != nil {
			return nil, err
		}
		token, err := tokens.Issue(id)
		if err != nil {
			return nil, err
		}
		return accountResponse{Status: envelope.Success, UserID: id, Token: token}, nil
	}
}

// handleUserInfo serves a user's profile with its counters; without user_id, the viewer's own
// (the official client asks for "my profile" with the token alone).
// Invocations: 1 (user), beside one bulk read of the counters (composer.gather).
func handleUserInfo(c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		id := viewer
		if r.FormValue("user_id") != "" {
			var err error
			if id, err = params.ID(r, "user_id"); err != nil {
				return nil, err
			}
		}
		users, err := c.users(r.Context(), viewer, []int64{id})
		if err != nil {
			return nil, err
		}
		user, ok := users[id]
		if !ok {
			return nil, apperr.New(apperr.UserNotFound)
		}
		return userResponse{Status: envelope.Success, User: &user}, nil
	}
}

// Package userapi is the user service's internal API: the request and response shapes, and a typed
// client that reaches the service through Dapr service invocation.
package userapi

import (
	"context"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
)

// AppID is the user service's Dapr app id.
const AppID = "user"

// Methods of the internal API.
const (
	MethodRegister = "accounts/register"
	MethodLogin    = "accounts/login"
	MethodProfiles = "profiles/batch"
)

// Credentials are what register and login take.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// AccountReply answers register and login.
type AccountReply struct {
	envelope.Status
	UserID int64 `json:"user_id"`
}

// ProfilesRequest asks for the profiles of up to MaxBatch users.
type ProfilesRequest struct {
	IDs []int64 `json:"ids"`
}

// MaxBatch bounds one profiles request.
const MaxBatch = 1000

// Profile is what the user service owns of a user. Avatar and BackgroundImage are object paths
// relative to the public media base; empty means the default image.
type Profile struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Signature       string `json:"signature"`
	Avatar          string `json:"avatar"`
	BackgroundImage string `json:"background_image"`
}

// ProfilesReply lists the profiles found; unknown ids are left out.
type ProfilesReply struct {
	envelope.Status
	Profiles []Profile `json:"profiles"`
}

// Client calls the user service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the user service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Register creates an account and returns its id.
func (c *Client) Register(ctx context.Context, cred Credentials) (int64, error) {
	// Checked here, before JSON turns invalid UTF-8 into U+FFFD on the way to the service: two
	// different passwords would otherwise hash alike.
	if !utf8.ValidString(cred.Username) {
		return 0, apperr.New(apperr.InvalidUsername)
	}
	if !utf8.ValidString(cred.Password) {
		return 0, apperr.New(apperr.InvalidPassword)
	}
	var reply AccountReply
	err := c.dapr.Invoke(ctx, AppID, MethodRegister, cred, &reply)
	return reply.UserID, err
}

// Login checks credentials and returns the account id.
func (c *Client) Login(ctx context.Context, cred Credentials) (int64, error) {
	// No account has such a name or password (see Register).
	if !utf8.ValidString(cred.Username) || !utf8.ValidString(cred.Password) {
		return 0, apperr.New(apperr.LoginFailed)
	}
	var reply AccountReply
	err := c.dapr.Invoke(ctx, AppID, MethodLogin, cred, &reply)
	return reply.UserID, err
}

// Profiles returns the profiles of ids, keyed by id; unknown ids are absent.
func (c *Client) Profiles(ctx context.Context, ids []int64) (map[int64]Profile, error) {
	found := make(map[int64]Profile, len(ids))
	err := daprc.InChunks(ids, MaxBatch, func(part []int64) error {
		var reply ProfilesReply
		if err := c.dapr.Invoke(ctx, AppID, MethodProfiles, ProfilesRequest{IDs: part}, &reply); err != nil {
			return err
		}
		for _, p := range reply.Profiles {
			found[p.ID] = p
		}
		return nil
	})
	return found, err
}

// Known answers "does this user exist", remembering the users it found: accounts are never
// deleted, so the memory cannot go stale. Services that act on another user (follow, message)
// use it to refuse unknown ones.
type Known struct {
	client *Client
	known  sync.Map // user id → struct{}
	size   atomic.Int64
}

// maxKnownUsers bounds the memory (about 60 bytes a user); past it the memory starts over,
// which only costs one lookup per user acted on again.
const maxKnownUsers = 1_000_000

// NewKnown returns a Known that asks client.
func NewKnown(client *Client) *Known { return &Known{client: client} }

// Check returns nil for an existing user, UserNotFound for an unknown one.
func (k *Known) Check(ctx context.Context, id int64) error {
	if _, ok := k.known.Load(id); ok {
		return nil
	}
	profiles, err := k.client.Profiles(ctx, []int64{id})
	if err != nil {
		return err
	}
	if _, ok := profiles[id]; !ok {
		return apperr.New(apperr.UserNotFound)
	}
	if _, loaded := k.known.LoadOrStore(id, struct{}{}); !loaded && k.size.Add(1) > maxKnownUsers {
		k.known.Clear()
		k.size.Store(0)
	}
	return nil
}

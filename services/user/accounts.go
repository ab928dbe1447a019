package main

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/text"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	maxUsernameRunes = 32
	minPasswordBytes = 6
	maxPasswordBytes = 32 // bcrypt reads at most 72 bytes; 32 keeps us far inside that
	bcryptCost       = bcrypt.DefaultCost
)

// hashSlots bounds the bcrypt computations running at once: each takes a core for tens of
// milliseconds, and a burst of registrations or logins would otherwise starve the rest of the
// process, its health check included (its sidecar would then stop routing to it).
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// withHashSlot runs fn once a slot is free, or gives up when ctx ends first.
func withHashSlot(ctx context.Context, fn func() error) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return apperr.Wrap(apperr.Unavailable, ctx.Err())
	}
	defer func() { <-hashSlots }()
	return fn()
}

// dummyHash is compared against when a username is unknown, so a failed login takes as long
// whether or not the name exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("doutok-timing-equaliser"), bcryptCost)

func validateUsername(name string) error {
	n := utf8.RuneCountInString(name)
	// U+FFFD stands for the invalid UTF-8 that JSON replaced on the way here.
	if n < 1 || n > maxUsernameRunes || !text.Clean(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == utf8.RuneError }) {
		return apperr.New(apperr.InvalidUsername)
	}
	return nil
}

func validatePassword(password string) error {
	if len(password) < minPasswordBytes || len(password) > maxPasswordBytes || !text.Clean(password) {
		return apperr.New(apperr.InvalidPassword)
	}
	return nil
}

func register(st *store) func(context.Context, userapi.Credentials) (userapi.AccountReply, error) {
	return func(ctx context.Context, cred userapi.Credentials) (userapi.AccountReply, error) {
		if err := validateUsername(cred.Username); err != nil {
			return userapi.AccountReply{}, err
		}
		if err := validatePassword(cred.Password); err != nil {
			return userapi.AccountReply{}, err
		}
		var hash []byte
		err := withHashSlot(ctx, func() (err error) {
			hash, err = bcrypt.GenerateFromPassword([]byte(cred.Password), bcryptCost)
			return err
		})
		if err != nil {
			return userapi.AccountReply{}, err
		}
		id, err := st.createAccount(ctx, cred.Username, string(hash))
		if errors.Is(err, errUsernameTaken) {
			return userapi.AccountReply{}, apperr.New(apperr.UsernameTaken)
		}
		if err != nil {
			return userapi.AccountReply{}, err
		}
		return userapi.AccountReply{Status: envelope.Success, UserID: id}, nil
	}
}

func login(st *store) func(context.Context, userapi.Credentials) (userapi.AccountReply, error) {
	return func(ctx context.Context, cred userapi.Credentials) (userapi.AccountReply, error) {
		if cred.Username == "" || cred.Password == "" {
			return userapi.AccountReply{}, apperr.Newf(apperr.InvalidParameter, "username and password are required")
		}
		if !text.Clean(cred.Username) || !text.Clean(cred.Password) {
			// No account has such a name or password, and PostgreSQL refuses to look up a NUL.
			return userapi.AccountReply{}, apperr.New(apperr.LoginFailed)
		}
		id, hash, err := st.credentials(ctx, cred.Username)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			hash = string(dummyHash)
		case err != nil:
			return userapi.AccountReply{}, err
		}
		var mismatch error
		if err := withHashSlot(ctx, func() error {
			mismatch = bcrypt.CompareHashAndPassword([]byte(hash), []byte(cred.Password))
			return nil
		}); err != nil {
			return userapi.AccountReply{}, err
		}
		if id == 0 || mismatch != nil {
			return userapi.AccountReply{}, apperr.New(apperr.LoginFailed)
		}
		return userapi.AccountReply{Status: envelope.Success, UserID: id}, nil
	}
}

func profiles(st *store) func(context.Context, userapi.ProfilesRequest) (userapi.ProfilesReply, error) {
	return func(ctx context.Context, req userapi.ProfilesRequest) (userapi.ProfilesReply, error) {
		if err := server.LimitBatch(len(req.IDs), userapi.MaxBatch); err != nil {
			return userapi.ProfilesReply{}, err
		}
		profiles, err := st.profiles(ctx, req.IDs)
		return userapi.ProfilesReply{Status: envelope.Success, Profiles: profiles}, err
	}
}

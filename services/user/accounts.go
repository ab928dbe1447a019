package main

import (
	"context"
	"database/sql"
	"errors"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	maxUsernameRunes = 32
	minPasswordBytes = 6
	maxPasswordBytes = 32 // bcrypt reads at most 72 bytes; 32 keeps us far inside that
	bcryptCost       = bcrypt.DefaultCost
)

// dummyHash is compared against when a username is unknown, so a failed login takes as long
// whether or not the name exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("doutok-timing-equaliser"), bcryptCost)

func validateUsername(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > maxUsernameRunes || !utf8.ValidString(name) {
		return apperr.New(apperr.InvalidUsername)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return apperr.New(apperr.InvalidUsername)
		}
	}
	return nil
}

func validatePassword(password string) error {
	if len(password) < minPasswordBytes || len(password) > maxPasswordBytes {
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
		hash, err := bcrypt.GenerateFromPassword([]byte(cred.Password), bcryptCost)
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
		id, hash, err := st.credentials(ctx, cred.Username)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(cred.Password))
			return userapi.AccountReply{}, apperr.New(apperr.LoginFailed)
		case err != nil:
			return userapi.AccountReply{}, err
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(cred.Password)) != nil {
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

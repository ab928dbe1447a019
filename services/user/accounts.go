package main

import (
	"database/sql"
	"errors"
	"net/http"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	maxUsernameRunes = 32
	minPasswordBytes = 6
	maxPasswordBytes = 32 // bcrypt reads at most 72 bytes; 32 keeps us far inside that
	bcryptCost       = bcrypt.DefaultCost
	maxRequestBytes  = 64 << 10
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

func handleRegister(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cred userapi.Credentials
		if err := envelope.Decode(r, maxRequestBytes, &cred); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if err := validateUsername(cred.Username); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if err := validatePassword(cred.Password); err != nil {
			envelope.Error(w, r, err)
			return
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(cred.Password), bcryptCost)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		id, err := st.createAccount(r.Context(), cred.Username, string(hash))
		if errors.Is(err, errUsernameTaken) {
			envelope.Error(w, r, apperr.New(apperr.UsernameTaken))
			return
		}
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, userapi.AccountReply{Status: envelope.Success, UserID: id})
	})
}

func handleLogin(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cred userapi.Credentials
		if err := envelope.Decode(r, maxRequestBytes, &cred); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if cred.Username == "" || cred.Password == "" {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "username and password are required"))
			return
		}
		id, hash, err := st.credentials(r.Context(), cred.Username)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(cred.Password))
			envelope.Error(w, r, apperr.New(apperr.LoginFailed))
			return
		case err != nil:
			envelope.Error(w, r, err)
			return
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(cred.Password)) != nil {
			envelope.Error(w, r, apperr.New(apperr.LoginFailed))
			return
		}
		envelope.OK(w, userapi.AccountReply{Status: envelope.Success, UserID: id})
	})
}

func handleProfiles(st *store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req userapi.ProfilesRequest
		if err := envelope.Decode(r, maxRequestBytes, &req); err != nil {
			envelope.Error(w, r, err)
			return
		}
		if len(req.IDs) > userapi.MaxBatch {
			envelope.Error(w, r, apperr.Newf(apperr.InvalidParameter, "at most %d ids per request", userapi.MaxBatch))
			return
		}
		profiles, err := st.profiles(r.Context(), req.IDs)
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, userapi.ProfilesReply{Status: envelope.Success, Profiles: profiles})
	})
}

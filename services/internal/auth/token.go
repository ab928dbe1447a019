// Package auth issues and verifies the bearer tokens of the mobile API: HS256-signed JWTs whose
// subject is the user id.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/doutok/doutok/services/internal/apperr"
)

// DefaultTTL is how long a token stays valid unless configured otherwise.
const DefaultTTL = 7 * 24 * time.Hour

// MinKeyBytes is the shortest signing key accepted: HS256 wants at least 256 bits.
const MinKeyBytes = 32

const issuer = "doutok"

// Tokens signs and verifies tokens with one key.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a signer/verifier for key; ttl <= 0 means DefaultTTL.
func NewTokens(key []byte, ttl time.Duration) (*Tokens, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("token signing key has %d bytes, need at least %d", len(key), MinKeyBytes)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now}, nil
}

// Issue returns a token for userID.
func (t *Tokens) Issue(userID int64) (string, error) {
	if userID <= 0 {
		return "", fmt.Errorf("refusing to issue a token for user id %d", userID)
	}
	now := t.now()
	claims := jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

// Verify returns the user id a token was issued for: TokenExpired for an expired token,
// TokenInvalid for anything else that is not a token we signed.
func (t *Tokens) Verify(token string) (int64, error) {
	// Go's base64 skips newlines and, unless strict, ignores a last character's unused bits, so
	// without these checks many spellings of one token verify: only the one we issued does.
	if strings.ContainsFunc(token, notTokenChar) {
		return 0, apperr.New(apperr.TokenInvalid)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return 0, apperr.New(apperr.TokenExpired)
	case err != nil:
		return 0, apperr.New(apperr.TokenInvalid)
	}
	userID, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 {
		return 0, apperr.New(apperr.TokenInvalid)
	}
	return userID, nil
}

// notTokenChar reports a character that no token we issue holds: they are three base64url
// segments joined by dots.
func notTokenChar(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

// FromRequest returns the token a request carries: the token parameter (query or form) or an
// Authorization: Bearer header. Call after the form is parsed.
func FromRequest(r *http.Request) string {
	if tok := r.FormValue("token"); tok != "" {
		return tok
	}
	return FromHeader(r)
}

// FromHeader returns the token of an Authorization: Bearer header, or "".
func FromHeader(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

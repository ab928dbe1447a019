package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

var testKey = []byte(strings.Repeat("s", MinKeyBytes))

func TestIssuedTokensVerify(t *testing.T) {
	tokens, err := NewTokens(testKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := tokens.Verify(tok); err != nil || id != 42 {
		t.Fatalf("Verify = %d, %v", id, err)
	}
}

func TestExpiredTokensAreTokenExpired(t *testing.T) {
	tokens, _ := NewTokens(testKey, time.Hour)
	tok, _ := tokens.Issue(7)
	tokens.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := tokens.Verify(tok); !apperr.Is(err, apperr.TokenExpired) {
		t.Fatalf("got %v, want TokenExpired", err)
	}
}

func TestForeignAndDamagedTokensAreTokenInvalid(t *testing.T) {
	tokens, _ := NewTokens(testKey, time.Hour)
	other, _ := NewTokens([]byte(strings.Repeat("o", MinKeyBytes)), time.Hour)
	foreign, _ := other.Issue(7)
	good, _ := tokens.Issue(7)
	// The last character of the signature carries 4 bits and 2 unused ones: its neighbour in the
	// base64url alphabet decodes to the same signature unless decoding is strict.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, good[len(good)-1])
	for name, tok := range map[string]string{
		"newline in signature": good[:len(good)-5] + "\n" + good[len(good)-5:],
		"unused bits set":      good[:len(good)-1] + string(alphabet[last^1]),
		"trailing whitespace":  good + " ",
		"foreign key":          foreign,
		"garbage":              "not-a-token",
		"empty":                "",
		"truncated":            good[:len(good)-5],
		"alg none":             "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJkb3V0b2siLCJzdWIiOiI3IiwiZXhwIjo5OTk5OTk5OTk5fQ.",
	} {
		if _, err := tokens.Verify(tok); !apperr.Is(err, apperr.TokenInvalid) {
			t.Errorf("%s: got %v, want TokenInvalid", name, err)
		}
	}
}

func TestShortKeysAreRefused(t *testing.T) {
	if _, err := NewTokens([]byte("short"), 0); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func TestFromRequestReadsParameterThenBearer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/?token=abc", nil)
	r.Header.Set("Authorization", "Bearer xyz")
	if got := FromRequest(r); got != "abc" {
		t.Errorf("parameter should win, got %q", got)
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "bearer  xyz ")
	if got := FromRequest(r); got != "xyz" {
		t.Errorf("bearer header: got %q", got)
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Basic xyz")
	if got := FromRequest(r); got != "" {
		t.Errorf("basic auth must not count as a token, got %q", got)
	}
}

func TestNoTokenForNonPositiveIDs(t *testing.T) {
	tokens, _ := NewTokens(testKey, time.Hour)
	for _, id := range []int64{0, -1} {
		if _, err := tokens.Issue(id); err == nil {
			t.Errorf("issued a token for user %d", id)
		}
	}
}

package auth

import (
	"encoding/base64"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

// refused fails unless err is one of the two codes a bad token may earn.
func refused(t *testing.T, token string, err error) {
	t.Helper()
	if !apperr.Is(err, apperr.TokenInvalid) && !apperr.Is(err, apperr.TokenExpired) {
		t.Fatalf("Verify(%q): %v, want TokenInvalid or TokenExpired", token, err)
	}
}

// No string the fuzzer makes up, without the key, verifies; each is refused with a token code.
func FuzzVerify(f *testing.F) {
	tokens, _ := NewTokens(testKey, time.Hour)
	good, _ := tokens.Issue(7)
	for _, seed := range []string{"", "x", "a.b.c", "..", good, good + "x", good[:len(good)/2],
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJkb3V0b2siLCJzdWIiOiI3IiwiZXhwIjo5OTk5OTk5OTk5fQ.",
		"eyJhbGciOiJIUzI1NiJ9.\x00\xff.e30", strings.Repeat("a.", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := tokens.Verify(token)
		if err == nil {
			if token != good {
				t.Fatalf("Verify(%q) accepted a token it never issued, as user %d", token, id)
			}
			return
		}
		refused(t, token, err)
	})
}

// Mutations of the fuzzer's choosing.
const (
	flipByte = iota
	swapPayload
	truncate
	insert
	resignWithOtherKey
	mutations
)

// A token we issued verifies as its user (round trip); changed in any way, it is refused, so it
// can never pass for someone else.
func FuzzTamperedToken(f *testing.F) {
	f.Add(int64(7), uint8(flipByte), uint16(10), byte(1), "")
	f.Add(int64(42), uint8(swapPayload), uint16(0), byte(0), `{"iss":"doutok","sub":"43","exp":9999999999}`)
	f.Add(int64(1), uint8(truncate), uint16(30), byte(0), "")
	f.Add(int64(math.MaxInt64), uint8(insert), uint16(5), byte(0), "=")
	f.Add(int64(9007199254740991), uint8(resignWithOtherKey), uint16(0), byte(0), "2")
	f.Add(int64(-3), uint8(flipByte), uint16(1000), byte(0x80), "")
	tokens, _ := NewTokens(testKey, time.Hour)
	other, _ := NewTokens([]byte(strings.Repeat("o", MinKeyBytes)), time.Hour)
	f.Fuzz(func(t *testing.T, uid int64, op uint8, pos uint16, b byte, data string) {
		if uid <= 0 {
			if _, err := tokens.Issue(uid); err == nil {
				t.Fatalf("issued a token for user %d", uid)
			}
			return
		}
		good, err := tokens.Issue(uid)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := tokens.Verify(good); err != nil || id != uid {
			t.Fatalf("round trip of user %d: %d, %v", uid, id, err)
		}
		at := int(pos) % (len(good) + 1)
		var bad string
		switch op % mutations {
		case flipByte:
			if at == len(good) {
				at--
			}
			raw := []byte(good)
			raw[at] ^= b | 1
			bad = string(raw)
		case swapPayload:
			parts := strings.Split(good, ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(data))
			bad = strings.Join(parts, ".")
		case truncate:
			bad = good[:at]
		case insert:
			bad = good[:at] + data + good[at:]
		case resignWithOtherKey:
			// The same claims, or the fuzzer's subject, signed with a key that is not ours.
			forged := uid
			if len(data) > 0 {
				forged = uid ^ int64(data[0])
			}
			if forged <= 0 {
				forged = uid
			}
			bad, _ = other.Issue(forged)
		}
		id, err := tokens.Verify(bad)
		if err != nil {
			refused(t, bad, err)
			return
		}
		if id != uid {
			t.Fatalf("token of user %d, mutated to %q, verified as user %d", uid, bad, id)
		}
		if bad != good {
			t.Fatalf("token of user %d, mutated to %q, still verified", uid, bad)
		}
	})
}

// The bearer header is read without panicking, trimmed, and only with its scheme.
func FuzzFromHeader(f *testing.F) {
	for _, seed := range []string{"", "Bearer", "Bearer ", "Bearer x", "bearer  y ", "BEARER\tz", "Basic abc",
		"Bearer \x00", "Bearer \xff\xfe", "Bearer\u00a0x", "Bearer 🙂"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		got := FromHeader(r)
		if got != strings.TrimSpace(got) {
			t.Fatalf("FromHeader(%q) = %q, not trimmed", header, got)
		}
		if got != "" && !strings.EqualFold(r.Header.Get("Authorization")[:7], "bearer ") {
			t.Fatalf("FromHeader(%q) = %q without the bearer scheme", header, got)
		}
	})
}

package params

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
)

// catalogued fails unless err is nil or carries one of the codes the caller may see.
func catalogued(t *testing.T, what string, err error, allowed ...apperr.Code) {
	t.Helper()
	if err == nil {
		return
	}
	code := apperr.From(err).Code
	for _, a := range allowed {
		if code == a {
			return
		}
	}
	t.Fatalf("%s: error %v is not one of the codes %v", what, err, allowed)
}

// An ID is accepted only in its range, and every ID in range survives a round trip through
// its decimal form.
func FuzzParseID(f *testing.F) {
	for _, seed := range []string{"1", "42", " 7 ", "9007199254740991", "9007199254740992", "0", "-1", "",
		"abc", "1.0", "1e3", "0x10", "+5", "007", "99999999999999999999", "9223372036854775808", "\x00", "\xff\xfe", "١٢"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseID(raw)
		if err != nil {
			if id != 0 {
				t.Fatalf("ParseID(%q) failed (%v) but returned %d", raw, err, id)
			}
			return
		}
		if id <= 0 || id >= MaxID {
			t.Fatalf("ParseID(%q) = %d, outside (0, 2^53)", raw, id)
		}
		if back, err := ParseID(strconv.FormatInt(id, 10)); err != nil || back != id {
			t.Fatalf("ParseID(%q) = %d, but its decimal form reads as %d, %v", raw, id, back, err)
		}
	})
}

// The content types a client may send, picked by the fuzzer by index.
var contentTypes = []string{
	"",
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=B",
	"multipart/form-data",
	"multipart/form-data; boundary=",
	"multipart/mixed; boundary=B",
	"text/plain",
	"application/json",
	"application/x-www-form-urlencoded; charset=\xff",
}

// Whatever the query string, content type and body, Parse and the readers built on it never
// panic and fail only with the catalogue's codes for bad requests; what they accept is in range.
func FuzzParseRequest(f *testing.F) {
	f.Add("user_id=1&token=abc", uint8(1), []byte("video_id=2&action_type=1"))
	f.Add("a=1&a=2&action_type=1&action_type=2", uint8(0), []byte(nil))
	f.Add("user_id=%ff%fe&latest_time=%00", uint8(1), []byte("user_id=%zz"))
	f.Add("latest_time=9223372036854775807&pre_msg_time=-1", uint8(6), []byte("x"))
	f.Add("", uint8(2), []byte("--B\r\nContent-Disposition: form-data; name=\"video_id\"\r\n\r\n7\r\n--B--\r\n"))
	f.Add("", uint8(2), []byte("--B\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a\"\r\n\r\nxx\r\n--B"))
	f.Add("", uint8(3), []byte("--B--"))
	f.Add(";;&&==", uint8(8), []byte("%"))
	f.Fuzz(func(t *testing.T, query string, ct uint8, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.URL.RawQuery = query
		if ctype := contentTypes[int(ct)%len(contentTypes)]; ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		err := Parse(httptest.NewRecorder(), r)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		catalogued(t, "Parse", err, apperr.InvalidParameter, apperr.BodyTooLarge)
		if err != nil {
			return
		}
		if id, err := ID(r, "user_id"); err == nil && (id <= 0 || id >= MaxID) {
			t.Fatalf("ID accepted %d", id)
		} else {
			catalogued(t, "ID", err, apperr.InvalidParameter)
		}
		if act, err := ActionType(r, 1, 2); err == nil && act != 1 && act != 2 {
			t.Fatalf("ActionType accepted %d", act)
		} else {
			catalogued(t, "ActionType", err, apperr.InvalidParameter, apperr.InvalidAction)
		}
		const def = 1700000000000
		if ms, err := Time(r, "latest_time", def); err == nil && ms <= 0 {
			t.Fatalf("Time read %q as %d", r.FormValue("latest_time"), ms)
		} else {
			catalogued(t, "Time", err, apperr.InvalidParameter)
		}
		_ = String(r, "comment_text")
	})
}

// A time is read as milliseconds whether sent in seconds or milliseconds, and a positive time
// in seconds reads as the same instant in milliseconds.
func FuzzTime(f *testing.F) {
	for _, seed := range []string{"0", "1", "1700000000", "1700000000123", "1000000000000", "1000000000001",
		"-1", " 5 ", "9223372036854775807", "9223372036854775808", "1e3", "", "\t"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Form = map[string][]string{"t": {raw}}
		const def = 42
		ms, err := Time(r, "t", def)
		catalogued(t, "Time", err, apperr.InvalidParameter)
		if err != nil {
			return
		}
		v, perr := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		switch {
		case strings.TrimSpace(raw) == "" || v == 0:
			if ms != def {
				t.Fatalf("Time(%q) = %d, want the default", raw, ms)
			}
		case perr != nil || v < 0:
			t.Fatalf("Time(%q) accepted a value that is not a non-negative integer", raw)
		case v > 1e12 && ms != v, v <= 1e12 && ms != v*1000:
			t.Fatalf("Time(%q) = %d", raw, ms)
		}
	})
}

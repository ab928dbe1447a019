package params

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
)

func TestParseIDAcceptsOnlyPositiveIDsBelow2To53(t *testing.T) {
	for raw, ok := range map[string]bool{
		"1": true, "42": true, " 7 ": true, "9007199254740991": true,
		"0": false, "-1": false, "": false, "abc": false, "1.0": false, "1e3": false,
		"9007199254740992": false, "99999999999999999999": false, "0x10": false,
	} {
		_, err := ParseID(raw)
		if (err == nil) != ok {
			t.Errorf("ParseID(%q) error %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestToMillisReadsSecondsAndMilliseconds(t *testing.T) {
	const def = 123
	for _, tc := range []struct{ in, want int64 }{
		{0, def},
		{1700000000, 1700000000000},    // seconds
		{1700000000123, 1700000000123}, // milliseconds
		{1, 1000},                      // tiny seconds
		{1e12, 1e15},                   // the boundary is still seconds
	} {
		if got := ToMillis(tc.in, def); got != tc.want {
			t.Errorf("ToMillis(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestTimeRejectsGarbage(t *testing.T) {
	for _, raw := range []string{"abc", "-5", "1.5"} {
		r := httptest.NewRequest(http.MethodGet, "/?t="+url.QueryEscape(raw), nil)
		if _, err := Time(r, "t", 0); !apperr.Is(err, apperr.InvalidParameter) {
			t.Errorf("Time(%q) = %v, want InvalidParameter", raw, err)
		}
	}
}

func TestParseReadsQueryFormAndMultipart(t *testing.T) {
	urlencoded := httptest.NewRequest(http.MethodPost, "/?a=query", strings.NewReader("b=form"))
	urlencoded.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("b", "form")
	_ = mw.Close()
	multi := httptest.NewRequest(http.MethodPost, "/?a=query", &body)
	multi.Header.Set("Content-Type", mw.FormDataContentType())

	for name, r := range map[string]*http.Request{"urlencoded": urlencoded, "multipart": multi} {
		if err := Parse(httptest.NewRecorder(), r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if String(r, "a") != "query" || String(r, "b") != "form" {
			t.Errorf("%s: a=%q b=%q", name, String(r, "a"), String(r, "b"))
		}
	}
}

func TestParseRejectsOversizedBodies(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("a="+strings.Repeat("x", MaxFormBytes+1)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := Parse(httptest.NewRecorder(), r); !apperr.Is(err, apperr.BodyTooLarge) {
		t.Fatalf("got %v, want BodyTooLarge", err)
	}
}

func TestActionType(t *testing.T) {
	for raw, want := range map[string]apperr.Code{"1": apperr.OK, "2": apperr.OK, "3": apperr.InvalidAction, "x": apperr.InvalidAction, "": apperr.InvalidParameter} {
		r := httptest.NewRequest(http.MethodGet, "/?action_type="+raw, nil)
		_, err := ActionType(r, 1, 2)
		got := apperr.OK
		if err != nil {
			got = apperr.From(err).Code
		}
		if got != want {
			t.Errorf("action_type=%q: code %d, want %d", raw, got, want)
		}
	}
}

package envelope

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
)

func TestErrorKeepsCodeAndHidesInternalDetail(t *testing.T) {
	for _, tc := range []struct {
		err        error
		httpStatus int
		code       apperr.Code
	}{
		{apperr.New(apperr.UserNotFound), 200, apperr.UserNotFound},
		{apperr.New(apperr.TokenExpired), 401, apperr.TokenExpired},
		{errors.New("pq: connection refused at 10.0.0.1"), 500, apperr.Internal},
	} {
		rec := httptest.NewRecorder()
		Error(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.err)
		var got Status
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.httpStatus || got.StatusCode != tc.code || got.StatusMsg == "" {
			t.Errorf("%v: HTTP %d %s", tc.err, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "pq:") || rec.Header().Get("Content-Type") != ContentType {
			t.Errorf("%v leaked detail or wrong type: %s %s", tc.err, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

func TestSuccessKeepsZeroFields(t *testing.T) {
	rec := httptest.NewRecorder()
	OK(rec, struct {
		Status
		List []int `json:"list"`
	}{Status: Success, List: []int{}})
	if got := rec.Body.String(); got != `{"status_code":0,"status_msg":"success","list":[]}` {
		t.Fatalf("got %s", got)
	}
}

func TestReadTurnsCodesBackIntoErrors(t *testing.T) {
	err := Read(strings.NewReader(`{"status_code":30001,"status_msg":"username is already taken"}`), nil)
	if !apperr.Is(err, apperr.UsernameTaken) {
		t.Fatalf("got %v", err)
	}
	var v struct {
		Status
		N int `json:"n"`
	}
	if err := Read(strings.NewReader(`{"status_code":0,"status_msg":"success","n":3}`), &v); err != nil || v.N != 3 {
		t.Fatalf("got %v %+v", err, v)
	}
	for _, body := range []string{`<html>`, `{}`, `{"errorCode":"ERR_DIRECT_INVOKE","message":"app unhealthy"}`} {
		if err := Read(strings.NewReader(body), nil); !apperr.Is(err, apperr.Internal) {
			t.Fatalf("non-envelope body %s: got %v", body, err)
		}
	}
}

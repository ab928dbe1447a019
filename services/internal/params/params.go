// Package params reads request parameters the way the mobile client sends them: in the query
// string (even on POST), as url-encoded or multipart form fields, or both.
package params

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
)

// MaxFormBytes bounds a non-upload request body.
const MaxFormBytes = 1 << 20

// MaxID is the exclusive upper bound of every ID: 2^53, so float64-based JSON clients read IDs exactly.
const MaxID = 1 << 53

// Parse reads the query string and a url-encoded or multipart form body into r.Form. A body over
// MaxFormBytes is BodyTooLarge; a malformed body is InvalidParameter.
func Parse(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(MaxFormBytes)
		if errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return apperr.New(apperr.BodyTooLarge)
	case err != nil:
		return apperr.Newf(apperr.InvalidParameter, "malformed request parameters")
	}
	return nil
}

// String returns the parameter's value, trimmed of nothing: names and content are taken as sent.
func String(r *http.Request, name string) string {
	return r.FormValue(name)
}

// ID returns a required ID parameter: a positive integer below MaxID.
func ID(r *http.Request, name string) (int64, error) {
	raw := r.FormValue(name)
	if raw == "" {
		return 0, apperr.Newf(apperr.InvalidParameter, "%s is required", name)
	}
	id, err := ParseID(raw)
	if err != nil {
		return 0, apperr.Newf(apperr.InvalidParameter, "%s must be a positive integer", name)
	}
	return id, nil
}

// ParseID parses a positive integer ID below MaxID.
func ParseID(raw string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return 0, err
	}
	if id <= 0 || id >= MaxID {
		return 0, strconv.ErrRange
	}
	return id, nil
}

// ActionType returns a required action_type that must be one of allowed.
func ActionType(r *http.Request, allowed ...int) (int, error) {
	raw := r.FormValue("action_type")
	if raw == "" {
		return 0, apperr.Newf(apperr.InvalidParameter, "action_type is required")
	}
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err == nil {
		for _, a := range allowed {
			if v == a {
				return v, nil
			}
		}
	}
	return 0, apperr.New(apperr.InvalidAction)
}

// Time returns an optional time parameter sent in Unix milliseconds or seconds (a value above 1e12
// is milliseconds), as Unix milliseconds. A missing or zero value yields def.
func Time(r *http.Request, name string, def int64) (int64, error) {
	raw := strings.TrimSpace(r.FormValue(name))
	if raw == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < 0 {
		return 0, apperr.Newf(apperr.InvalidParameter, "%s must be a Unix time in seconds or milliseconds", name)
	}
	return ToMillis(v, def), nil
}

// ToMillis normalises a Unix time in seconds or milliseconds to milliseconds; zero yields def.
func ToMillis(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v > 1e12:
		return v
	default: // seconds: at most 1e12, so the product cannot overflow
		return v * 1000
	}
}

// NowMillis is the current Unix time in milliseconds.
func NowMillis() int64 { return time.Now().UnixMilli() }

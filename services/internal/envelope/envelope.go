// Package envelope writes the JSON response envelope every endpoint answers with, public or
// internal: one object with status_code and status_msg beside the payload fields.
package envelope

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/logging"
)

// Status is embedded first in every response body.
type Status struct {
	StatusCode apperr.Code `json:"status_code"`
	StatusMsg  string      `json:"status_msg"`
}

// Success is the status of a successful response.
var Success = Status{StatusCode: apperr.OK, StatusMsg: "success"}

// RetryAfterUnavailable is the Retry-After (seconds) of a 503 answer that does not set its own.
const RetryAfterUnavailable = "2"

// ContentType is the content type of every response.
const ContentType = "application/json; charset=utf-8"

// Write sends v as the JSON body with the given HTTP status.
func Write(w http.ResponseWriter, httpStatus int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unencodable type) lands here; keep the envelope promise.
		httpStatus = http.StatusInternalServerError
		body, _ = json.Marshal(statusOf(apperr.New(apperr.Internal)))
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// OK sends a successful response. v must embed Status; use Success for it.
func OK(w http.ResponseWriter, v any) {
	Write(w, http.StatusOK, v)
}

// Error sends err as an envelope. Application errors keep their code and message; anything else
// becomes Internal, and its detail goes to the log only.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	ErrorAs(w, r, err, func(s Status) any { return s })
}

// ErrorAs sends err like Error, in the shape of the endpoint's reply: shape returns the reply
// carrying the error's status, its other fields present with zero values.
func ErrorAs(w http.ResponseWriter, r *http.Request, err error, shape func(Status) any) {
	appErr := apperr.From(err)
	status := apperr.HTTPStatus(appErr.Code)
	if status >= http.StatusInternalServerError {
		logging.FromContext(r.Context()).Error("request failed", zap.Error(err))
	}
	if after, ok := apperr.RetryAfter(err); ok {
		// Whole seconds rounded up, never 0 (which would invite an immediate retry).
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(after.Seconds())))))
	} else if status == http.StatusServiceUnavailable {
		// Unavailable is passing (a dependency down or too slow): tell clients when to try again.
		w.Header().Set("Retry-After", RetryAfterUnavailable)
	}
	Write(w, status, shape(statusOf(appErr)))
}

func statusOf(e *apperr.Error) Status {
	return Status{StatusCode: e.Code, StatusMsg: e.Message}
}

// Decode reads a JSON body into v, with a size limit, answering bad input as InvalidParameter.
func Decode(r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	if err := dec.Decode(v); err != nil {
		return apperr.Newf(apperr.InvalidParameter, "request body is not valid JSON")
	}
	return nil
}

// Read decodes an envelope-carrying response body into v and turns a non-zero status_code back
// into the application error it stands for, so codes cross service boundaries unchanged.
func Read(body io.Reader, v any) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	// A body without status_code is not our envelope (a sidecar's own error, say): it must never
	// read as success.
	var status struct {
		StatusCode *apperr.Code `json:"status_code"`
		StatusMsg  string       `json:"status_msg"`
	}
	if err := json.Unmarshal(raw, &status); err != nil || status.StatusCode == nil {
		return apperr.Wrap(apperr.Internal, errors.New("downstream answered a body that is not an envelope"))
	}
	if *status.StatusCode != apperr.OK {
		return &apperr.Error{Code: *status.StatusCode, Message: status.StatusMsg}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return apperr.Wrap(apperr.Internal, err)
	}
	return nil
}

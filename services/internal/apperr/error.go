// Package apperr is the one error catalogue of the whole backend.
//
// Every cause a client can see has one code here, with the HTTP status it maps to and a default
// message. Services pass these codes to one another inside the response envelope, so a code raised
// deep in a domain service reaches the mobile client unchanged. The README's error table is checked
// against Catalogue by a test.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Code identifies one cause of failure. Codes are stable: never renumber or reuse one.
type Code int

// The catalogue. Ranges: 1xxxx request validation, 2xxxx authentication, 3xxxx domain rules,
// 4xxxx transport and limits, 5xxxx server-side failures.
const (
	OK Code = 0

	InvalidParameter Code = 10001
	InvalidAction    Code = 10002
	InvalidUsername  Code = 10003
	InvalidPassword  Code = 10004
	InvalidTitle     Code = 10005
	InvalidVideo     Code = 10006
	MissingVideo     Code = 10007
	InvalidComment   Code = 10008
	InvalidMessage   Code = 10009

	TokenMissing Code = 20001
	TokenInvalid Code = 20002
	TokenExpired Code = 20003
	LoginFailed  Code = 20004

	UsernameTaken    Code = 30001
	UserNotFound     Code = 30002
	VideoNotFound    Code = 30003
	CommentMissing   Code = 30004
	NotCommentAuthor Code = 30005
	FollowSelf       Code = 30006
	MessageSelf      Code = 30007

	RouteNotFound    Code = 40001
	MethodNotAllowed Code = 40002
	BodyTooLarge     Code = 40003
	CallerRejected   Code = 40004
	// 40005 (endpoint not available yet) is retired: every endpoint exists.
	QueryTooLong    Code = 40006
	HeadersTooLarge Code = 40007
	TooManyUploads  Code = 40008
	TooManyRequests Code = 40009
	MediaNotFound   Code = 40010

	Internal    Code = 50001
	Unavailable Code = 50002
	UploadsBusy Code = 50003
)

// Entry describes one catalogue code.
type Entry struct {
	Code       Code
	HTTPStatus int
	Message    string
}

// Catalogue lists every code with its HTTP status and default message.
var Catalogue = map[Code]Entry{
	InvalidParameter: {InvalidParameter, http.StatusOK, "missing or invalid parameter"},
	InvalidAction:    {InvalidAction, http.StatusOK, "action_type is not one of the allowed values"},
	InvalidUsername:  {InvalidUsername, http.StatusOK, "username must be 1-32 characters without spaces or control characters"},
	InvalidPassword:  {InvalidPassword, http.StatusOK, "password must be 6-32 bytes without control characters"},
	InvalidTitle:     {InvalidTitle, http.StatusOK, "title must be 1-100 characters without control characters"},
	InvalidVideo:     {InvalidVideo, http.StatusOK, "data is not a video that can be decoded"},
	MissingVideo:     {MissingVideo, http.StatusOK, "data (the video file) is required"},
	InvalidComment:   {InvalidComment, http.StatusOK, "comment_text must be 1-500 characters, not only spaces, without control characters other than newline and tab"},
	InvalidMessage:   {InvalidMessage, http.StatusOK, "content must be 1-1000 characters, not only spaces, without control characters other than newline and tab"},

	TokenMissing: {TokenMissing, http.StatusUnauthorized, "token is required"},
	TokenInvalid: {TokenInvalid, http.StatusUnauthorized, "token is invalid"},
	TokenExpired: {TokenExpired, http.StatusUnauthorized, "token has expired, log in again"},
	LoginFailed:  {LoginFailed, http.StatusOK, "wrong username or password"},

	UsernameTaken:    {UsernameTaken, http.StatusOK, "username is already taken"},
	UserNotFound:     {UserNotFound, http.StatusOK, "user not found"},
	VideoNotFound:    {VideoNotFound, http.StatusOK, "video not found"},
	CommentMissing:   {CommentMissing, http.StatusOK, "comment not found on this video"},
	NotCommentAuthor: {NotCommentAuthor, http.StatusOK, "only the comment's author can delete it"},
	FollowSelf:       {FollowSelf, http.StatusOK, "you cannot follow yourself"},
	MessageSelf:      {MessageSelf, http.StatusOK, "you cannot send a message to yourself"},

	RouteNotFound:    {RouteNotFound, http.StatusNotFound, "no such endpoint"},
	MethodNotAllowed: {MethodNotAllowed, http.StatusMethodNotAllowed, "method not allowed on this endpoint"},
	BodyTooLarge:     {BodyTooLarge, http.StatusRequestEntityTooLarge, "request body is too large"},
	CallerRejected:   {CallerRejected, http.StatusForbidden, "caller is not this service's sidecar"},
	QueryTooLong:     {QueryTooLong, http.StatusRequestURITooLong, "query string is too long"},
	HeadersTooLarge:  {HeadersTooLarge, http.StatusRequestHeaderFieldsTooLarge, "request headers are too large"},
	TooManyUploads:   {TooManyUploads, http.StatusTooManyRequests, "too many uploads of yours in progress, try again shortly"},
	TooManyRequests:  {TooManyRequests, http.StatusTooManyRequests, "too many requests, retry later"},
	MediaNotFound:    {MediaNotFound, http.StatusNotFound, "no such media file"},

	Internal:    {Internal, http.StatusInternalServerError, "internal error"},
	Unavailable: {Unavailable, http.StatusServiceUnavailable, "service temporarily unavailable, try again"},
	UploadsBusy: {UploadsBusy, http.StatusServiceUnavailable, "too many uploads in progress, try again shortly"},
}

// Error is a failure with a catalogue code and a message that is safe to show to the client.
type Error struct {
	Code    Code
	Message string
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// New returns an error with the code's default message.
func New(code Code) *Error {
	return &Error{Code: code, Message: Catalogue[code].Message}
}

// Newf returns an error with the code and a specific, client-safe message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches an underlying cause (kept for logs, never shown to clients) to a code.
func Wrap(code Code, cause error) *Error {
	return &Error{Code: code, Message: Catalogue[code].Message, cause: cause}
}

// From returns the application error inside err, or an error wrapping it: Unavailable for a
// deadline that ran out (a dependency too slow to answer), Internal for anything else.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Wrap(Unavailable, err)
	}
	return Wrap(Internal, err)
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// HTTPStatus is the HTTP status a response with this code is sent with.
func HTTPStatus(code Code) int {
	if code == OK {
		return http.StatusOK
	}
	if entry, ok := Catalogue[code]; ok {
		return entry.HTTPStatus
	}
	return http.StatusInternalServerError
}

// Sorted returns the catalogue ordered by code, for documentation.
func Sorted() []Entry {
	entries := make([]Entry, 0, len(Catalogue))
	for _, e := range Catalogue {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Code < entries[j].Code })
	return entries
}

// Later is a refusal for now (a full upload slot, a spent rate limit): the catalogue error the
// client sees, and how long it should wait before trying again (the envelope's Retry-After).
type Later struct {
	Err   *Error
	After time.Duration
}

func (e *Later) Error() string { return e.Err.Error() }

func (e *Later) Unwrap() error { return e.Err }

// RetryAfter returns how long err asks the client to wait, if it is (or wraps) a Later.
func RetryAfter(err error) (time.Duration, bool) {
	var later *Later
	if errors.As(err, &later) {
		return later.After, true
	}
	return 0, false
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/auth"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

type feedResponse struct {
	envelope.Status
	VideoList []Video `json:"video_list"`
	NextTime  int64   `json:"next_time"`
}

func (feedResponse) failed(s envelope.Status) any {
	return feedResponse{Status: s, VideoList: []Video{}}
}

type videoListResponse struct {
	envelope.Status
	VideoList []Video `json:"video_list"`
}

func (videoListResponse) failed(s envelope.Status) any {
	return videoListResponse{Status: s, VideoList: []Video{}}
}

// handleFeed serves the newest-first timeline with its counters, every page alike: the page's
// ids from the feed (or the gateway's copy of a page that can no longer change), their entries
// from the gateway's copy, the counters from the state store.
// Invocations: 1 (feed; 0 for a settled page seen before), beside one bulk read of the counters;
// more when the gateway lacks some entries (videoEntries.get) or the state store is down (the
// counters' owners).
func handleFeed(pages *settledPages, c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		now := params.NowMillis()
		before, err := params.Time(r, "latest_time", now)
		if err != nil {
			return nil, err
		}
		ids, err := pages.page(r.Context(), before, now)
		if err != nil {
			return nil, err
		}
		page, err := c.entries.get(r.Context(), ids)
		if err != nil {
			return nil, err
		}
		list, err := c.videos(r.Context(), viewer, page)
		if err != nil {
			return nil, err
		}
		next := now
		if n := len(page); n > 0 {
			next = page[n-1].Video.PublishedAt
		}
		return feedResponse{Status: envelope.Success, VideoList: list, NextTime: next}, nil
	}
}

// handlePublishList serves a user's videos, newest first: their ids from publish, as the feed,
// their entries from the gateway's copy, the counters from the state store.
// Invocations: 1 (publish), beside one bulk read of the counters; more when the gateway lacks
// some entries (videoEntries.get); for a user without videos, user tells whether the user exists.
func handlePublishList(publish *publishapi.Client, c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		authorID, err := params.ID(r, "user_id")
		if err != nil {
			return nil, err
		}
		videoIDs, err := publish.ByAuthor(r.Context(), authorID)
		if err != nil {
			return nil, err
		}
		if len(videoIDs) == 0 {
			// Nothing to render, but an unknown user is still an error: one profile lookup tells.
			profiles, err := c.accounts.Profiles(r.Context(), []int64{authorID})
			if err != nil {
				return nil, err
			}
			if _, ok := profiles[authorID]; !ok {
				return nil, apperr.New(apperr.UserNotFound)
			}
		}
		list, err := c.videosByID(r.Context(), viewer, videoIDs)
		if err != nil {
			return nil, err
		}
		return videoListResponse{Status: envelope.Success, VideoList: list}, nil
	}
}

// publisher receives uploads: multipart data (the video), title and token.
type publisher struct {
	tokens   *auth.Tokens
	publish  *publishapi.Client
	maxBytes int64
	tmpDir   string
	slots    *uploadSlots
	limits   *rateLimits
}

// multipartSlack is what the parts other than data may add to the body.
const multipartSlack = 1 << 20

// maxFieldBytes bounds a non-file multipart field (title, token).
const maxFieldBytes = 64 << 10

func handlePublish(p *publisher) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read, write := publishapi.UploadDeadlines(p.maxBytes)
		server.Extend(w, read, write)
		err := refusal(r)
		if err == nil {
			err = p.serve(w, r)
		}
		if err != nil {
			envelope.Error(w, r, err)
			return
		}
		envelope.OK(w, envelope.Success)
	})
}

func (p *publisher) tooLarge() error {
	return apperr.Newf(apperr.BodyTooLarge, "video is larger than the %d MiB limit", p.maxBytes>>20)
}

// serve streams the video part to a temporary file (never the whole body into memory), then
// streams that file to the publish service. An oversized body is refused from its
// Content-Length before anything is read, or as soon as the limit is crossed.
func (p *publisher) serve(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > p.maxBytes+multipartSlack {
		return p.tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, p.maxBytes+multipartSlack)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// No video comes without a multipart body; the answer still names the first problem.
		if err := params.Parse(w, r); err != nil {
			return err
		}
		if _, err := viewerOf(p.tokens, auth.FromRequest(r), required); err != nil {
			return err
		}
		return apperr.New(apperr.MissingVideo)
	}
	if err := p.slots.take(anonymous); err != nil {
		return err
	}
	defer p.slots.give(anonymous)
	// The query string counts as much as form fields.
	query := r.URL.Query()
	token, title := query.Get("token"), query.Get("title")
	if token == "" {
		token = auth.FromHeader(r)
	}
	got, err := p.receive(r.Context(), r.Body, multipartBoundary(r), token, title)
	if err != nil {
		return err
	}
	defer p.release(got)
	_, err = p.publish.Upload(r.Context(), got.viewer, got.title, got.video)
	return err
}

// multipartBoundary returns the boundary of a multipart/form-data body, or "" when the
// Content-Type names none.
func multipartBoundary(r *http.Request) string {
	mediaType, ps, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return ""
	}
	return ps["boundary"]
}

// received is an upload as read from its body: the video spooled to a temporary file (at its
// start), its title, and the uploader, who holds an upload slot until release.
type received struct {
	video  *os.File
	size   int64
	title  string
	viewer int64
}

// release removes the spooled video and gives back the uploader's slot.
func (p *publisher) release(got *received) {
	got.video.Close()
	os.Remove(got.video.Name())
	p.slots.give(got.viewer)
}

// receive reads the multipart body of an upload (split by boundary), whose query string or
// header gave token and title (each may be ""). It answers a complete upload, to release once
// used, or an error that leaves nothing behind: no file, no slot. It is apart from the HTTP
// handler so that a fuzz test can feed it any body.
//
// A token known before the body is checked before the body is read, and one sent as a field
// before the video is checked before the video is spooled: a bad token costs no disk.
func (p *publisher) receive(ctx context.Context, body io.Reader, boundary, token, title string) (_ *received, err error) {
	got := &received{viewer: anonymous, title: title}
	defer func() {
		if err == nil {
			return
		}
		if got.video != nil {
			got.video.Close()
			os.Remove(got.video.Name())
		}
		if got.viewer != anonymous {
			p.slots.give(got.viewer)
		}
	}()
	// identify verifies the token, spends one of the user's writes and takes their upload slot.
	identify := func(token string) error {
		v, err := viewerOf(p.tokens, token, required)
		if err != nil {
			return err
		}
		if err := p.limits.spendWrite(ctx, v); err != nil {
			return err
		}
		if err := p.slots.take(v); err != nil {
			return err
		}
		got.viewer = v
		return nil
	}
	if token != "" {
		if err := identify(token); err != nil {
			return nil, err
		}
	}
	if boundary == "" {
		return nil, apperr.Newf(apperr.InvalidParameter, "malformed multipart body")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, p.bodyError(err)
		}
		switch name := part.FormName(); {
		case name == "data" && got.video == nil:
			// Without a token yet, the video is spooled all the same: clients may send the
			// token field after it.
			if got.video, got.size, err = p.spool(part); err != nil {
				return nil, err
			}
		case name == "token" && got.viewer == anonymous:
			value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes))
			if err != nil {
				return nil, p.bodyError(err)
			}
			if err := identify(string(value)); err != nil {
				return nil, err
			}
		case name == "title":
			value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes))
			if err != nil {
				return nil, p.bodyError(err)
			}
			got.title = string(value)
			// A title sent before the video is refused before the video is read.
			if got.video == nil {
				if err := publishapi.ValidateTitle(got.title); err != nil {
					return nil, err
				}
			}
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, p.bodyError(err)
			}
		}
	}
	if got.viewer == anonymous {
		return nil, apperr.New(apperr.TokenMissing)
	}
	if got.video == nil || got.size == 0 {
		return nil, apperr.New(apperr.MissingVideo)
	}
	if err := publishapi.ValidateTitle(got.title); err != nil {
		return nil, err
	}
	if _, err := got.video.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return got, nil
}

// spool copies the video part to a temporary file, refusing more than maxBytes.
func (p *publisher) spool(part *multipart.Part) (*os.File, int64, error) {
	f, err := os.CreateTemp(p.tmpDir, "upload-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(part, p.maxBytes+1))
	if err == nil && n > p.maxBytes {
		err = p.tooLarge()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, p.bodyError(err)
	}
	return f, n, nil
}

func (p *publisher) bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	var appErr *apperr.Error
	switch {
	case errors.As(err, &tooLarge):
		return p.tooLarge()
	case errors.As(err, &appErr):
		return err
	default:
		return apperr.Newf(apperr.InvalidParameter, "malformed multipart body")
	}
}

// handleFeedPing takes the same path as the feed (gateway, two sidecars, feed service) and does
// no work: the benchmark's baseline, and a deep health check.
func handleFeedPing(feed *feedapi.Client) action {
	return func(r *http.Request, _ int64) (any, error) {
		if err := feed.Ping(r.Context()); err != nil {
			return nil, fmt.Errorf("feed ping: %w", err)
		}
		return envelope.Success, nil
	}
}

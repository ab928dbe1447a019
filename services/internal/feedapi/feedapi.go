// Package feedapi is the feed service's internal API.
package feedapi

import (
	"context"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/relationapi"
	"github.com/doutok/doutok/services/internal/userapi"
)

// AppID is the feed service's Dapr app id.
const AppID = "feed"

// Methods of the internal API.
const (
	MethodPage  = "timeline/page"
	MethodIndex = "timeline/index"
	MethodPing  = "ping"
)

// PageSize is the most videos one feed page holds.
const PageSize = 30

// PageRequest asks for the videos published strictly before Before (Unix ms), newest first, as
// Viewer (0: anonymous) sees them. A caller that already holds the newest page says so:
// KnownVersion names the entries it holds, KnownFingerprint the whole reply.
type PageRequest struct {
	Before           int64  `json:"before"`
	Viewer           int64  `json:"viewer"`
	KnownVersion     int64  `json:"known_version"`
	KnownFingerprint string `json:"known_fingerprint"`
}

// Entry is one feed video with what the feed knows of its author.
type Entry struct {
	Video           publishapi.Video `json:"video"`
	Author          userapi.Profile  `json:"author"`
	AuthorWorkCount int64            `json:"author_work_count"`
}

// Counts are the counters of a page's videos and authors, read from the read models the
// favorite, comment and relation services publish.
type Counts struct {
	Videos  map[int64]VideoCounts  `json:"videos"`
	Authors map[int64]AuthorCounts `json:"authors"`
}

// VideoCounts are one video's counters, and whether the viewer likes it.
type VideoCounts struct {
	Likes         int64 `json:"likes"`
	Comments      int64 `json:"comments"`
	LikedByViewer bool  `json:"liked_by_viewer"`
}

// AuthorCounts are one author's counters as their owners report them: likes (favorite), and
// follows with whether the viewer follows the author (relation).
type AuthorCounts struct {
	favoriteapi.UserLikes
	relationapi.UserFollows
}

// PageReply is one page of the timeline. Newest says the page is the newest one, at Version.
// Unchanged: the caller's whole reply (KnownFingerprint) is still current, nothing else is sent.
// EntriesUnchanged: the caller's entries (KnownVersion) are current; only Counts are sent.
type PageReply struct {
	envelope.Status
	Version          int64   `json:"version"`
	Newest           bool    `json:"newest"`
	Fingerprint      string  `json:"fingerprint"`
	Unchanged        bool    `json:"unchanged"`
	EntriesUnchanged bool    `json:"entries_unchanged"`
	Entries          []Entry `json:"entries"`
	Counts           Counts  `json:"counts"`
}

// Client calls the feed service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the feed service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Page returns up to PageSize videos published strictly before req.Before with their counters,
// or less when the caller already holds parts of the answer (see PageReply).
func (c *Client) Page(ctx context.Context, req PageRequest) (PageReply, error) {
	var reply PageReply
	err := c.dapr.Invoke(ctx, AppID, MethodPage, req, &reply)
	return reply, err
}

// Index adds a published video to the timeline at once, so the next feed read shows it.
func (c *Client) Index(ctx context.Context, v publishapi.Video) error {
	return c.dapr.Invoke(ctx, AppID, MethodIndex, v, nil)
}

// Ping takes the full invocation path (gateway, two sidecars, feed) and does nothing else.
func (c *Client) Ping(ctx context.Context) error {
	return c.dapr.Invoke(ctx, AppID, MethodPing, struct{}{}, nil)
}

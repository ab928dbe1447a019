// Package feedapi is the feed service's internal API.
package feedapi

import (
	"context"

	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/publishapi"
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

// PageRequest asks for the videos published strictly before Before (Unix ms), newest first.
// KnownVersion is the timeline version of the newest page the caller already holds (0 if none):
// when the request is for the newest page and the timeline is still at that version, the reply
// says Unchanged instead of repeating the page.
type PageRequest struct {
	Before       int64 `json:"before"`
	KnownVersion int64 `json:"known_version"`
}

// Entry is one feed video with what the feed knows of its author.
type Entry struct {
	Video           publishapi.Video `json:"video"`
	Author          userapi.Profile  `json:"author"`
	AuthorWorkCount int64            `json:"author_work_count"`
}

// PageReply is one page of the timeline. Newest says the page is the newest one, current at
// Version; only such a page may be kept and revalidated with KnownVersion.
type PageReply struct {
	envelope.Status
	Version   int64   `json:"version"`
	Newest    bool    `json:"newest"`
	Unchanged bool    `json:"unchanged"`
	Entries   []Entry `json:"entries"`
}

// Client calls the feed service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the feed service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Page returns up to PageSize videos published strictly before before, or Unchanged when the
// caller's copy of the newest page (knownVersion) is still current.
func (c *Client) Page(ctx context.Context, before, knownVersion int64) (PageReply, error) {
	var reply PageReply
	err := c.dapr.Invoke(ctx, AppID, MethodPage, PageRequest{Before: before, KnownVersion: knownVersion}, &reply)
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

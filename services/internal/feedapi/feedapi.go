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
	MethodPage    = "timeline/page"
	MethodEntries = "timeline/entries"
	MethodIndex   = "timeline/index"
	MethodPing    = "ping"
)

// PageSize is the most videos one feed page holds.
const PageSize = 30

// PageRequest asks for the videos published strictly before Before (Unix ms), newest first.
type PageRequest struct {
	Before int64 `json:"before"`
}

// PageReply names the videos of one page, newest first.
type PageReply struct {
	envelope.Status
	VideoIDs []int64 `json:"video_ids"`
}

// EntriesRequest asks for the entries of videos on the timeline.
type EntriesRequest struct {
	VideoIDs []int64 `json:"video_ids"`
}

// EntriesReply holds the entries asked for, in no particular order; ids not on the timeline are
// absent.
type EntriesReply struct {
	envelope.Status
	Entries []Entry `json:"entries"`
}

// Entry is one feed video with its author's profile: both never change once published.
type Entry struct {
	Video  publishapi.Video `json:"video"`
	Author userapi.Profile  `json:"author"`
}

// Client calls the feed service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the feed service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Page returns the ids of up to PageSize videos published strictly before before (Unix ms),
// newest first.
func (c *Client) Page(ctx context.Context, before int64) ([]int64, error) {
	var reply PageReply
	err := c.dapr.Invoke(ctx, AppID, MethodPage, PageRequest{Before: before}, &reply)
	return reply.VideoIDs, err
}

// MaxEntriesBatch bounds one entries request; Entries splits longer lists.
const MaxEntriesBatch = 1000

// Entries returns the entries of videoIDs, in no particular order. Invocations: one per
// MaxEntriesBatch ids.
func (c *Client) Entries(ctx context.Context, videoIDs []int64) ([]Entry, error) {
	var out []Entry
	err := daprc.InChunks(videoIDs, MaxEntriesBatch, func(part []int64) error {
		var reply EntriesReply
		if err := c.dapr.Invoke(ctx, AppID, MethodEntries, EntriesRequest{VideoIDs: part}, &reply); err != nil {
			return err
		}
		out = append(out, reply.Entries...)
		return nil
	})
	return out, err
}

// Index adds a published video to the timeline at once, so the next feed read shows it.
func (c *Client) Index(ctx context.Context, v publishapi.Video) error {
	return c.dapr.Invoke(ctx, AppID, MethodIndex, v, nil)
}

// Ping takes the full invocation path (gateway, two sidecars, feed) and does nothing else.
func (c *Client) Ping(ctx context.Context) error {
	return c.dapr.Invoke(ctx, AppID, MethodPing, struct{}{}, nil)
}

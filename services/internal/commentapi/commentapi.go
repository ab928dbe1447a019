// Package commentapi is the comment service's internal API and its comment.changed event.
package commentapi

import (
	"context"
	"encoding/json"
	"maps"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/text"
)

// MaxContentRunes bounds a comment's content.
const MaxContentRunes = 500

// ValidateContent refuses content the contract does not allow in a comment (text.Body). The
// gateway checks it before the comment crosses to the comment service, which checks it again: on
// the way, JSON turns invalid UTF-8 into U+FFFD, which the service alone would take as valid.
func ValidateContent(content string) error {
	if !text.Body(content, MaxContentRunes) {
		return apperr.New(apperr.InvalidComment)
	}
	return nil
}

// AppID is the comment service's Dapr app id.
const AppID = "comment"

// Methods of the internal API.
const (
	MethodAdd    = "comments/add"
	MethodDelete = "comments/delete"
	MethodList   = "comments/list"
	MethodCounts = "comments/counts"
)

// CommentCountsBucket names the lww.Counters buckets of comment counts the comment service
// publishes in the shared state store; any service may read them, only the comment service
// writes them.
const CommentCountsBucket = "comment:comments"

// CountKeys names the buckets holding the comment counts of videoIDs.
func CountKeys(videoIDs []int64) []string { return lww.BucketKeys(CommentCountsBucket, videoIDs) }

// DecodeCounts reads the comment counts of videoIDs out of a bulk read of (at least)
// CountKeys(videoIDs): the comment service's own counts and every reader decode them here.
func DecodeCounts(raw map[string]json.RawMessage, videoIDs []int64) (map[int64]int64, error) {
	return lww.Counts(raw, CommentCountsBucket, videoIDs)
}

// TopicCommentChanged carries a Changed for every comment added or deleted.
const TopicCommentChanged = "comment.changed"

// Comment is one stored comment. CreatedAt is Unix ms.
type Comment struct {
	ID        int64  `json:"id"`
	VideoID   int64  `json:"video_id"`
	UserID    int64  `json:"user_id"`
	Content   string `json:"content"`
	CreatedAt int64  `json:"created_at"`
}

// Changed is one addition or deletion, as published and persisted. A deletion is final.
type Changed struct {
	EventID string  `json:"event_id"`
	Comment Comment `json:"comment"`
	Deleted bool    `json:"deleted"`
}

// Valid reports whether a change names everything it needs: one that does not is poison.
func (c Changed) Valid() bool {
	// An added comment's text passes the same rules as at the gateway: the consumer makes a change
	// visible before saving it, so one that could never be saved must not get that far.
	return c.EventID != "" && c.Comment.ID > 0 && c.Comment.VideoID > 0 && c.Comment.UserID > 0 &&
		(c.Deleted || ValidateContent(c.Comment.Content) == nil)
}

// AddRequest adds a comment by UserID to VideoID.
type AddRequest struct {
	UserID  int64  `json:"user_id"`
	VideoID int64  `json:"video_id"`
	Content string `json:"content"`
}

// DeleteRequest deletes a comment of VideoID, which only its author (UserID) may do.
type DeleteRequest struct {
	UserID    int64 `json:"user_id"`
	VideoID   int64 `json:"video_id"`
	CommentID int64 `json:"comment_id"`
}

// CommentReply answers an addition with the stored comment.
type CommentReply struct {
	envelope.Status
	Comment Comment `json:"comment"`
}

// ListRequest asks for a video's comments, newest first.
type ListRequest struct {
	VideoID int64 `json:"video_id"`
}

// ListReply lists comments, newest first.
type ListReply struct {
	envelope.Status
	Comments []Comment `json:"comments"`
}

// CountsRequest asks for the comment counts of videos.
type CountsRequest struct {
	VideoIDs []int64 `json:"video_ids"`
}

// CountsReply maps video id to comment count; every requested id is present.
type CountsReply struct {
	envelope.Status
	Counts map[int64]int64 `json:"counts"`
}

// Client calls the comment service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the comment service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Add stores a comment and returns it with its id.
func (c *Client) Add(ctx context.Context, req AddRequest) (Comment, error) {
	var reply CommentReply
	err := c.dapr.Invoke(ctx, AppID, MethodAdd, req, &reply)
	return reply.Comment, err
}

// Delete removes a comment.
func (c *Client) Delete(ctx context.Context, req DeleteRequest) (Comment, error) {
	var reply CommentReply
	err := c.dapr.Invoke(ctx, AppID, MethodDelete, req, &reply)
	return reply.Comment, err
}

// List returns a video's comments, newest first.
func (c *Client) List(ctx context.Context, videoID int64) ([]Comment, error) {
	var reply ListReply
	err := c.dapr.Invoke(ctx, AppID, MethodList, ListRequest{VideoID: videoID}, &reply)
	return reply.Comments, err
}

// MaxCountsBatch bounds the videos of one counts request.
const MaxCountsBatch = 500

// Counts returns the comment count of each video.
func (c *Client) Counts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(videoIDs))
	err := daprc.InChunks(videoIDs, MaxCountsBatch, func(part []int64) error {
		var reply CountsReply
		err := c.dapr.Invoke(ctx, AppID, MethodCounts, CountsRequest{VideoIDs: part}, &reply)
		maps.Copy(counts, reply.Counts)
		return err
	})
	return counts, err
}

// Package messageapi is the message service's internal API and its message.sent event.
package messageapi

import (
	"context"
	"maps"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/text"
)

// MaxContentRunes bounds a message's content.
const MaxContentRunes = 1000

// ValidateContent refuses content the contract does not allow in a message (text.Body). The
// gateway checks it before the message crosses to the message service, which checks it again: on
// the way, JSON turns invalid UTF-8 into U+FFFD, which the service alone would take as valid.
func ValidateContent(content string) error {
	if !text.Body(content, MaxContentRunes) {
		return apperr.New(apperr.InvalidMessage)
	}
	return nil
}

// AppID is the message service's Dapr app id.
const AppID = "message"

// Methods of the internal API.
const (
	MethodSend   = "messages/send"
	MethodChat   = "messages/chat"
	MethodLatest = "messages/latest"
)

// TopicMessageSent carries a Sent for every message.
const TopicMessageSent = "message.sent"

// Message is one chat message. CreateTime is Unix ms, strictly increasing within a conversation.
type Message struct {
	ID         int64  `json:"id"`
	FromUserID int64  `json:"from_user_id"`
	ToUserID   int64  `json:"to_user_id"`
	Content    string `json:"content"`
	CreateTime int64  `json:"create_time"`
}

// Sent is one message as published. Its create time is given by the conversation's hot model
// when the message becomes visible, which may be after the event was published.
type Sent struct {
	EventID string  `json:"event_id"`
	Message Message `json:"message"`
}

// Valid reports whether an event names everything it needs: one that does not is poison.
func (s Sent) Valid() bool {
	m := s.Message
	return s.EventID != "" && m.ID > 0 && m.FromUserID > 0 && m.ToUserID > 0 && m.FromUserID != m.ToUserID && m.Content != ""
}

// SendRequest sends Content from FromUserID to ToUserID.
type SendRequest struct {
	FromUserID int64  `json:"from_user_id"`
	ToUserID   int64  `json:"to_user_id"`
	Content    string `json:"content"`
}

// SendReply answers a send with the stored message.
type SendReply struct {
	envelope.Status
	Message Message `json:"message"`
}

// ChatRequest asks for the messages between Viewer and Peer, both directions, created strictly
// after After (Unix ms), oldest first.
type ChatRequest struct {
	Viewer int64 `json:"viewer"`
	Peer   int64 `json:"peer"`
	After  int64 `json:"after"`
}

// ChatReply lists messages, oldest first.
type ChatReply struct {
	envelope.Status
	Messages []Message `json:"messages"`
}

// LatestRequest asks for the latest message between Viewer and each of Peers.
type LatestRequest struct {
	Viewer int64   `json:"viewer"`
	Peers  []int64 `json:"peers"`
}

// LatestReply maps a peer to the latest message between it and the viewer; peers without a
// message are absent.
type LatestReply struct {
	envelope.Status
	Latest map[int64]Message `json:"latest"`
}

// Client calls the message service.
type Client struct{ dapr *daprc.Client }

// NewClient returns a client that invokes the message service through dapr.
func NewClient(dapr *daprc.Client) *Client { return &Client{dapr: dapr} }

// Send sends a message; it returns once the message is visible and durable in the broker.
func (c *Client) Send(ctx context.Context, req SendRequest) (Message, error) {
	var reply SendReply
	err := c.dapr.Invoke(ctx, AppID, MethodSend, req, &reply)
	return reply.Message, err
}

// Chat returns the messages between viewer and peer created strictly after after, oldest first.
func (c *Client) Chat(ctx context.Context, req ChatRequest) ([]Message, error) {
	var reply ChatReply
	err := c.dapr.Invoke(ctx, AppID, MethodChat, req, &reply)
	return reply.Messages, err
}

// MaxLatestPeers bounds the peers of one latest request.
const MaxLatestPeers = 1000

// Latest returns the latest message between viewer and each peer that has one.
func (c *Client) Latest(ctx context.Context, viewer int64, peers []int64) (map[int64]Message, error) {
	latest := make(map[int64]Message, len(peers))
	err := daprc.InChunks(peers, MaxLatestPeers, func(part []int64) error {
		var reply LatestReply
		err := c.dapr.Invoke(ctx, AppID, MethodLatest, LatestRequest{Viewer: viewer, Peers: part}, &reply)
		maps.Copy(latest, reply.Latest)
		return err
	})
	return latest, err
}

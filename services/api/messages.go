package main

import (
	"net/http"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/params"
)

const actionSendMessage = 1

type chatResponse struct {
	envelope.Status
	MessageList []Message `json:"message_list"`
}

func (chatResponse) failed(s envelope.Status) any {
	return chatResponse{Status: s, MessageList: []Message{}}
}

// handleMessageAction sends a message. Invocations: 1 (message).
func handleMessageAction(messages *messageapi.Client) action {
	return func(r *http.Request, viewer int64) (any, error) {
		to, err := params.ID(r, "to_user_id")
		if err != nil {
			return nil, err
		}
		if _, err := params.ActionType(r, actionSendMessage); err != nil {
			return nil, err
		}
		// Checked here, where invalid UTF-8 is still what it is (see ValidateContent).
		content := params.String(r, "content")
		if err := messageapi.ValidateContent(content); err != nil {
			return nil, err
		}
		req := messageapi.SendRequest{FromUserID: viewer, ToUserID: to, Content: content}
		if _, err := messages.Send(r.Context(), req); err != nil {
			return nil, err
		}
		return envelope.Success, nil
	}
}

// handleChat serves the messages between the viewer and to_user_id, both directions, created
// strictly after pre_msg_time (ms, or seconds), oldest first: a client polling with the last
// create_time it saw gets every message exactly once. Invocations: 1 (message).
func handleChat(messages *messageapi.Client) action {
	return func(r *http.Request, viewer int64) (any, error) {
		peer, err := params.ID(r, "to_user_id")
		if err != nil {
			return nil, err
		}
		after, err := params.Time(r, "pre_msg_time", 0)
		if err != nil {
			return nil, err
		}
		found, err := messages.Chat(r.Context(), messageapi.ChatRequest{Viewer: viewer, Peer: peer, After: after})
		if err != nil {
			return nil, err
		}
		list := make([]Message, 0, len(found))
		for _, m := range found {
			list = append(list, Message{ID: m.ID, ToUserID: m.ToUserID, FromUserID: m.FromUserID, Content: m.Content, CreateTime: m.CreateTime})
		}
		return chatResponse{Status: envelope.Success, MessageList: list}, nil
	}
}

package main

import (
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/messageapi"
)

// inbox is one user's latest message with each person they have chatted with: the messages of a
// friend list of any length come from one read. Started is false for a key that does not exist
// (a user who never chatted, or a state store that lost its data): its contents are then in
// PostgreSQL, and the first message to record starts it from there.
type inbox struct {
	Started bool                         `json:"started"`
	Latest  map[int64]messageapi.Message `json:"latest"` // by the other person's id
}

// record makes m the latest message with peer unless a later one is there: times are strictly
// increasing within a conversation, so the later time wins whatever order writers arrive in.
// seed starts an inbox that does not exist yet with the user's persisted latest messages; nil
// refuses with errNotStarted, for the caller to read them (the change must not do I/O).
func (in *inbox) record(peer int64, m messageapi.Message, seed map[int64]messageapi.Message) error {
	starting := !in.Started
	if starting {
		if seed == nil {
			return errNotStarted
		}
		in.Started, in.Latest = true, seed
	}
	if in.Latest == nil {
		in.Latest = map[int64]messageapi.Message{}
	}
	if in.Latest[peer].CreateTime >= m.CreateTime {
		if starting {
			return nil // the seed alone is worth writing
		}
		return hotmodel.ErrUnchanged
	}
	in.Latest[peer] = m
	return nil
}

// peerOf is the other person of a message, as seen by user.
func peerOf(user int64, m messageapi.Message) int64 {
	if m.FromUserID == user {
		return m.ToUserID
	}
	return m.FromUserID
}

package main

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/messageapi"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

const (
	// chatReadTimeout bounds the read of a conversation's window, which a chat cannot do without.
	chatReadTimeout = 2 * time.Second
	// maxClockSkew (ms) bounds how far the clocks of two replicas disagree (see send).
	maxClockSkew = 1000
)

// The hot model: one key per conversation (the smaller user id first), one per user:
//
//	chat-<a>-<b>    the window (window.go): the newest messages and every one not yet persisted,
//	                which gives each message its time → chat
//	inbox-<user>    the user's latest message with each person (inbox.go) → latest: one read
//	                for all of a user's friends
//
// The keys have no TTL: with the broker they are the truth until the consumer has persisted.
// Should the store lose them, readers fall back to PostgreSQL, the first message of a
// conversation starts its window again after the persisted ones, and the consumer puts back the
// messages not yet persisted (they are still in the broker).
//
// The state store is shared by the services, so every key starts with the owner's name.
func chatKey(c conversation) string { return "message:chat-" + c.String() }
func inboxKey(user int64) string    { return "message:inbox-" + strconv.FormatInt(user, 10) }

// messages is the message service's logic.
type messages struct {
	hot   hotmodel.Store
	sdk   dapr.Client
	store *store
	users *userapi.Known
}

// send stores a new message: its id is taken from PostgreSQL's sequence, the message is announced
// on the broker, then made visible, which gives it its time; the reply carries the stored message.
func (s *messages) send(ctx context.Context, req messageapi.SendRequest) (messageapi.Message, error) {
	if req.FromUserID <= 0 || req.ToUserID <= 0 {
		return messageapi.Message{}, apperr.Newf(apperr.InvalidParameter, "from_user_id and to_user_id are required")
	}
	if req.FromUserID == req.ToUserID {
		return messageapi.Message{}, apperr.New(apperr.MessageSelf)
	}
	if err := messageapi.ValidateContent(req.Content); err != nil {
		return messageapi.Message{}, err
	}
	if err := s.users.Check(ctx, req.ToUserID); err != nil {
		return messageapi.Message{}, err
	}
	id, err := s.store.nextID(ctx)
	if err != nil {
		return messageapi.Message{}, apperr.Wrap(apperr.Unavailable, err)
	}
	sent := messageapi.Sent{EventID: uuid.NewString(), Message: messageapi.Message{
		ID: id, FromUserID: req.FromUserID, ToUserID: req.ToUserID, Content: req.Content,
	}}
	// Whoever gives the message its time (this request, or a consumer that receives the event
	// first) does so after this instant, on a clock at most maxClockSkew away from this one.
	notBefore := time.Now().UnixMilli() - maxClockSkew
	if err := events.Publish(ctx, s.sdk, messageapi.TopicMessageSent, sent); err != nil {
		return messageapi.Message{}, apperr.Wrap(apperr.Unavailable, err)
	}
	return s.makeVisible(ctx, sent.Message, notBefore)
}

// makeVisible gives m its time in its conversation's window (or finds the time it already has),
// then records it in both users' inboxes unless a newer message is there. It is idempotent: the
// consumer calls it for every message this process did not place, which completes the work of a
// request that died after publishing. notBefore is as for window.add.
func (s *messages) makeVisible(ctx context.Context, m messageapi.Message, notBefore int64) (messageapi.Message, error) {
	c := conversationOf(m.FromUserID, m.ToUserID)
	seed := int64(noSeed)
	// At most three rounds: each refusal is answered by reading what removes its cause.
	for {
		var err error
		m.CreateTime, err = s.place(ctx, c, m, notBefore, seed)
		switch {
		case errors.Is(err, errNotStarted):
			if seed, err = s.store.lastTime(ctx, c); err != nil {
				return m, apperr.Wrap(apperr.Unavailable, err)
			}
		case errors.Is(err, errMaybeTrimmed):
			t, persisted, err := s.store.timeOf(ctx, m.ID)
			if err != nil {
				return m, apperr.Wrap(apperr.Unavailable, err)
			}
			if persisted {
				// The inboxes were written before it was persisted (or lost with the whole
				// store): writing m again could only replace a newer message.
				m.CreateTime = t
				return m, nil
			}
			// Not persisted, so not dropped: nobody has placed it yet.
			notBefore = math.MaxInt64
		case err != nil:
			return m, apperr.Wrap(apperr.Unavailable, err)
		default:
			return m, s.recordInInboxes(ctx, m)
		}
	}
}

// place runs window.add on the conversation's key and returns the message's time.
func (s *messages) place(ctx context.Context, c conversation, m messageapi.Message, notBefore, seed int64) (int64, error) {
	var t int64
	_, err := hotmodel.Update(ctx, s.hot, chatKey(c), func(w *window) error {
		var err error
		t, err = w.add(m, time.Now().UnixMilli(), notBefore, seed)
		return err
	})
	return t, err
}

// recordInInboxes records m in the sender's and the recipient's inbox, side by side.
func (s *messages) recordInInboxes(ctx context.Context, m messageapi.Message) error {
	var g errgroup.Group
	for _, user := range []int64{m.FromUserID, m.ToUserID} {
		g.Go(func() error { return s.recordInInbox(ctx, user, m) })
	}
	if err := g.Wait(); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// recordInInbox records m in user's inbox, starting the inbox from PostgreSQL when it does not
// exist yet.
func (s *messages) recordInInbox(ctx context.Context, user int64, m messageapi.Message) error {
	var seed map[int64]messageapi.Message
	for {
		_, err := hotmodel.Update(ctx, s.hot, inboxKey(user), func(in *inbox) error {
			return in.record(peerOf(user, m), m, seed)
		})
		if !errors.Is(err, errNotStarted) {
			return err
		}
		persisted, err := s.store.inbox(ctx, user)
		if err != nil {
			return err
		}
		seed = make(map[int64]messageapi.Message, len(persisted))
		for _, p := range persisted {
			seed[peerOf(user, p)] = p
		}
	}
}

// chat answers from the window alone when the client asks only for messages newer than any it
// dropped (the usual poll: one state read, no PostgreSQL), or else merges in the persisted
// messages of the range it dropped. With the state store unavailable it answers Unavailable
// rather than from PostgreSQL alone: messages are persisted in no particular order, so a later
// one may be there while an earlier one is not yet, and a client polling from the later one's
// time would never get the earlier one.
func (s *messages) chat(ctx context.Context, req messageapi.ChatRequest) ([]messageapi.Message, error) {
	if req.Viewer <= 0 || req.Peer <= 0 {
		return nil, apperr.Newf(apperr.InvalidParameter, "viewer and peer are required")
	}
	if req.Viewer == req.Peer {
		return []messageapi.Message{}, nil
	}
	c := conversationOf(req.Viewer, req.Peer)
	readCtx, cancel := context.WithTimeout(ctx, chatReadTimeout)
	defer cancel()
	windows, err := hotmodel.GetMany[window](readCtx, s.hot, []string{chatKey(c)})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	w := windows[chatKey(c)]
	if req.After >= w.droppedUpTo() {
		return merge(req.After, w.Messages, nil), nil
	}
	persisted, err := s.persistedChat(ctx, c, req.After, w.droppedUpTo())
	if err != nil {
		return nil, err
	}
	return merge(req.After, w.Messages, persisted), nil
}

func (s *messages) persistedChat(ctx context.Context, c conversation, after, upTo int64) ([]messageapi.Message, error) {
	list, err := s.store.chat(ctx, c, after, upTo)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	return list, nil
}

// latest returns the latest message between viewer and each peer that has one: one read of the
// viewer's inbox, or, when it does not exist (or the state store is unavailable), one PostgreSQL
// query for all the peers.
func (s *messages) latest(ctx context.Context, viewer int64, peers []int64) (map[int64]messageapi.Message, error) {
	if viewer <= 0 {
		return nil, apperr.Newf(apperr.InvalidParameter, "viewer is required")
	}
	if err := server.LimitBatch(len(peers), messageapi.MaxLatestPeers); err != nil {
		return nil, err
	}
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	found, err := hotmodel.GetMany[inbox](readCtx, s.hot, []string{inboxKey(viewer)})
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
	}
	out := make(map[int64]messageapi.Message, len(peers))
	if in := found[inboxKey(viewer)]; in.Started {
		for _, p := range peers {
			if m, ok := in.Latest[p]; ok {
				out[p] = m
			}
		}
		return out, nil
	}
	// Nobody has a conversation with an invalid id or with themselves.
	peers = slices.DeleteFunc(slices.Clone(peers), func(p int64) bool { return p <= 0 || p == viewer })
	persisted, err := s.store.latest(ctx, viewer, peers)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	for _, m := range persisted {
		out[peerOf(viewer, m)] = m
	}
	return out, nil
}

// valid refuses an event that can never be stored: one missing a field, or with content the send
// refuses (a NUL would fail every batch it is saved in).
func valid(e messageapi.Sent) bool {
	return e.Valid() && messageapi.ValidateContent(e.Message.Content) == nil
}

// prepare gives a delivered message the time its conversation gave it, placing it now if it is
// not there (idempotently: the time it already has, or a new one for a message whose request
// died after publishing, or that a state store lost before it was persisted). It reads the
// store every time: a memory of this process's own placements could not tell a message that the
// store has lost since.
func (s *messages) prepare(ctx context.Context, e messageapi.Sent) (messageapi.Sent, error) {
	m, err := s.makeVisible(ctx, e.Message, math.MinInt64)
	e.Message = m
	return e, err
}

// finish marks a persisted message as such in its window, which lets the window drop it.
func (s *messages) finish(ctx context.Context, e messageapi.Sent) error {
	c := conversationOf(e.Message.FromUserID, e.Message.ToUserID)
	_, err := hotmodel.Update(ctx, s.hot, chatKey(c), func(w *window) error { return w.markPersisted(e.Message.ID) })
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

func send(s *messages) func(context.Context, messageapi.SendRequest) (messageapi.SendReply, error) {
	return func(ctx context.Context, req messageapi.SendRequest) (messageapi.SendReply, error) {
		m, err := s.send(ctx, req)
		return messageapi.SendReply{Status: envelope.Success, Message: m}, err
	}
}

func chat(s *messages) func(context.Context, messageapi.ChatRequest) (messageapi.ChatReply, error) {
	return func(ctx context.Context, req messageapi.ChatRequest) (messageapi.ChatReply, error) {
		list, err := s.chat(ctx, req)
		return messageapi.ChatReply{Status: envelope.Success, Messages: list}, err
	}
}

func latest(s *messages) func(context.Context, messageapi.LatestRequest) (messageapi.LatestReply, error) {
	return func(ctx context.Context, req messageapi.LatestRequest) (messageapi.LatestReply, error) {
		found, err := s.latest(ctx, req.Viewer, req.Peers)
		return messageapi.LatestReply{Status: envelope.Success, Latest: found}, err
	}
}

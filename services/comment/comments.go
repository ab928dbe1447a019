package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/hotmodel"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// The hot read model (no TTL: with the broker it is the truth until the consumer persisted;
// started again from PostgreSQL should the store lose it):
//
//	window-<id>          the video's window (window.go): its count, its newest comments and
//	                     every change not yet persisted → the list, deletes
//	comments-<bucket>    comment counts of videos, copied from window-<id> → comment_count
//
// The state store is shared by the services, so every key starts with the owner's name; the
// buckets are the published read model (commentapi). (Before the windows, a video's whole
// history lived in one key, comment:video-<id>; nothing reads those keys any more.)
func windowKey(id int64) string { return "comment:window-" + strconv.FormatInt(id, 10) }

const countsPrefix = commentapi.CommentCountsBucket

// comments is the comment service's logic.
type comments struct {
	hot     hotmodel.Store
	sdk     dapr.Client
	store   *store
	authors *publishapi.Authors
}

// add stores a new comment: its id is taken from PostgreSQL's sequence, the addition is
// announced on the broker, then made visible; the reply carries the stored comment.
func (s *comments) add(ctx context.Context, req commentapi.AddRequest) (commentapi.Comment, error) {
	if err := commentapi.ValidateContent(req.Content); err != nil {
		return commentapi.Comment{}, err
	}
	if _, err := s.authors.Of(ctx, req.VideoID); err != nil {
		return commentapi.Comment{}, err
	}
	id, err := s.store.nextID(ctx)
	if err != nil {
		return commentapi.Comment{}, err
	}
	c := commentapi.Comment{ID: id, VideoID: req.VideoID, UserID: req.UserID, Content: req.Content, CreatedAt: time.Now().UnixMilli()}
	return c, s.announce(ctx, commentapi.Changed{EventID: uuid.NewString(), Comment: c})
}

// remove deletes a comment of the video, which only its author may do.
func (s *comments) remove(ctx context.Context, req commentapi.DeleteRequest) (commentapi.Comment, error) {
	if _, err := s.authors.Of(ctx, req.VideoID); err != nil {
		return commentapi.Comment{}, err
	}
	c, deleted, err := s.find(ctx, req.VideoID, req.CommentID)
	if err != nil {
		return commentapi.Comment{}, err
	}
	if deleted || c.VideoID != req.VideoID {
		return commentapi.Comment{}, apperr.New(apperr.CommentMissing)
	}
	if c.UserID != req.UserID {
		return commentapi.Comment{}, apperr.New(apperr.NotCommentAuthor)
	}
	return c, s.announce(ctx, commentapi.Changed{EventID: uuid.NewString(), Comment: c, Deleted: true})
}

// find looks a comment up in its video's window, or in PostgreSQL when the window does not have
// it.
func (s *comments) find(ctx context.Context, videoID, commentID int64) (commentapi.Comment, bool, error) {
	w, err := s.window(ctx, videoID)
	if err == nil {
		if i := w.find(commentID); i >= 0 {
			return w.Entries[i].Comment, w.Entries[i].Deleted, nil
		}
	}
	c, deleted, err := s.store.comment(ctx, commentID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, apperr.New(apperr.CommentMissing)
	}
	return c, deleted, err
}

func (s *comments) announce(ctx context.Context, change commentapi.Changed) error {
	if err := events.Publish(ctx, s.sdk, commentapi.TopicCommentChanged, change); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	if err := s.makeVisible(ctx, change); err != nil {
		return err
	}
	s.hot.Finished.Add(change.EventID)
	return nil
}

// makeVisible applies a change to its video's window and copies the count. Idempotent: the
// consumer calls it again before it saves a change this process did not finish, which completes
// the work of a request that died after publishing. The count is copied even when the window
// already had the change: whoever applied it may have died before copying.
func (s *comments) makeVisible(ctx context.Context, change commentapi.Changed) error {
	w, _, err := s.update(ctx, change.Comment.VideoID, change.Comment.ID, func(w *window, sd *seed, l *lookup) (bool, error) {
		return w.apply(change, false, sd, l)
	})
	if err != nil {
		return err
	}
	return s.copyCount(ctx, change.Comment.VideoID, w)
}

// prepare makes a delivered change visible before it is saved (the window's invariant: what
// PostgreSQL has was applied), unless this process's request did so already.
func (s *comments) prepare(ctx context.Context, change commentapi.Changed) (commentapi.Changed, error) {
	if s.hot.Finished.Take(change.EventID) {
		return change, nil
	}
	return change, s.makeVisible(ctx, change)
}

// finish records in the window that a change is persisted, which lets the window drop it. A
// window started again since the change was applied (the store lost its data) may not have it
// yet: then it gets it here, and the count is copied. One gap remains: a change to a comment
// below what the new window holds, applied to the lost one and saved after the new one started,
// reads as applied (PostgreSQL has it) and is not counted by the new window.
func (s *comments) finish(ctx context.Context, change commentapi.Changed) error {
	w, counted, err := s.update(ctx, change.Comment.VideoID, change.Comment.ID, func(w *window, sd *seed, l *lookup) (bool, error) {
		return w.apply(change, true, sd, l)
	})
	if err != nil || !counted {
		return err
	}
	return s.copyCount(ctx, change.Comment.VideoID, w)
}

// maxRounds bounds the reads one window change may ask for: a seed, a lookup, and a lookup
// again should the window drop an old entry meanwhile.
const maxRounds = 5

// update runs change on a video's window with compare-and-swap, reading from PostgreSQL what it
// asks for (a seed, a lookup of commentID) and running it again. It returns the window as written and whether
// its count changed.
func (s *comments) update(ctx context.Context, videoID, commentID int64, change func(*window, *seed, *lookup) (bool, error)) (window, bool, error) {
	var sd *seed
	var l *lookup
	for range maxRounds {
		var counted bool
		var asked lookup // the window a lookup is for
		w, err := hotmodel.Update(ctx, s.hot, windowKey(videoID), func(w *window) error {
			var err error
			counted, err = change(w, sd, l)
			asked = lookup{Since: w.Since, LateDrops: w.LateDrops}
			if w.Since == 0 && sd != nil {
				asked.Since = sd.Since // the window the seed starts
			}
			return err
		})
		switch {
		case errors.Is(err, errNotStarted):
			sd, err = s.store.seed(ctx, videoID)
		case errors.Is(err, errMaybeTrimmed):
			l, err = s.store.lookup(ctx, commentID, asked)
		case err == nil:
			return w, counted, nil
		}
		if err != nil {
			return window{}, false, apperr.Wrap(apperr.Unavailable, err)
		}
	}
	return window{}, false, apperr.Newf(apperr.Unavailable, "the comment window of video %d kept changing", videoID)
}

func (s *comments) copyCount(ctx context.Context, videoID int64, w window) error {
	if err := hotmodel.AssignCount(ctx, s.hot, countsPrefix, videoID, w.Count, w.Seq); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// restore starts the window of every video with persisted comments and copies its count, after
// the state store lost them (hotmodel.KeepRestored): others read the counts, and a window would
// otherwise start only at its video's next change.
func (s *comments) restore(ctx context.Context) (int, error) {
	return hotmodel.Replay(ctx, s.store.eachVideo, func(ctx context.Context, videoID int64) error {
		w, _, err := s.update(ctx, videoID, 0, func(w *window, sd *seed, _ *lookup) (bool, error) {
			return w.start(sd)
		})
		if err != nil {
			return err
		}
		return s.copyCount(ctx, videoID, w)
	})
}

func (s *comments) window(ctx context.Context, videoID int64) (window, error) {
	ctx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	windows, err := hotmodel.GetMany[window](ctx, s.hot, []string{windowKey(videoID)})
	return windows[windowKey(videoID)], err
}

// list returns a video's newest maxList comments, newest first: from its window alone when that
// holds them (the usual case), else merged with the persisted ones at or below what the window
// dropped; from PostgreSQL alone when the window does not exist or the state store is
// unavailable. Either costs at most one state read and one index range of about maxList rows.
func (s *comments) list(ctx context.Context, videoID int64) ([]commentapi.Comment, error) {
	if _, err := s.authors.Of(ctx, videoID); err != nil {
		return nil, err
	}
	w, err := s.window(ctx, videoID)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
	}
	if w.Since != 0 && w.complete() {
		return merge(w.Entries, nil), nil
	}
	upTo := position{At: math.MaxInt64, ID: math.MaxInt64}
	if w.Since != 0 {
		upTo = w.Trimmed
	}
	persisted, err := s.store.list(ctx, videoID, upTo, maxList+w.lateTombstones())
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err)
	}
	return merge(w.Entries, persisted), nil
}

// counts returns the comment count of each video in one bulk read of the counters buckets.
func (s *comments) counts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	readCtx, cancel := context.WithTimeout(ctx, hotmodel.ReadTimeout)
	defer cancel()
	raw, err := hotmodel.GetMany[json.RawMessage](readCtx, s.hot, commentapi.CountKeys(videoIDs))
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return s.store.counts(ctx, videoIDs)
	}
	return commentapi.DecodeCounts(raw, videoIDs)
}

func add(s *comments) func(context.Context, commentapi.AddRequest) (commentapi.CommentReply, error) {
	return func(ctx context.Context, req commentapi.AddRequest) (commentapi.CommentReply, error) {
		c, err := s.add(ctx, req)
		return commentapi.CommentReply{Status: envelope.Success, Comment: c}, err
	}
}

func remove(s *comments) func(context.Context, commentapi.DeleteRequest) (commentapi.CommentReply, error) {
	return func(ctx context.Context, req commentapi.DeleteRequest) (commentapi.CommentReply, error) {
		c, err := s.remove(ctx, req)
		return commentapi.CommentReply{Status: envelope.Success, Comment: c}, err
	}
}

func list(s *comments) func(context.Context, commentapi.ListRequest) (commentapi.ListReply, error) {
	return func(ctx context.Context, req commentapi.ListRequest) (commentapi.ListReply, error) {
		list, err := s.list(ctx, req.VideoID)
		return commentapi.ListReply{Status: envelope.Success, Comments: list}, err
	}
}

func counts(s *comments) func(context.Context, commentapi.CountsRequest) (commentapi.CountsReply, error) {
	return func(ctx context.Context, req commentapi.CountsRequest) (commentapi.CountsReply, error) {
		if err := server.LimitBatch(len(req.VideoIDs), commentapi.MaxCountsBatch); err != nil {
			return commentapi.CountsReply{}, err
		}
		counts, err := s.counts(ctx, req.VideoIDs)
		return commentapi.CountsReply{Status: envelope.Success, Counts: counts}, err
	}
}

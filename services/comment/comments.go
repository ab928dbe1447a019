package main

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/lww"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
)

// The hot read model (no TTL: with the broker it is the truth until the consumer persisted;
// rebuilt from PostgreSQL by restore should the store lose it):
//
//	video-<id>           the video's comments, deletions kept as tombstones → the list, deletes
//	comments-<bucket>    comment counts of videos, copied from video-<id> → comment_count
//
// The state store is shared by the services, so every key starts with the owner's name; the
// buckets are the published read model (commentapi).
func videoKey(id int64) string { return "comment:video-" + strconv.FormatInt(id, 10) }

const countsPrefix = commentapi.CommentCountsBucket

// commentSet is a video's comments. An addition is applied once; a deletion is final. Both
// are idempotent and commute, so the request and the event consumer can apply them in any order.
type commentSet struct {
	Seq      int64                `json:"seq"`
	Comments map[int64]storedItem `json:"comments"`
}

type storedItem struct {
	UserID    int64  `json:"user_id"`
	Content   string `json:"content,omitempty"`
	CreatedAt int64  `json:"created_at"`
	Deleted   bool   `json:"deleted,omitempty"`
}

func (s *commentSet) apply(c commentapi.Changed) bool {
	if s.Comments == nil {
		s.Comments = map[int64]storedItem{}
	}
	old, known := s.Comments[c.Comment.ID]
	switch {
	case c.Deleted && known && old.Deleted:
		return false
	case c.Deleted:
		// The content goes; the author stays, to answer a repeated delete correctly.
		s.Comments[c.Comment.ID] = storedItem{UserID: c.Comment.UserID, CreatedAt: c.Comment.CreatedAt, Deleted: true}
	case known:
		return false
	default:
		s.Comments[c.Comment.ID] = storedItem{UserID: c.Comment.UserID, Content: c.Comment.Content, CreatedAt: c.Comment.CreatedAt}
	}
	s.Seq++
	return true
}

func (s *commentSet) count() int64 {
	var n int64
	for _, c := range s.Comments {
		if !c.Deleted {
			n++
		}
	}
	return n
}

// newest lists the comments of videoID, newest first.
func (s *commentSet) newest(videoID int64) []commentapi.Comment {
	out := make([]commentapi.Comment, 0, len(s.Comments))
	for id, c := range s.Comments {
		if !c.Deleted {
			out = append(out, commentapi.Comment{ID: id, VideoID: videoID, UserID: c.UserID, Content: c.Content, CreatedAt: c.CreatedAt})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt != out[j].CreatedAt {
			return out[i].CreatedAt > out[j].CreatedAt
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// comments is the comment service's logic.
type comments struct {
	hot     lww.Store
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

// find looks a comment up in the hot model, or in PostgreSQL when the model does not have it.
func (s *comments) find(ctx context.Context, videoID, commentID int64) (commentapi.Comment, bool, error) {
	set, err := s.videoSet(ctx, videoID)
	if err == nil {
		if item, ok := set.Comments[commentID]; ok {
			return commentapi.Comment{ID: commentID, VideoID: videoID, UserID: item.UserID, Content: item.Content, CreatedAt: item.CreatedAt}, item.Deleted, nil
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

// makeVisible applies a change to the video's set and its count. Idempotent: the consumer calls
// it again for every change it persists.
func (s *comments) makeVisible(ctx context.Context, change commentapi.Changed) error {
	videoID := change.Comment.VideoID
	set, err := lww.Update(ctx, s.hot, videoKey(videoID), func(set *commentSet) error {
		if !set.apply(change) {
			return lww.ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	if err := lww.AssignCount(ctx, s.hot, countsPrefix, videoID, set.count(), set.Seq); err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	return nil
}

// restore puts every persisted comment back into the hot model after the state store lost it
// (lww.KeepRestored).
func (s *comments) restore(ctx context.Context) (int, error) {
	return lww.Replay(ctx, s.store.eachChange, s.makeVisible)
}

func (s *comments) videoSet(ctx context.Context, videoID int64) (commentSet, error) {
	ctx, cancel := context.WithTimeout(ctx, lww.ReadTimeout)
	defer cancel()
	sets, err := lww.GetMany[commentSet](ctx, s.hot, []string{videoKey(videoID)})
	return sets[videoKey(videoID)], err
}

// list returns a video's comments, newest first, from the hot model or, when the state store is
// unavailable, from PostgreSQL.
func (s *comments) list(ctx context.Context, videoID int64) ([]commentapi.Comment, error) {
	if _, err := s.authors.Of(ctx, videoID); err != nil {
		return nil, err
	}
	set, err := s.videoSet(ctx, videoID)
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return s.store.list(ctx, videoID)
	}
	return set.newest(videoID), nil
}

// counts returns the comment count of each video in one bulk read of the counters buckets.
func (s *comments) counts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	readCtx, cancel := context.WithTimeout(ctx, lww.ReadTimeout)
	defer cancel()
	found, err := lww.GetMany[lww.Counters](readCtx, s.hot, lww.BucketKeys(countsPrefix, videoIDs))
	if err != nil {
		logging.FromContext(ctx).Warn("state store unavailable, answering from PostgreSQL", zap.Error(err))
		return s.store.counts(ctx, videoIDs)
	}
	out := make(map[int64]int64, len(videoIDs))
	for _, id := range videoIDs {
		out[id] = found[lww.BucketKey(countsPrefix, id)].Entries[id].Value
	}
	return out, nil
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

// ensureVisible is the consumer's check, after the save, that the hot model has a change:
// nothing to do when this process's request finished it.
func (s *comments) ensureVisible(ctx context.Context, c commentapi.Changed) error {
	if s.hot.Finished.Take(c.EventID) {
		return nil
	}
	return s.makeVisible(ctx, c)
}

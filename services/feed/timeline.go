package main

import (
	"context"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/events"
	"github.com/doutok/doutok/services/internal/feedapi"
	"github.com/doutok/doutok/services/internal/logging"
	"github.com/doutok/doutok/services/internal/publishapi"
	"github.com/doutok/doutok/services/internal/server"
	"github.com/doutok/doutok/services/internal/userapi"
)

// timeline is the feed's read path and the writer of its projection.
type timeline struct {
	store *store
	users *userapi.Client
}

// page answers the ids of a page, the newest and every older one alike, from PostgreSQL's index:
// a video is on every page the moment its add commits, whichever replica added it. The caller
// keeps the entries by id (they never change) and reads the counters itself.
func (t *timeline) page(ctx context.Context, req feedapi.PageRequest) (feedapi.PageReply, error) {
	ids, err := t.store.pageIDs(ctx, req.Before, feedapi.PageSize)
	return feedapi.PageReply{Status: envelope.Success, VideoIDs: ids}, err
}

// entries answers the entries of videos, for a caller that lacks them.
func (t *timeline) entries(ctx context.Context, req feedapi.EntriesRequest) (feedapi.EntriesReply, error) {
	if err := server.LimitBatch(len(req.VideoIDs), feedapi.MaxEntriesBatch); err != nil {
		return feedapi.EntriesReply{}, err
	}
	entries, err := t.store.entries(ctx, req.VideoIDs)
	return feedapi.EntriesReply{Status: envelope.Success, Entries: entries}, err
}

// add puts a published video on the timeline, fetching its author's profile the first time the
// author appears.
func (t *timeline) add(ctx context.Context, v publishapi.Video) error {
	if v.ID <= 0 || v.AuthorID <= 0 || v.PublishedAt <= 0 {
		return apperr.Newf(apperr.InvalidParameter, "video %d is incomplete", v.ID)
	}
	known, err := t.store.authorKnown(ctx, v.AuthorID)
	if err != nil {
		return err
	}
	var author *userapi.Profile
	if !known {
		profiles, err := t.users.Profiles(ctx, []int64{v.AuthorID})
		if err != nil {
			return err
		}
		p, ok := profiles[v.AuthorID]
		if !ok {
			return apperr.Newf(apperr.UserNotFound, "author %d of video %d not found", v.AuthorID, v.ID)
		}
		author = &p
	}
	return t.store.add(ctx, v, author)
}

func index(t *timeline) func(context.Context, publishapi.Video) (envelope.Status, error) {
	return func(ctx context.Context, v publishapi.Video) (envelope.Status, error) {
		return envelope.Success, t.add(ctx, v)
	}
}

// onVideoPublished is the durable path onto the timeline: it repeats the index call's work
// idempotently, and covers a publish whose index call failed.
func onVideoPublished(t *timeline) http.Handler {
	return events.Handler(func(ctx context.Context, v publishapi.Video) error {
		err := t.add(ctx, v)
		if apperr.Is(err, apperr.UserNotFound) || apperr.Is(err, apperr.InvalidParameter) {
			logging.FromContext(ctx).Error("video cannot be indexed", zap.String("video_id", strconv.FormatInt(v.ID, 10)), zap.Error(err))
			return events.ErrPoison
		}
		return err
	})
}

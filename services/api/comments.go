package main

import (
	"net/http"
	"time"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/commentapi"
	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/ids"
	"github.com/doutok/doutok/services/internal/params"
)

const (
	actionAddComment    = 1
	actionDeleteComment = 2
)

type commentResponse struct {
	envelope.Status
	Comment *Comment `json:"comment"`
}

func (commentResponse) failed(s envelope.Status) any { return commentResponse{Status: s} }

type commentListResponse struct {
	envelope.Status
	CommentList []Comment `json:"comment_list"`
}

func (commentListResponse) failed(s envelope.Status) any {
	return commentListResponse{Status: s, CommentList: []Comment{}}
}

// commentDates renders create_date in the time zone the product's users live in.
type commentDates struct{ zone *time.Location }

func (d commentDates) format(unixMillis int64) string {
	return time.UnixMilli(unixMillis).In(d.zone).Format("01-02")
}

// handleCommentAction adds or deletes a comment and answers the stored (or deleted) comment.
// Invocations: 2 (comment; then user for its author, beside one bulk read of the counters).
func handleCommentAction(comments *commentapi.Client, c *composer, dates commentDates) action {
	return func(r *http.Request, viewer int64) (any, error) {
		videoID, err := params.ID(r, "video_id")
		if err != nil {
			return nil, err
		}
		act, err := params.ActionType(r, actionAddComment, actionDeleteComment)
		if err != nil {
			return nil, err
		}
		var stored commentapi.Comment
		if act == actionAddComment {
			// Checked here, where invalid UTF-8 is still what it is (see ValidateContent).
			content := params.String(r, "comment_text")
			if err := commentapi.ValidateContent(content); err != nil {
				return nil, err
			}
			stored, err = comments.Add(r.Context(), commentapi.AddRequest{UserID: viewer, VideoID: videoID, Content: content})
		} else {
			var commentID int64
			if commentID, err = params.ID(r, "comment_id"); err != nil {
				return nil, err
			}
			stored, err = comments.Delete(r.Context(), commentapi.DeleteRequest{UserID: viewer, VideoID: videoID, CommentID: commentID})
		}
		if err != nil {
			return nil, err
		}
		rendered, err := c.renderComments(r, viewer, []commentapi.Comment{stored}, dates)
		if err != nil {
			return nil, err
		}
		return commentResponse{Status: envelope.Success, Comment: &rendered[0]}, nil
	}
}

// handleCommentList serves a video's comments, newest first.
// Invocations: 2 (comment; then user for the commenters, beside one bulk read of the counters),
// or 1 for a video without comments.
func handleCommentList(comments *commentapi.Client, c *composer, dates commentDates) action {
	return func(r *http.Request, viewer int64) (any, error) {
		videoID, err := params.ID(r, "video_id")
		if err != nil {
			return nil, err
		}
		list, err := comments.List(r.Context(), videoID)
		if err != nil {
			return nil, err
		}
		rendered, err := c.renderComments(r, viewer, list, dates)
		if err != nil {
			return nil, err
		}
		return commentListResponse{Status: envelope.Success, CommentList: rendered}, nil
	}
}

// renderComments renders comments with their authors. Invocations: those of users (1), none for
// no comments.
func (c *composer) renderComments(r *http.Request, viewer int64, list []commentapi.Comment, dates commentDates) ([]Comment, error) {
	out := make([]Comment, 0, len(list))
	if len(list) == 0 {
		return out, nil
	}
	users, err := c.users(r.Context(), viewer, ids.Distinct(list, func(cm commentapi.Comment) int64 { return cm.UserID }))
	if err != nil {
		return nil, err
	}
	for _, cm := range list {
		user, ok := users[cm.UserID]
		if !ok {
			return nil, apperr.New(apperr.UserNotFound)
		}
		out = append(out, Comment{ID: cm.ID, User: user, Content: cm.Content, CreateDate: dates.format(cm.CreatedAt)})
	}
	return out, nil
}

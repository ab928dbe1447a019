package main

import (
	"net/http"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/params"
	"github.com/doutok/doutok/services/internal/publishapi"
)

const (
	actionLike   = 1
	actionUnlike = 2
)

// handleFavoriteAction likes or unlikes a video. Invocations: 1 (favorite).
func handleFavoriteAction(favorites *favoriteapi.Client) action {
	return func(r *http.Request, viewer int64) (any, error) {
		videoID, err := params.ID(r, "video_id")
		if err != nil {
			return nil, err
		}
		act, err := params.ActionType(r, actionLike, actionUnlike)
		if err != nil {
			return nil, err
		}
		req := favoriteapi.ApplyRequest{UserID: viewer, VideoID: videoID, Liked: act == actionLike}
		if err := favorites.Apply(r.Context(), req); err != nil {
			return nil, err
		}
		return envelope.Success, nil
	}
}

// handleFavoriteList serves the videos a user likes, most recently liked first.
// Invocations: 3 (favorite: the list; publish: the videos; then user, beside one bulk read of
// the counters), or 1 for a user who likes nothing.
func handleFavoriteList(favorites *favoriteapi.Client, publish *publishapi.Client, c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		userID, err := params.ID(r, "user_id")
		if err != nil {
			return nil, err
		}
		ids, err := favorites.List(r.Context(), userID)
		if err != nil {
			return nil, err
		}
		list := []Video{}
		if len(ids) > 0 {
			found, err := publish.ByIDs(r.Context(), ids)
			if err != nil {
				return nil, err
			}
			videos := make([]publishapi.Video, 0, len(ids))
			for _, id := range ids {
				if v, ok := found[id]; ok {
					videos = append(videos, v)
				}
			}
			if list, err = c.videos(r.Context(), viewer, videos); err != nil {
				return nil, err
			}
		}
		return videoListResponse{Status: envelope.Success, VideoList: list}, nil
	}
}

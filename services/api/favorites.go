package main

import (
	"net/http"

	"github.com/doutok/doutok/services/internal/envelope"
	"github.com/doutok/doutok/services/internal/favoriteapi"
	"github.com/doutok/doutok/services/internal/params"
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

// handleFavoriteList serves the videos a user likes, most recently liked first: their ids from
// favorite, their entries from the gateway's copy, the counters from the state store.
// Invocations: 1 (favorite), beside one bulk read of the counters; more when the gateway lacks
// some entries (composer.videosByID).
func handleFavoriteList(favorites *favoriteapi.Client, c *composer) action {
	return func(r *http.Request, viewer int64) (any, error) {
		userID, err := params.ID(r, "user_id")
		if err != nil {
			return nil, err
		}
		videoIDs, err := favorites.List(r.Context(), userID)
		if err != nil {
			return nil, err
		}
		list, err := c.videosByID(r.Context(), viewer, videoIDs)
		if err != nil {
			return nil, err
		}
		return videoListResponse{Status: envelope.Success, VideoList: list}, nil
	}
}

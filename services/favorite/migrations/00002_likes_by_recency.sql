-- +goose Up
-- A user's favorite list, newest first, reads only the rows it returns.
CREATE INDEX likes_user_recent_idx ON likes (user_id, changed_at DESC, video_id DESC) WHERE liked;

-- +goose Down
DROP INDEX likes_user_recent_idx;

-- +goose Up
-- A video's window starts from its newest rows, deleted ones included (services/comment/window.go):
-- the partial index has only the live ones.
CREATE INDEX comments_video_all_idx ON comments (video_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX comments_video_all_idx;

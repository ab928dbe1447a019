-- +goose Up
-- Comment ids are handed out when a comment is written (the client gets the real id at once);
-- the row itself arrives later through the comment.changed event.
CREATE SEQUENCE comment_ids;

CREATE TABLE comments (
    id         BIGINT PRIMARY KEY,
    video_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    content    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted    BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX comments_video_idx ON comments (video_id, created_at DESC, id DESC) WHERE NOT deleted;

-- +goose Down
DROP TABLE comments;
DROP SEQUENCE comment_ids;

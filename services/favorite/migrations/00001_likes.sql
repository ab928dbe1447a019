-- +goose Up
-- One row per (user, video) that was ever liked: the latest change wins (changed_at, event_id),
-- so a redelivered or reordered event never changes the outcome.
CREATE TABLE likes (
    user_id    BIGINT NOT NULL,
    video_id   BIGINT NOT NULL,
    author_id  BIGINT NOT NULL,
    liked      BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    event_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX likes_video_idx ON likes (video_id) WHERE liked;
CREATE INDEX likes_author_idx ON likes (author_id) WHERE liked;

-- +goose Down
DROP TABLE likes;

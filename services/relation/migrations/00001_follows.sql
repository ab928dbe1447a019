-- +goose Up
-- One row per (follower, followee) pair that was ever followed: the latest change wins
-- (changed_at, event_id), so a redelivered or reordered event never changes the outcome.
CREATE TABLE follows (
    follower_id BIGINT NOT NULL,
    followee_id BIGINT NOT NULL,
    following   BOOLEAN NOT NULL,
    changed_at  BIGINT NOT NULL,
    event_id    TEXT NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id) WHERE following;

-- +goose Down
DROP TABLE follows;

-- +goose Up
CREATE TABLE videos (
    id           BIGSERIAL PRIMARY KEY,
    author_id    BIGINT NOT NULL,
    title        TEXT NOT NULL,
    play_key     TEXT NOT NULL UNIQUE,
    cover_key    TEXT NOT NULL UNIQUE,
    -- Unix milliseconds. Unique, so that feed paging by "published strictly before" never skips
    -- or repeats a video: two videos published in the same millisecond get consecutive values.
    published_at BIGINT NOT NULL,
    CONSTRAINT videos_published_at_key UNIQUE (published_at)
);
CREATE INDEX videos_author_published_idx ON videos (author_id, published_at DESC);

-- +goose Down
DROP TABLE videos;

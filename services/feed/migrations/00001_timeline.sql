-- +goose Up
-- The feed's own projection of published videos, with what it shows of their authors.
CREATE TABLE authors (
    author_id        BIGINT PRIMARY KEY,
    name             TEXT NOT NULL,
    signature        TEXT NOT NULL,
    avatar           TEXT NOT NULL,
    background_image TEXT NOT NULL,
    work_count       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE timeline (
    video_id     BIGINT PRIMARY KEY,
    author_id    BIGINT NOT NULL REFERENCES authors (author_id),
    title        TEXT NOT NULL,
    play_key     TEXT NOT NULL,
    cover_key    TEXT NOT NULL,
    published_at BIGINT NOT NULL
);
CREATE INDEX timeline_published_idx ON timeline (published_at DESC);

-- One row that changes with every video added: a cached page is current exactly when it was built
-- at the current version.
CREATE TABLE timeline_version (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version   BIGINT NOT NULL,
    newest    BIGINT NOT NULL
);
INSERT INTO timeline_version (version, newest) VALUES (0, 0);

-- +goose Down
DROP TABLE timeline_version;
DROP TABLE timeline;
DROP TABLE authors;

-- +goose Up
-- Pages are assembled from entries cached by video id, so a page needs only the ids of the videos
-- before a time: the index carries them. Work counts come from publish's read model and no page is
-- cached whole any more, so the counter column and the version row have no reader.
CREATE INDEX timeline_page_idx ON timeline (published_at DESC) INCLUDE (video_id);
DROP INDEX timeline_published_idx;
DROP TABLE timeline_version;
ALTER TABLE authors DROP COLUMN work_count;

-- +goose Down
ALTER TABLE authors ADD COLUMN work_count BIGINT NOT NULL DEFAULT 0;
UPDATE authors a SET work_count = (SELECT count(*) FROM timeline t WHERE t.author_id = a.author_id);
CREATE TABLE timeline_version (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version   BIGINT NOT NULL,
    newest    BIGINT NOT NULL
);
INSERT INTO timeline_version (version, newest) VALUES (1, COALESCE((SELECT max(published_at) FROM timeline), 0));
CREATE INDEX timeline_published_idx ON timeline (published_at DESC);
DROP INDEX timeline_page_idx;

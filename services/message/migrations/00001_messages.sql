-- +goose Up
-- Message ids are handed out when a message is sent (the sender gets the real id at once); the
-- row itself arrives later through the message.sent event, whose redelivery changes nothing.
CREATE SEQUENCE message_ids;

-- A conversation is the pair (user_a, user_b), the smaller id first, whoever sent the message.
-- created_at (Unix ms) is strictly increasing within a conversation: it is given by the
-- conversation's hot model, never by the database.
CREATE TABLE messages (
    id           BIGINT PRIMARY KEY,
    user_a       BIGINT NOT NULL,
    user_b       BIGINT NOT NULL,
    from_user_id BIGINT NOT NULL,
    to_user_id   BIGINT NOT NULL,
    content      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    CHECK (user_a < user_b)
);
CREATE INDEX messages_conversation_idx ON messages (user_a, user_b, created_at, id);
-- A user's conversations where the user is the larger id (the index above serves the smaller).
CREATE INDEX messages_user_b_idx ON messages (user_b);

-- +goose Down
DROP TABLE messages;
DROP SEQUENCE message_ids;

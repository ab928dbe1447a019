-- +goose Up
CREATE TABLE accounts (
    id               BIGSERIAL PRIMARY KEY,
    username         TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    signature        TEXT NOT NULL DEFAULT '',
    avatar           TEXT NOT NULL DEFAULT '',
    background_image TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Uniqueness lives in the database so concurrent registrations cannot both win.
    CONSTRAINT accounts_username_key UNIQUE (username)
);

-- +goose Down
DROP TABLE accounts;

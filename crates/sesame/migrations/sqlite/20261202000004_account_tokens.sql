-- Single-use tokens sent by email (password reset, email verification): only
-- a SHA-256 of the token is kept, so a copy of this table opens nothing.
CREATE TABLE account_tokens (
    token_hash BLOB    PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
) WITHOUT ROWID;
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

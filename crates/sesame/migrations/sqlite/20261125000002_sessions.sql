-- Server-side sessions. Only a SHA-256 of the session token is stored, so a copy of
-- this table gives no usable session.
CREATE TABLE sessions (
    id_hash    BLOB    PRIMARY KEY,
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

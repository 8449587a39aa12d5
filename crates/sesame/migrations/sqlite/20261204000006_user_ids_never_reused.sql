-- User ids are never given again: `INTEGER PRIMARY KEY AUTOINCREMENT`
-- (without it SQLite hands the highest id of a deleted user to the next
-- one, and whatever an application keyed by it would pass to a stranger).
-- SQLite cannot add AUTOINCREMENT to a table, so the table is rebuilt. The
-- drop would cascade to the tokens (ON DELETE CASCADE), so they are kept
-- aside and put back.
CREATE TABLE users_ids (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL UNIQUE,
    name              TEXT,
    image             TEXT,
    password_hash     TEXT    NOT NULL,
    created_at        INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at        INTEGER NOT NULL DEFAULT (unixepoch()),
    disabled_at       INTEGER,
    email_verified_at INTEGER
);
INSERT INTO users_ids (id, email, name, image, password_hash, created_at, updated_at,
                       disabled_at, email_verified_at)
SELECT id, email, name, image, password_hash, created_at, updated_at,
       disabled_at, email_verified_at FROM users;
CREATE TEMP TABLE account_tokens_kept AS SELECT * FROM account_tokens;
DROP TABLE users;
ALTER TABLE users_ids RENAME TO users;
DELETE FROM account_tokens;
INSERT INTO account_tokens SELECT * FROM account_tokens_kept;
DROP TABLE account_tokens_kept;

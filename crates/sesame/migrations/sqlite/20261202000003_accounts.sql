-- Accounts: users that can be disabled and whose email is verified, and a
-- per-user index over sessions (list them, end them all at once).
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
-- Users created before verification existed count as verified.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
UPDATE users SET email_verified_at = created_at;

ALTER TABLE sessions ADD COLUMN user_id TEXT;
CREATE INDEX sessions_user_id ON sessions (user_id) WHERE user_id IS NOT NULL;

-- The last time each user's sessions were ended all at once, as a number from
-- one sequence: a sign-in that read a smaller number before it checked the
-- password may not store its session (it raced the revocation).
CREATE TABLE session_revocations (
    user_id TEXT    PRIMARY KEY,
    seq     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_revocations_seq ON session_revocations (seq);

-- Sessions signed in before the index existed.
UPDATE sessions SET user_id = json_extract(data, '$.sesame.user_id');

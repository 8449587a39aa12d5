-- The second factor: an authenticator app's secret (TOTP, sealed with a key
-- derived from the server secret), its recovery codes (SHA-256, single use),
-- the sign-ins waiting for their second factor, and the browsers trusted to
-- skip it.
CREATE TABLE totp_factors (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT    NOT NULL,
    -- NULL while enrolling: the factor counts once a code confirmed it.
    confirmed_at  INTEGER,
    -- The last time step accepted: a code of this step or an earlier one is
    -- refused (RFC 6238 section 5.2).
    last_step     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

CREATE TABLE pending_sign_ins (
    id_hash    BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- JSON: the first factor, the account as named, callbackUrl, remember,
    -- the revocation sequence read before the first factor.
    state      TEXT    NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE trusted_browsers (
    id_hash    BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX trusted_browsers_user ON trusted_browsers (user_id);

-- Passkeys (WebAuthn): each account's user handle (a random UUID the
-- authenticators keep, never the row id), its credentials (the serialised
-- webauthn-rs `Passkey`: public key, sign counter, backup flags), and the
-- ceremonies in progress (the challenge's state, five minutes, taken once).
CREATE TABLE passkey_handles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  BLOB    NOT NULL UNIQUE
);

CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A credential belongs to one account.
    credential_id BLOB    NOT NULL UNIQUE,
    passkey       TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    id_hash    BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    user_id    INTEGER,
    state      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Passkeys (see the SQLite migration of the same name).
CREATE TABLE passkey_handles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  BYTEA  NOT NULL UNIQUE
);

CREATE TABLE passkeys (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BYTEA  NOT NULL UNIQUE,
    passkey       TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    id_hash    BYTEA  PRIMARY KEY,
    kind       TEXT   NOT NULL,
    user_id    BIGINT,
    state      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

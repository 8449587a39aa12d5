-- Accounts at OAuth / OpenID Connect providers, linked to users (see the
-- SQLite migration of the same name).
CREATE TABLE provider_accounts (
    provider            TEXT   NOT NULL,
    provider_account_id TEXT   NOT NULL,
    user_id             BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email               TEXT,
    created_at          BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT),
    access_token        TEXT,
    refresh_token       TEXT,
    expires_at          BIGINT,
    PRIMARY KEY (provider, provider_account_id)
);
CREATE INDEX provider_accounts_user ON provider_accounts (user_id);

-- Accounts at OAuth / OpenID Connect providers, linked to users. A user
-- made by a provider has no password (an empty password_hash).
CREATE TABLE provider_accounts (
    provider            TEXT    NOT NULL,
    provider_account_id TEXT    NOT NULL,
    user_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email               TEXT,
    created_at          INTEGER NOT NULL DEFAULT (unixepoch()),
    -- The provider's tokens, sealed with a key derived from the secret, kept
    -- only when the provider's `store_tokens` is set.
    access_token        TEXT,
    refresh_token       TEXT,
    expires_at          INTEGER,
    PRIMARY KEY (provider, provider_account_id)
) WITHOUT ROWID;
CREATE INDEX provider_accounts_user ON provider_accounts (user_id);

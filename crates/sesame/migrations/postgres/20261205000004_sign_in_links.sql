-- The email provider's sign-in links (see the SQLite migration of the same name).
CREATE TABLE sign_in_links (
    token_hash   BYTEA  PRIMARY KEY,
    email        TEXT   NOT NULL,
    callback_url TEXT   NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT)
);
CREATE INDEX sign_in_links_email ON sign_in_links (email);

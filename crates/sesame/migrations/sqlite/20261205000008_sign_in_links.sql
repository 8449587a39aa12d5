-- The email provider's sign-in links: single-use, stored only as the
-- SHA-256 of their token, with the address they were sent to and where the
-- sign-in goes after. Not tied to a user: an address without an account
-- may get one when the link is used (open sign-up).
CREATE TABLE sign_in_links (
    token_hash   BLOB    PRIMARY KEY,
    email        TEXT    NOT NULL,
    callback_url TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL DEFAULT (unixepoch())
) WITHOUT ROWID;
CREATE INDEX sign_in_links_email ON sign_in_links (email);

-- A link may be bound to the browser that asked for it: the SHA-256 of a
-- cookie that browser holds (a sign-up's confirmation link signs in only
-- the browser that signed up).
ALTER TABLE account_tokens ADD COLUMN bound_to BLOB;

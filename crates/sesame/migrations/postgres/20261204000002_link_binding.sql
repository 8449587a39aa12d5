-- A link may be bound to the browser that asked for it (see the SQLite
-- migration of the same name). User ids come from an identity column, which
-- never gives an id again.
ALTER TABLE account_tokens ADD COLUMN bound_to BYTEA;

-- The session purge deletes refresh tokens by expiry (auth/src/domain/session-purge.ts): this
-- index finds them without reading the whole table.
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at)

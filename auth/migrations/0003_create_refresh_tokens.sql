-- Every refresh token a family was given, by SHA-256 only (the token itself is never stored).
-- rotated_at marks a token traded for a new pair: seeing it again revokes the family.
CREATE TABLE refresh_tokens (
  token_hash BINARY(32) NOT NULL,
  session_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  issued_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  rotated_at DATETIME(3) NULL,
  PRIMARY KEY (token_hash),
  KEY refresh_tokens_session (session_id),
  CONSTRAINT refresh_tokens_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

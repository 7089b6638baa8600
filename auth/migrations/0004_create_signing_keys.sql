-- The Ed25519 keys that sign access tokens, shared by every auth instance. The private half is
-- sealed with AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY; ring_id (derived from that key) keeps
-- deployments that share a database but not the encryption key apart. Times are UTC.
CREATE TABLE signing_keys (
  kid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ring_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  public_jwk VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sealed_private_key VARBINARY(255) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  activates_at DATETIME(3) NOT NULL,
  PRIMARY KEY (kid),
  KEY signing_keys_ring (ring_id, activates_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

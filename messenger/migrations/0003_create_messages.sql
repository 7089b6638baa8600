-- Messages. The auto-increment id orders them (ids grow with time). (author_id,
-- client_message_id) is unique: the sender's idempotency key, so a retried send stores nothing
-- new, whichever instance it reaches and however the retries race. messages_chat_id serves a
-- chat's pages (newest first) and counts unread messages from the index alone (it holds the
-- author); messages_chat_created serves resuming a live connection by time. VARCHAR(4000) counts
-- characters (code points) in utf8mb4, as the API does. created_at is the database's clock.
CREATE TABLE messages (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  chat_id BIGINT UNSIGNED NOT NULL,
  author_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  client_message_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  text VARCHAR(4000) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY messages_author_client_id (author_id, client_message_id),
  KEY messages_chat_id (chat_id, id, author_id),
  KEY messages_chat_created (chat_id, created_at),
  CONSTRAINT messages_chat FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

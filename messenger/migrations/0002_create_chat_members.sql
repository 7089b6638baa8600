-- Who is in which chat, and how far each member has read (a message id; 0: nothing yet). The
-- primary key answers "is this user in this chat"; chat_members_user lists a user's chats.
-- Ids of users are auth's uuids.
CREATE TABLE chat_members (
  chat_id BIGINT UNSIGNED NOT NULL,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  joined_at DATETIME(3) NOT NULL,
  last_read_message_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (chat_id, user_id),
  KEY chat_members_user (user_id, chat_id),
  CONSTRAINT chat_members_chat FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

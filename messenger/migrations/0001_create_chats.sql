-- Chats. messenger owns this table. A dialog has a dialog_key (its two members' ids in order,
-- 'low:high'), unique, so the dialog between two users exists once whoever opens it, also when
-- both open it at the same moment (the second insert collides). Group chats have no key (several
-- NULLs never collide). last_message_id and last_activity_at order a member's chat list; sends
-- lock the row, so a chat's messages commit in id order. Times are UTC.
CREATE TABLE chats (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kind ENUM('dialog', 'group') CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  dialog_key CHAR(73) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at DATETIME(3) NOT NULL,
  last_message_id BIGINT UNSIGNED NULL,
  last_activity_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY chats_dialog_key (dialog_key),
  CONSTRAINT chats_dialog_has_key CHECK ((kind = 'dialog') = (dialog_key IS NOT NULL))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

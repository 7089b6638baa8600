-- Posts. The auto-increment id orders them (newest first = highest id first). The author index
-- ends in id, so "the newest posts of these authors" is a range read per author, never a scan
-- of everyone's posts. VARCHAR(500) counts characters (code points) in utf8mb4, as the API does.
CREATE TABLE posts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  author_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  text VARCHAR(500) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY posts_author_id (author_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

-- Accounts and their profiles. auth owns this table; other services read profiles through auth's API.
-- email is stored lower-cased and compared byte for byte (utf8mb4_bin): the unique index is the
-- one judge of "taken". Names use utf8mb4_unicode_ci (the same on MySQL 8 and MariaDB 10.11), so
-- a prefix search ignores case. The two name indexes serve the prefix searches, by last name and
-- by first name, each ending in id for a stable keyset order.
CREATE TABLE users (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  first_name VARCHAR(100) NOT NULL,
  last_name VARCHAR(100) NOT NULL,
  birthday DATE NOT NULL,
  gender VARCHAR(32) NULL,
  city VARCHAR(100) NULL,
  interests VARCHAR(1000) NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_email (email),
  KEY users_last_first (last_name, first_name, id),
  KEY users_first_last (first_name, last_name, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

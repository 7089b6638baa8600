-- Friendships and pending friend requests. social owns this table. A pair is stored once, with
-- its two ids in order (user_low < user_high), so "A asked B" and "B asked A" meet on the same
-- primary key: the pair is unique whichever side asked, and concurrent requests collide there.
-- The second index serves "my friends" from the other side of the pair. Ids are auth's uuids.
-- Times are UTC. The CHECKs are enforced by MySQL 8.0.16+ and MariaDB 10.2+.
CREATE TABLE friendships (
  user_low CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_high CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  requested_by CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status ENUM('pending', 'accepted') CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (user_low, user_high),
  KEY friendships_high_low (user_high, user_low),
  CONSTRAINT friendships_ordered_pair CHECK (user_low < user_high),
  CONSTRAINT friendships_requester_in_pair CHECK (requested_by = user_low OR requested_by = user_high)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci

/**
 * The feed cache's Lua scripts. Each runs atomically in Redis, so a read never sees half a
 * rebuild, and the version check and the write of a rebuild cannot be split by a fan-out.
 *
 * A cached feed is a list of `<postId>:<authorId>` entries, newest first, ending in `end` when the
 * database has nothing older (a capped list without `end` may have more in the database), plus
 * the set of friend ids it was built from, holding a `-` member so an empty set still exists.
 * The sentinels make "no posts" and "no friends" differ from "not cached".
 */

/** Post ids are decimal strings without leading zeros: shorter is smaller, equal lengths compare as text. */
const OLDER = `
local function older(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function idOf(entry)
  return string.sub(entry, 1, string.find(entry, ':', 1, true) - 1)
end
`;

/**
 * KEYS: feed list, friend set. ARGV: before (a post id, or '' for the newest), want.
 * Returns {'miss'} when not cached, else {end, entry...}: up to `want` entries older than
 * `before` written by someone still in the friend set (a post fanned out by a friend removed
 * meanwhile never shows), and end = 'more' | 'complete' | 'partial' (see CachedSlice).
 */
export const READ_FEED = `${OLDER}
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  return {'miss'}
end
local before = ARGV[1]
local want = tonumber(ARGV[2])
local out = {'partial'}
local index = 0
while true do
  local entries = redis.call('LRANGE', KEYS[1], index, index + 99)
  if #entries == 0 then return out end
  for _, entry in ipairs(entries) do
    if entry == 'end' then
      out[1] = 'complete'
      return out
    end
    local id = idOf(entry)
    local author = string.sub(entry, #id + 2)
    if (before == '' or older(id, before)) and redis.call('SISMEMBER', KEYS[2], author) == 1 then
      out[#out + 1] = entry
      if #out - 1 == want then
        out[1] = 'more'
        return out
      end
    end
  end
  index = index + 100
end
`;

/**
 * KEYS: feed list, friend set, version. ARGV: expected version, ttl seconds, complete ('1'/'0'),
 * friend count n, n friend ids, then the entries newest first.
 * Replaces the cached feed unless the version moved since the rebuild read it (a fan-out or an
 * invalidation happened meanwhile: the rebuild's result may be stale, so it is dropped and the
 * next read rebuilds again). Returns 1 when stored, 0 when dropped.
 */
export const REPLACE_FEED = `
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
local ttl = ARGV[2]
local friends = tonumber(ARGV[4])
local first = 5
local last = first + friends - 1
redis.call('SADD', KEYS[2], '-')
for i = first, last, 500 do
  redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 499, last)))
end
for i = last + 1, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
if ARGV[3] == '1' then redis.call('RPUSH', KEYS[1], 'end') end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
`;

/**
 * KEYS: feed list, version. ARGV: entry, post id, cap, version ttl seconds.
 * Fan-out of one new post into one friend's feed: bumps the version (a rebuild that read the
 * database before this post was committed must not store its result), then, only if the feed is
 * cached, inserts the entry at its place by id (concurrent posts may arrive out of order; it is
 * almost always the head) unless it is already there (a rebuild may have seen it), and trims the
 * list to the cap. A post older than everything in a capped list is left to the database.
 */
export const ADD_ENTRY = `${OLDER}
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local id = ARGV[2]
local index = 0
while true do
  local entries = redis.call('LRANGE', KEYS[1], index, index + 31)
  if #entries == 0 then return 0 end
  for offset, entry in ipairs(entries) do
    if entry ~= 'end' and idOf(entry) == id then return 0 end
    if entry == 'end' or older(idOf(entry), id) then
      if index + offset == 1 then
        redis.call('LPUSH', KEYS[1], ARGV[1])
      else
        redis.call('LINSERT', KEYS[1], 'BEFORE', entry, ARGV[1])
      end
      redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
      return 1
    end
  end
  index = index + 32
end
`;

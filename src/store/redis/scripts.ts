/**
 * The Lua scripts of the Redis store. Each one touches the keys of ONE shard only (one hash tag, so one Redis Cluster
 * slot), or one key outside the shards: that is what makes each of them atomic on a cluster as well as on a single
 * Redis. KEYS[1] is always a key of
 * that shard, so the client routes the script to the node holding the slot; keys a script builds itself (a delivery's
 * hash, a subscription's delivery set) start with the same `base` (ARGV[1]) and so carry the same tag.
 *
 * Numbers that may not fit Lua's 14 significant digits are formatted with `%.0f` (integers below 2^53 are exact).
 */
import { createHash } from 'node:crypto';

export class Script {
  readonly sha: string;
  constructor(readonly name: string, readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

/**
 * The optimistic commit of updatePresence. KEYS: user hash, due zset, outbox stream, shard counters hash.
 * ARGV: rev read, facts, view, seq, due ('' = none), changed ('1'/'0'), due member, tenantId, userId, at.
 * Returns -1 when the user is gone, 0 when the rev moved (another writer committed first: retry), or, committed, the
 * record's new rev (./recentCommits.ts: the next update may start from the record committed).
 *
 * rev is taken from a per-shard counter on every commit (and on creation), so it never repeats: a user deleted and
 * created again between a read and this check cannot be mistaken for the one that was read.
 * The stream id's first part is the Redis server time in microseconds (kept from going backwards per shard), so
 * events of different shards can be merged in commit order; the second part orders events within one microsecond.
 */
export const COMMIT = new Script('commit', `
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then return -1 end
if rev ~= ARGV[1] then return 0 end
local nextRev = redis.call('HINCRBY', KEYS[4], 'rev', 1)
redis.call('HSET', KEYS[1], 'facts', ARGV[2], 'view', ARGV[3], 'seq', ARGV[4], 'due', ARGV[5], 'rev', nextRev)
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[2], ARGV[7])
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
end
if ARGV[6] ~= '1' then return tostring(nextRev) end
local t = redis.call('TIME')
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('HGET', KEYS[4], 'us') or '0')
if us < last then us = last end
local ms = string.format('%.0f', us)
redis.call('HSET', KEYS[4], 'us', ms)
redis.call('XADD', KEYS[3], ms .. '-*', 't', ARGV[8], 'u', ARGV[9], 's', ARGV[4], 'v', ARGV[3], 'a', ARGV[10])
return tostring(nextRev)
`);

/**
 * Many users' fields in one call. KEYS: user hashes, all of ONE shard. ARGV: the fields. Returns one array of the
 * fields' values (nil where absent) per key, in KEYS order. One script per shard instead of one HMGET per user: for a
 * 650-id getPresencesByUserId, 16 commands instead of 650, and most of the node's cost was per command.
 */
export const READ_USERS = new Script('readUsers', `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out
`);

/**
 * putUser's create-or-rename. KEYS: user hash, due zset, the shard's tenant-users zset, shard counters hash.
 * ARGV: tenantId, userId, name, upn, facts, view, seq, due ('' = none), due member.
 * Returns {1} when created, {0, previous upn} when the existing user was renamed (their presence untouched).
 */
export const PUT_USER = new Script('putUser', `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local old = redis.call('HGET', KEYS[1], 'upn')
  redis.call('HSET', KEYS[1], 'name', ARGV[3], 'upn', ARGV[4])
  return {0, old}
end
local rev = redis.call('HINCRBY', KEYS[4], 'rev', 1)
redis.call('HSET', KEYS[1], 'tid', ARGV[1], 'id', ARGV[2], 'name', ARGV[3], 'upn', ARGV[4], 'facts', ARGV[5],
  'view', ARGV[6], 'seq', ARGV[7], 'due', ARGV[8], 'rev', rev)
redis.call('ZADD', KEYS[3], 0, ARGV[2])
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[2], ARGV[8], ARGV[9]) end
return {1}
`);

/**
 * putUsers's create-or-rename of many users of one shard, each as PUT_USER does, all with one initial record.
 * KEYS: due zset, shard counters hash, then two per user: user hash, the shard's tenant-users zset.
 * ARGV: facts, view, seq, due ('' = none), then four per user: tenantId, userId, name, upn.
 * Returns one entry per user, in order: 1 when created, the previous upn when the existing user was renamed.
 */
export const PUT_USERS = new Script('putUsers', `
local out = {}
for i = 1, (#KEYS - 2) / 2 do
  local user, tu, a = KEYS[1 + 2 * i], KEYS[2 + 2 * i], 4 + 4 * (i - 1)
  if redis.call('EXISTS', user) == 1 then
    out[i] = redis.call('HGET', user, 'upn')
    redis.call('HSET', user, 'name', ARGV[a + 3], 'upn', ARGV[a + 4])
  else
    local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
    redis.call('HSET', user, 'tid', ARGV[a + 1], 'id', ARGV[a + 2], 'name', ARGV[a + 3], 'upn', ARGV[a + 4], 'facts', ARGV[1],
      'view', ARGV[2], 'seq', ARGV[3], 'due', ARGV[4], 'rev', rev)
    redis.call('ZADD', tu, 0, ARGV[a + 2])
    if ARGV[4] ~= '' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[a + 1] .. '/' .. ARGV[a + 2]) end
    out[i] = 1
  end
end
return out
`);

/** KEYS: user hash, due zset, tenant-users zset. ARGV: userId, due member. Returns the user's upn, or nil (no user). */
export const DELETE_USER = new Script('deleteUser', `
local upn = redis.call('HGET', KEYS[1], 'upn')
if not upn then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return upn
`);

/**
 * The layout upgrade from v1 (./redisStore.ts): turns one shard's tenant-users set into a zset of the same ids, all
 * scored 0, so they sort by id. KEYS: the key. Returns how many ids it moved; 0 for a key that is a zset already, so
 * nodes upgrading at once do no harm.
 */
export const TENANT_USERS_TO_ZSET = new Script('tenantUsersToZset', `
if redis.call('TYPE', KEYS[1]).ok ~= 'set' then return 0 end
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
for i = 1, #ids, 500 do
  local args = {}
  for j = i, math.min(i + 499, #ids) do
    args[#args + 1] = 0
    args[#args + 1] = ids[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
return #ids
`);

/**
 * The UPN index: one string key per lower-cased UPN, `<tenantId>/<userId>|<claimed at, server seconds>`.
 * CLAIM (ARGV: owner) returns 2 when it claimed a free UPN, 1 when the owner already had it, or the other owner's
 * value.
 */
export const CLAIM_UPN = new Script('claimUpn', `
local v = redis.call('GET', KEYS[1])
if v then
  if string.match(v, '^(.*)|') == ARGV[1] then return 1 end
  return v
end
local t = redis.call('TIME')
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. t[1])
return 2
`);

/**
 * Takes over a UPN whose claim is left over from an interrupted putUser or deleteUser (the caller checked that its
 * owner no longer has it) — only if the value is still the one checked, and the claim is at least ARGV[3] seconds
 * old (so a putUser in flight between its claim and its user write keeps its claim). ARGV: expected value, new owner,
 * minimum age. Returns 1 when taken.
 */
export const STEAL_UPN = new Script('stealUpn', `
local v = redis.call('GET', KEYS[1])
if v ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local at = tonumber(string.match(v, '|(%d+)$') or '0')
if tonumber(t[1]) - at < tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. t[1])
return 1
`);

/** Deletes the UPN key if ARGV[1] owns it. */
export const RELEASE_UPN = new Script('releaseUpn', `
local v = redis.call('GET', KEYS[1])
if v and string.match(v, '^(.*)|') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Sets a meta value unless it has one, and returns the value stored. KEYS: meta hash. ARGV: field, value. */
export const META_IF_ABSENT = new Script('metaIfAbsent', `
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
`);

/**
 * Enqueues deliveries into one shard, ARGV from index i on, four per delivery: JSON (the fixed fields), nextAttemptAt,
 * attempt, subscriptionId. Each gets a hash `<base>:d:<id>` {j, n, a, s}, a member of the shard's queue (a zset
 * scored by the instant it can next be claimed) and a member of the subscription's delivery set in this shard.
 * Ids are `d<shard>-<12-digit counter>`: equal scores come out in enqueue order.
 */
const ENQUEUE_FN = `
local function enqueue(base, queue, counters, shard, i)
  while i <= #ARGV do
    local n = redis.call('HINCRBY', counters, 'dn', 1)
    local id = 'd' .. shard .. '-' .. string.format('%012d', n)
    redis.call('HSET', base .. ':d:' .. id, 'j', ARGV[i], 'n', ARGV[i + 1], 'a', ARGV[i + 2], 's', ARGV[i + 3])
    redis.call('ZADD', queue, ARGV[i + 1], id)
    redis.call('SADD', base .. ':ds:' .. ARGV[i + 3], id)
    i = i + 4
  end
end
`;

/** KEYS: delivery queue, shard counters. ARGV: base, shard, deliveries (see ENQUEUE_FN). */
export const ENQUEUE = new Script('enqueue', `${ENQUEUE_FN}
enqueue(ARGV[1], KEYS[1], KEYS[2], ARGV[2], 3)
return 1
`);

/**
 * dispatchChanges for one shard: removes the given outbox entries and, only if at least one was still there, enqueues
 * the deliveries. KEYS: outbox stream, delivery queue, shard counters. ARGV: base, shard, count of ids, ids...,
 * deliveries (see ENQUEUE_FN). Returns 1 when it removed something (and enqueued), else 0.
 */
export const DISPATCH = new Script('dispatch', `${ENQUEUE_FN}
local n = tonumber(ARGV[3])
local removed = 0
local i = 4
while i < 4 + n do
  local last = math.min(i + 999, 3 + n)
  removed = removed + redis.call('XDEL', KEYS[1], unpack(ARGV, i, last))
  i = last + 1
end
if removed == 0 then return 0 end
enqueue(ARGV[1], KEYS[2], KEYS[3], ARGV[2], 4 + n)
return 1
`);

/**
 * Claims the given deliveries of one shard that are still claimable at ARGV[2] (score <= now), leasing them until
 * ARGV[3]. KEYS: delivery queue. ARGV: base, now, lease end, ids... Returns id, JSON, nextAttemptAt, attempt per
 * claimed delivery, flat. Ids another claimer leased (or someone completed) meanwhile are skipped.
 */
export const CLAIM = new Script('claim', `
local now = tonumber(ARGV[2])
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= now then
    local d = redis.call('HMGET', ARGV[1] .. ':d:' .. id, 'j', 'n', 'a')
    if d[1] then
      redis.call('ZADD', KEYS[1], ARGV[3], id)
      out[#out + 1] = id
      out[#out + 1] = d[1]
      out[#out + 1] = d[2]
      out[#out + 1] = d[3]
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return out
`);

/** KEYS: delivery queue. ARGV: base, ids... Removes each delivery, its queue entry and its subscription-set entry. */
export const COMPLETE = new Script('complete', `
for i = 2, #ARGV do
  local id = ARGV[i]
  local key = ARGV[1] .. ':d:' .. id
  local sub = redis.call('HGET', key, 's')
  if sub then
    redis.call('DEL', key)
    redis.call('SREM', ARGV[1] .. ':ds:' .. sub, id)
  end
  redis.call('ZREM', KEYS[1], id)
end
return 1
`);

/** KEYS: delivery queue. ARGV: base, id, nextAttemptAt, attempt. Sets both and ends the lease. */
export const RESCHEDULE = new Script('reschedule', `
local key = ARGV[1] .. ':d:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'n', ARGV[3], 'a', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return 1
`);

/**
 * Counts the deliveries of one shard that are leased at ARGV[2] (now) and were due by then: queued with a score (the
 * lease end) after now but a nextAttemptAt at or before it. KEYS: delivery queue. ARGV: base, now.
 */
export const COUNT_LEASED = new Script('countLeased', `
local now = tonumber(ARGV[2])
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')) do
  local next = redis.call('HGET', ARGV[1] .. ':d:' .. id, 'n')
  if next and tonumber(next) <= now then n = n + 1 end
end
return n
`);

/**
 * Compare-and-set of a string key (a subscription's JSON): stores ARGV[2] only if the key still holds exactly ARGV[1].
 * KEYS: the key. Returns 1 when set, 0 when the value had changed (or the key is gone).
 */
export const SET_IF_UNCHANGED = new Script('setIfUnchanged', `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: delivery queue. ARGV: base, subscriptionId. Removes every delivery of the subscription in this shard. */
export const DROP_SUBSCRIPTION_DELIVERIES = new Script('dropSubscriptionDeliveries', `
local set = ARGV[1] .. ':ds:' .. ARGV[2]
local ids = redis.call('SMEMBERS', set)
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. ':d:' .. id)
  redis.call('ZREM', KEYS[1], id)
end
redis.call('DEL', set)
return #ids
`);

/**
 * The slow-endpoint samples of one webhook endpoint: a list of `<at> <ms>` entries, oldest first. KEYS: the list.
 * ARGV: entry, how many to keep, time to live (ms, real time: an endpoint nobody posts to is forgotten). Returns
 * the kept entries.
 */
export const RECORD_ENDPOINT_DURATION = new Script('recordEndpointDuration', `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('LRANGE', KEYS[1], 0, -1)
`);

/**
 * The throttle turn of one endpoint: takes a turn ending at ARGV[2] unless the current one ends after ARGV[1] (now).
 * KEYS: the turn's key. ARGV: now, until, time to live (ms, real time). Returns {1, until} when taken, else {0, the
 * current turn's end}; instants go back as the strings they were given as (no Lua number formatting).
 */
export const TAKE_ENDPOINT_TURN = new Script('takeEndpointTurn', `
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return {0, v} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1, ARGV[2]}
`);

/** The shared manual clock: stores ARGV[1] unless a time is stored; returns the stored time. KEYS: the clock key. */
export const CLOCK_INIT = new Script('clockInit', `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`);

/**
 * Moves the shared manual clock to ARGV[1] unless it is there or later — and, when ARGV[2] is not '', only if it is
 * at ARGV[2] (compare-and-set) — and publishes the new time on channel ARGV[3]. KEYS: the clock key. Returns
 * {1, new time} when moved, else {0, stored time ('' if none)}.
 */
export const CLOCK_ADVANCE = new Script('clockAdvance', `
local cur = redis.call('GET', KEYS[1])
if cur then
  if ARGV[2] ~= '' and tonumber(cur) ~= tonumber(ARGV[2]) then return {0, cur} end
  if tonumber(cur) >= tonumber(ARGV[1]) then return {0, cur} end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return {1, ARGV[1]}
`);

/**
 * A throttling window (see ./rateLimits.ts). KEYS: the window's hash. ARGV: now, window length, key TTL (ms), then
 * pairs of counter field and limit. Opens a new window when there is none or it has ended at `now`; then, unless a
 * counter has reached its limit, counts one against each. Returns 0 when counted, else the ms left in the window.
 */
export const TAKE_RATE = new Script('takeRate', `
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'e'))
if not ends or now >= ends then
  ends = now + tonumber(ARGV[2])
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'e', ends)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
for i = 4, #ARGV, 2 do
  if tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') >= tonumber(ARGV[i + 1]) then return ends - now end
end
for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
return 0
`);

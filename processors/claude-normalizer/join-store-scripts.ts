import { createHash } from 'node:crypto';
import { RECORD_KEY_PREFIXES } from './join-keys.js';

/**
 * The Lua scripts of the Redis join store (join-store-redis.ts). Keys, under the namespace prefix:
 * `e:ID` an entry (JSON), `k:KEY` the entry a join or record key leads to, `sl:SESSION` /
 * `sc:SESSION` the ids of usage-less gateway links / client calls awaiting the gateway in a session,
 * `l:NAME` a lock (value: the holding batch's token), `t:TOKEN` the locks a batch holds,
 * `done:TOKEN` a batch saved, `dead:TOKEN` a batch given up on (a late script of it does nothing).
 */
export class Script {
  readonly sha: string;
  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }
}

/**
 * Locks what one batch's keys and sessions lead to (the keys, the sessions, the entries they point
 * to), all or nothing, and returns those entries: id, JSON, and which of its keys lead to it.
 * {0} when another batch holds any of them. One round trip per batch, whatever its size.
 * ARGV: prefix, token, lock ttl ms, number of keys, keys..., sessions...
 */
export const LOAD = new Script(`
local p, token, ttl, nk = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', p .. 'dead:' .. token) == 1 then return {0} end
local ids, idlist, locks = {}, {}, {}
local function add(id)
  if id and not ids[id] then ids[id] = true; idlist[#idlist + 1] = id end
end
for i = 5, 4 + nk do
  locks[#locks + 1] = 'k:' .. ARGV[i]
  add(redis.call('GET', p .. 'k:' .. ARGV[i]))
end
for i = 5 + nk, #ARGV do
  locks[#locks + 1] = 's:' .. ARGV[i]
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'sl:' .. ARGV[i])) do add(id) end
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'sc:' .. ARGV[i])) do add(id) end
end
for _, id in ipairs(idlist) do locks[#locks + 1] = 'e:' .. id end
for _, l in ipairs(locks) do
  local holder = redis.call('GET', p .. 'l:' .. l)
  if holder and holder ~= token then return {0} end
end
local held = p .. 't:' .. token
for _, l in ipairs(locks) do
  redis.call('SET', p .. 'l:' .. l, token, 'PX', ttl)
  redis.call('RPUSH', held, l)
end
redis.call('PEXPIRE', held, ttl)
local out = {1}
for _, id in ipairs(idlist) do
  local data = redis.call('GET', p .. 'e:' .. id)
  if data then
    local owned = {}
    for _, k in ipairs(cjson.decode(data).keys) do
      if redis.call('GET', p .. 'k:' .. k) == id then owned[#owned + 1] = k end
    end
    out[#out + 1] = id
    out[#out + 1] = data
    out[#out + 1] = owned
  end
end
return out
`);

/**
 * Writes a batch's entries, the keys that lead to them and their session memberships, marks the
 * batch saved, then releases its locks — only if it still holds every one (a lock that expired may
 * have let another batch in) and was not given up on: else nothing is written, 0.
 * ARGV: prefix, token, window ms, JSON writes [{id, data, exp, keys, add, rem}].
 */
export const SAVE = new Script(`
local p, token, window = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', p .. 'dead:' .. token) == 1 then return 0 end
local held = redis.call('LRANGE', p .. 't:' .. token, 0, -1)
if #held == 0 then return 0 end
for _, l in ipairs(held) do
  if redis.call('GET', p .. 'l:' .. l) ~= token then return 0 end
end
for _, e in ipairs(cjson.decode(ARGV[4])) do
  redis.call('SET', p .. 'e:' .. e.id, e.data, 'PXAT', e.exp)
  for _, k in ipairs(e.keys) do redis.call('SET', p .. 'k:' .. k, e.id, 'PXAT', e.exp) end
  if e.rem ~= '' then redis.call('SREM', p .. e.rem, e.id) end
  if e.add ~= '' then redis.call('SADD', p .. e.add, e.id); redis.call('PEXPIRE', p .. e.add, window) end
end
redis.call('SET', p .. 'done:' .. token, '1', 'PX', window)
for _, l in ipairs(held) do redis.call('DEL', p .. 'l:' .. l) end
redis.call('DEL', p .. 't:' .. token)
return 1
`);

/** Lua for isRecordKey(`name`) (join-keys.ts). */
function isRecordKeyLua(name: string): string {
  return RECORD_KEY_PREFIXES.map((p) => `string.sub(${name}, 1, ${p.length}) == '${p}'`).join(' or ');
}

/**
 * Gives up on a batch: marks it dead (a LOAD or SAVE of it still in flight does nothing), releases
 * its locks, and, if its SAVE did run (the reply was lost, or the exporters refused the batch),
 * undoes it: an entry no later batch has rewritten goes back to what it was, with the keys it
 * wrote back to the entry they led to and its session memberships reversed. An entry a later batch
 * has rewritten since stays for that batch: it loses the keys this batch pointed at it if it
 * existed before, else only this batch's record keys (`rec:`, `uiv:`, join-keys.ts), as the
 * in-memory store's JoinIndex.revert and remove do; and it is returned ({1, id, data, ...}) for the caller to take
 * this batch's shapes and billing out of it (DEMOTE). Returns 0 when no SAVE ran. The batch was
 * refused, so whatever it claimed must be claimable by its retry. ARGV: prefix, token, window ms,
 * JSON undo [{id, data, prev, exp, keys, prevKeys, add, rem}] ('' = none).
 */
export const RESOLVE = new Script(`
local p, token, window = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('SET', p .. 'dead:' .. token, '1', 'PX', window)
for _, l in ipairs(redis.call('LRANGE', p .. 't:' .. token, 0, -1)) do
  if redis.call('GET', p .. 'l:' .. l) == token then redis.call('DEL', p .. 'l:' .. l) end
end
redis.call('DEL', p .. 't:' .. token)
if redis.call('DEL', p .. 'done:' .. token) == 0 then return 0 end
local rewritten, keysOf = {1}, {}
-- A key goes back to its previous entry only if that entry still lists it: not a record key of a
-- batch given up on before, which DEMOTE took out of it.
local function listed(id, k)
  if id == '' then return false end
  if keysOf[id] == nil then
    local data = redis.call('GET', p .. 'e:' .. id)
    keysOf[id] = {}
    if data then for _, x in ipairs(cjson.decode(data).keys) do keysOf[id][x] = true end end
  end
  return keysOf[id][k] == true
end
for _, e in ipairs(cjson.decode(ARGV[4])) do
  local now = redis.call('GET', p .. 'e:' .. e.id)
  local kept = now and now ~= e.data
  if now == e.data then
    if e.prev == '' then redis.call('DEL', p .. 'e:' .. e.id) else redis.call('SET', p .. 'e:' .. e.id, e.prev, 'PXAT', e.exp) end
  elseif kept then
    rewritten[#rewritten + 1] = e.id
    rewritten[#rewritten + 1] = now
  end
  for i, k in ipairs(e.keys) do
    -- Kept for a later batch: it loses this batch's record keys, and if it existed before this
    -- batch, every key this batch pointed at it.
    local gone = not kept or ${isRecordKeyLua('k')} or (e.prev ~= '' and e.prevKeys[i] ~= e.id)
    if gone and redis.call('GET', p .. 'k:' .. k) == e.id then
      if listed(e.prevKeys[i], k) then redis.call('SET', p .. 'k:' .. k, e.prevKeys[i], 'PXAT', e.exp) else redis.call('DEL', p .. 'k:' .. k) end
    end
  end
  if not kept then
    if e.add ~= '' then redis.call('SREM', p .. e.add, e.id) end
    if e.rem ~= '' then redis.call('SADD', p .. e.rem, e.id) end
  end
end
return rewritten
`);

/**
 * Replaces entries RESOLVE returned as rewritten by a later batch with their version without what
 * the given-up batch did (join-store-redis.ts, demotions), moving their session membership, each
 * only if no batch has changed it since (compare and set). ARGV: prefix, token, window ms,
 * JSON [{id, seen, data, add, rem}].
 */
export const DEMOTE = new Script(`
local p, window = ARGV[1], tonumber(ARGV[3])
for _, e in ipairs(cjson.decode(ARGV[4])) do
  if redis.call('GET', p .. 'e:' .. e.id) == e.seen then
    redis.call('SET', p .. 'e:' .. e.id, e.data, 'KEEPTTL')
    if e.rem ~= '' then redis.call('SREM', p .. e.rem, e.id) end
    if e.add ~= '' then redis.call('SADD', p .. e.add, e.id); redis.call('PEXPIRE', p .. e.add, window) end
  end
end
return 1
`);

/**
 * Lua scripts of the value store, run with EVALSHA through ioredis
 * `defineCommand` (which falls back to EVAL on NOSCRIPT, so an emptied or
 * restarted Redis needs no reload step).
 *
 * A stored value is `<sample time>|<value JSON>` under `<base>:v:<key as JSON>`
 * (e.g. `bull:tickwork-poll-devices:v:"sys/tg/1/temperature"`), with `PX` =
 * its TTL (none when it never expires).
 * @internal
 */

/**
 * Publishes a batch of samples, last writer wins by sample time, and
 * announces what it wrote in one message.
 *
 * KEYS[1]: one value key of the batch (routes the call; every key of a dict
 * shares its prefix, which in a Redis Cluster must be hash-tagged, as
 * BullMQ's own prefix).
 * ARGV[1]: channel; ARGV[2]: origin node id; ARGV[3]: shard confirmations,
 * a JSON fragment (`[shard,at,only,[keys],count],...`, or empty) added to the
 * message after the values; ARGV[4]: value key prefix; ARGV[5]: the
 * entries, one record each, records separated by \x1e and fields by \x1f
 * (neither can appear unescaped in JSON text): the key as JSON (the value's
 * Redis key is prefix .. key JSON), sample time, TTL ms (0: none), and the
 * payload: the value as JSON (a full write), or `=<base time>` (a refresh:
 * the value is unchanged since the sample stored at `<base time>`, which a
 * JSON text can never start with). One string argument instead of four per
 * entry: most of a flush's cost was the client encoding arguments.
 *
 * An entry older than (or as old as) the stored sample is rejected. A
 * refresh whose base sample is no longer the stored one (another node wrote
 * since, or the key expired or Redis was emptied) is sent back as "redo":
 * the caller sends the full value next time.
 *
 * Publishes `<origin>\n[[key,time,value,...],[key,base,time,...],confirmations...]`
 * when anything was written or confirmed. Returns `{ redo indexes, rejected
 * indexes }` (1-based).
 */
export const PUBLISH_SCRIPT = `
local channel = ARGV[1]
local prefix = ARGV[4]
local records = ARGV[5]
local changed = {}
local refreshed = {}
local redo = {}
local rejected = {}
local i = 0
local pos = 1
local size = #records
while pos <= size do
  local stop = string.find(records, '\\30', pos, true) or (size + 1)
  local keyJson, t, ttl, payload = string.match(string.sub(records, pos, stop - 1), '^(.-)\\31(.-)\\31(.-)\\31(.*)$')
  pos = stop + 1
  i = i + 1
  local key = prefix .. keyJson
  local tn = tonumber(t)
  local stored = redis.call('GET', key)
  local storedT = nil
  local storedValue = nil
  if stored then
    local bar = string.find(stored, '|', 1, true)
    if bar then
      storedT = tonumber(string.sub(stored, 1, bar - 1))
      storedValue = string.sub(stored, bar + 1)
    end
  end
  if storedT ~= nil and storedT >= tn then
    rejected[#rejected + 1] = i
  else
    local value = nil
    if string.byte(payload, 1) == 61 then
      local base = string.sub(payload, 2)
      if storedT ~= nil and storedT == tonumber(base) then
        value = storedValue
        refreshed[#refreshed + 1] = keyJson .. ',' .. base .. ',' .. t
      else
        redo[#redo + 1] = i
      end
    else
      value = payload
      changed[#changed + 1] = keyJson .. ',' .. t .. ',' .. payload
    end
    if value ~= nil then
      if tonumber(ttl) > 0 then
        redis.call('SET', key, t .. '|' .. value, 'PX', ttl)
      else
        redis.call('SET', key, t .. '|' .. value)
      end
    end
  end
end
local confirmations = ARGV[3]
if #changed > 0 or #refreshed > 0 or confirmations ~= '' then
  if confirmations ~= '' then confirmations = ',' .. confirmations end
  redis.call('PUBLISH', channel, ARGV[2] .. '\\n[[' .. table.concat(changed, ',') .. '],[' .. table.concat(refreshed, ',') .. ']' .. confirmations .. ']')
end
return { redo, rejected }
`;

/**
 * Claims a shard's lease for a slot: the owner record `<slot>|<node>` under
 * KEYS[1] (with `PX`) moves only forward in slot time. A claim for a slot
 * older than the recorded one fails (the job was redelivered after a newer
 * window began elsewhere); the same slot by another node succeeds (BullMQ gave
 * that node the job after the first one lost its lock).
 *
 * ARGV: slot, node id, TTL ms, lease channel, shard. Publishes
 * `<shard>|<slot>|<node>` on success. Returns 1, or the current record.
 */
export const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local bar = string.find(current, '|', 1, true)
  if bar and tonumber(string.sub(current, 1, bar - 1)) > tonumber(ARGV[1]) then
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. '|' .. ARGV[1] .. '|' .. ARGV[2])
return 1
`;

/**
 * Agrees on the dict's layout: KEYS[1] holds the `shards`/`leaseMs` of the
 * nodes using it, with a TTL each agreeing node renews. A node with another
 * layout gets the stored one back and changes nothing; once every node of the
 * old layout is gone the key expires and the new one takes over.
 *
 * ARGV: layout, TTL ms. Returns 1 when agreed (key set or renewed), else the
 * stored layout.
 */
export const LAYOUT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

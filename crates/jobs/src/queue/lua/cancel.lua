-- Cancels a job. A waiting job leaves the queue at once (it can never start); a running or
-- just-claimed job gets a flag that its worker checks before every decoding step.
-- KEYS[1] job hash  KEYS[2] active list  KEYS[3] scheduled zset  KEYS[4] pending set
-- KEYS[5] apalis data hash  KEYS[6] apalis meta hash of the job
-- ARGV[1] id  ARGV[2] sha256 of the token offered  ARGV[3] now (ms)
-- ARGV[4] retention (s)
-- Returns "not_found" | "forbidden" | "finished" | "canceled" | "requested"

if redis.call('exists', KEYS[1]) == 0 then return 'not_found' end
local f = redis.call('hmget', KEYS[1], 'status', 'token_sha256', 'client_key')
if f[2] ~= ARGV[2] then return 'forbidden' end
if f[1] ~= 'queued' and f[1] ~= 'running' then return 'finished' end

local removed = redis.call('lrem', KEYS[2], 0, ARGV[1]) + redis.call('zrem', KEYS[3], ARGV[1])
if removed > 0 then
    redis.call('hset', KEYS[1], 'status', 'canceled', 'finished_ms', ARGV[3], 'cancel', '1')
    redis.call('hdel', KEYS[1], 'stage')
    redis.call('srem', KEYS[4], ARGV[1])
    if f[3] then redis.call('srem', f[3], ARGV[1]) end
    redis.call('hdel', KEYS[5], ARGV[1])
    redis.call('del', KEYS[6])
    redis.call('expire', KEYS[1], ARGV[4])
    return 'canceled'
end
redis.call('hset', KEYS[1], 'cancel', '1')
return 'requested'

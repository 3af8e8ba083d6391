-- A worker is about to run a job it claimed. Attempts are counted here, not by apalis, because
-- a crash of the worker re-enqueues the job without counting it as an attempt.
-- KEYS[1] job hash
-- ARGV[1] worker name  ARGV[2] now (ms)  ARGV[3] max attempts  ARGV[4] the first stage's name
-- Returns {"run", attempts} | {"missing", 0} | {"finished", 0} | {"canceled", attempts}
-- | {"exhausted", attempts}

if redis.call('exists', KEYS[1]) == 0 then return {'missing', 0} end
local f = redis.call('hmget', KEYS[1], 'status', 'cancel', 'attempts')
if f[1] ~= 'queued' and f[1] ~= 'running' then return {'finished', 0} end
local attempts = tonumber(f[3] or '0') or 0
if f[2] == '1' then return {'canceled', attempts} end
attempts = redis.call('hincrby', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[3]) then return {'exhausted', attempts - 1} end
redis.call('hset', KEYS[1], 'status', 'running', 'stage', ARGV[4], 'started_ms', ARGV[2],
    'worker', ARGV[1], 'step', '0')
return {'run', attempts}

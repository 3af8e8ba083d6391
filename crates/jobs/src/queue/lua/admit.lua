-- Admission and registration of a new job, atomically, so concurrent submits cannot overshoot
-- the caps. The job is pushed to the apalis queue only after this succeeded.
-- KEYS[1] pending set (ids of unfinished jobs)   KEYS[2] this client's set   KEYS[3] job hash
-- ARGV[1] id   ARGV[2] max pending   ARGV[3] max per client   ARGV[4] job key prefix
-- ARGV[5..] field, value pairs of the job hash
-- Returns {0, pending} admitted | {1, pending} queue full | {2, client's unfinished}

local function unfinished(id)
    local st = redis.call('hget', ARGV[4] .. id, 'status')
    return st == 'queued' or st == 'running'
end

-- Drops ids whose job finished or expired without being removed (a crash between steps).
local function prune(set)
    local live = 0
    for _, id in ipairs(redis.call('smembers', set)) do
        if unfinished(id) then live = live + 1 else redis.call('srem', set, id) end
    end
    return live
end

local pending = redis.call('scard', KEYS[1])
if pending >= tonumber(ARGV[2]) then
    pending = prune(KEYS[1])
    if pending >= tonumber(ARGV[2]) then return {1, pending} end
end
local mine = prune(KEYS[2])
if mine >= tonumber(ARGV[3]) then return {2, mine} end

redis.call('sadd', KEYS[1], ARGV[1])
redis.call('sadd', KEYS[2], ARGV[1])
redis.call('hset', KEYS[3], unpack(ARGV, 5))
return {0, pending + 1}

-- Where a job stands and what is ahead of it, in one consistent snapshot.
-- Order of service: jobs claimed by a worker but not yet started, then the active list (FIFO),
-- then the scheduled set (every push lands there first; promoted to active on the next fetch;
-- same-second ties are ordered by id, and ids are ULIDs).
-- KEYS[1] active list  KEYS[2] scheduled zset  KEYS[3] apalis workers zset  KEYS[4] dead set
-- ARGV[1] job id, or "" for "a new job at the tail"  ARGV[2] job key prefix  ARGV[3] inflight prefix
-- Returns {where, jobs_ahead, steps_ahead, running_jobs, running_remaining_steps, queued_total}
-- where: "active" | "scheduled" | "claimed" | "running" | "dead" | "none"

local id = ARGV[1]
local prefix = ARGV[2]

local function steps(job)
    return tonumber(redis.call('hget', prefix .. job, 'steps') or '0') or 0
end

local where = 'none'
local claimed = {}
local running_jobs, running_remaining = 0, 0
for _, worker in ipairs(redis.call('zrange', KEYS[3], 0, -1)) do
    for _, job in ipairs(redis.call('smembers', ARGV[3] .. worker)) do
        local f = redis.call('hmget', prefix .. job, 'status', 'steps', 'step')
        local total = tonumber(f[2] or '0') or 0
        if f[1] == 'running' then
            running_jobs = running_jobs + 1
            running_remaining = running_remaining + math.max(0, total - (tonumber(f[3] or '0') or 0))
            if job == id then where = 'running' end
        elseif f[1] == 'queued' then
            if job == id then where = 'claimed' end
            table.insert(claimed, {job, total})
        end
    end
end

-- Claimed jobs ahead: all of them for a job still in line, the older ones for a claimed job.
local claimed_jobs, claimed_steps = 0, 0
for _, c in ipairs(claimed) do
    if where ~= 'claimed' or c[1] < id then
        claimed_jobs = claimed_jobs + 1
        claimed_steps = claimed_steps + c[2]
    end
end

local active_len = redis.call('llen', KEYS[1])
local scheduled_len = redis.call('zcard', KEYS[2])
local queued_total = #claimed + active_len + scheduled_len

if where == 'claimed' then
    return {where, claimed_jobs, claimed_steps, running_jobs, running_remaining, queued_total}
end
if where == 'running' then
    return {where, 0, 0, running_jobs, running_remaining, queued_total}
end

local ahead_active = active_len
local ahead_scheduled = scheduled_len
if id ~= '' then
    local pos = redis.call('lpos', KEYS[1], id)
    if pos then
        where = 'active'
        ahead_active = pos
        ahead_scheduled = 0
    else
        local rank = redis.call('zrank', KEYS[2], id)
        if rank then
            where = 'scheduled'
            ahead_scheduled = rank
        elseif redis.call('sismember', KEYS[4], id) == 1 then
            return {'dead', 0, 0, running_jobs, running_remaining, queued_total}
        else
            return {'none', 0, 0, running_jobs, running_remaining, queued_total}
        end
    end
end

local ahead_steps = claimed_steps
if ahead_active > 0 then
    for _, job in ipairs(redis.call('lrange', KEYS[1], 0, ahead_active - 1)) do
        ahead_steps = ahead_steps + steps(job)
    end
end
if ahead_scheduled > 0 then
    for _, job in ipairs(redis.call('zrange', KEYS[2], 0, ahead_scheduled - 1)) do
        ahead_steps = ahead_steps + steps(job)
    end
end
return {where, claimed_jobs + ahead_active + ahead_scheduled, ahead_steps, running_jobs,
        running_remaining, queued_total}

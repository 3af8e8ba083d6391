-- Folds one measurement into the moving averages used for ETAs: ms per decoding step, its mean
-- absolute deviation (the spread of the ETA range) and the fixed per-job overhead.
-- KEYS[1] stats hash   ARGV[1] ms per step  ARGV[2] overhead ms (or "")  ARGV[3] weight of the new sample
local alpha = tonumber(ARGV[3])
local x = tonumber(ARGV[1])
local f = redis.call('hmget', KEYS[1], 'ms_per_step', 'ms_per_step_dev', 'overhead_ms', 'samples')
local mean = tonumber(f[1] or '')
local dev = tonumber(f[2] or '') or 0
if mean then
    dev = (1 - alpha) * dev + alpha * math.abs(x - mean)
    mean = (1 - alpha) * mean + alpha * x
else
    mean = x
end
redis.call('hset', KEYS[1], 'ms_per_step', tostring(mean), 'ms_per_step_dev', tostring(dev),
    'samples', tostring((tonumber(f[4] or '0') or 0) + 1))
local o = tonumber(ARGV[2])
if o then
    local old = tonumber(f[3] or '')
    if old then o = (1 - alpha) * old + alpha * o end
    redis.call('hset', KEYS[1], 'overhead_ms', tostring(o))
end
return tostring(mean)

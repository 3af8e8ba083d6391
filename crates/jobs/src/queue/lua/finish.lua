-- Records a job's outcome and releases its admission slots.
-- KEYS[1] job hash  KEYS[2] pending set
-- ARGV[1] id  ARGV[2] retention (s)  ARGV[3..] field, value pairs
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 3))
redis.call('hdel', KEYS[1], 'stage')
redis.call('srem', KEYS[2], ARGV[1])
local client_key = redis.call('hget', KEYS[1], 'client_key')
if client_key then redis.call('srem', client_key, ARGV[1]) end
redis.call('expire', KEYS[1], ARGV[2])
return 1

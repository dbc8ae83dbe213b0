#!/usr/bin/env python3
"""A second implementation of docs/cache-protocol.md, in Python with redis-py.

  protocol_peer.py PORT write KEY JSON_VALUE TTL_SECONDS TAG...
  protocol_peer.py PORT read KEY TAG...        prints the JSON value, or MISS
  protocol_peer.py PORT invalidate TAG...      prints live entries per tag

The Swift test suite runs it against the Swift implementation in both directions.
"""
import sys, time, uuid, zlib
import redis

P = "tw"
TAGREF = """
local current = redis.call('GET', KEYS[1]) or '0'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('PTTL', KEYS[2]) < 0 then
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
else
  redis.call('PEXPIREAT', KEYS[2], ARGV[2], 'GT')
end
if current ~= '0' then redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT') end
return current
"""
INVALIDATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retention = tonumber(ARGV[1])
local queue = KEYS[#KEYS]
local results = {}
for i = 1, #KEYS - 1, 3 do
  local live = 0
  local keep = now + retention
  local members = redis.call('ZCARD', KEYS[i + 1])
  if members > 0 then
    local top = redis.call('ZRANGE', KEYS[i + 1], -1, -1, 'WITHSCORES')
    if tonumber(top[2]) > keep then keep = tonumber(top[2]) end
    live = redis.call('ZCOUNT', KEYS[i + 1], now, '+inf')
    if live > 0 then
      redis.call('RENAME', KEYS[i + 1], KEYS[i + 2])
      redis.call('LPUSH', queue, KEYS[i + 2])
    else
      redis.call('UNLINK', KEYS[i + 1])
    end
  end
  local version = redis.call('INCR', KEYS[i])
  if version == 1 then
    -- born, or born again after it expired: start from the clock, above every version that an
    -- entry written in an earlier life of the key can hold (a writer may straddle the expiry)
    version = now * 1000
    redis.call('SET', KEYS[i], string.format('%.0f', version), 'PXAT', keep)
  elseif members > 0 then
    -- entries were written since the last bump: the key outlives every one of them
    redis.call('PEXPIREAT', KEYS[i], keep, 'GT')
  end
  results[#results + 1] = {version, live}
end
return results

"""

def version_key(tag): return f"{P}:{{{tag}}}:v"
def members_key(tag): return f"{P}:{{{tag}}}:m"

def versions(r, tags):
    return [(v or b"0").decode() for v in (r.get(version_key(t)) for t in tags)] if tags else []

def write(r, key, value, ttl, tags):
    seen = versions(r, tags)                       # 1. versions before computing the value
    payload = value.encode()                       # 2. (the value was computed by the caller)
    now = int(time.time() * 1000)
    fresh, expires = now + ttl * 1000, now + ttl * 1000
    flags = "-"
    if len(payload) >= 1024:
        payload, flags = zlib.compress(payload, 1), "z"
    header = f"TW1 {fresh} {flags} {len(tags)}\n" + "".join(f"{v} {t}\n" for v, t in zip(seen, tags))
    tagref = r.register_script(TAGREF)
    p = r.pipeline(transaction=False)
    for tag in tags:
        tagref(keys=[version_key(tag), members_key(tag)], args=[f"{P}:e:{key}", expires], client=p)
    p.set(f"{P}:e:{key}", header.encode() + payload, pxat=expires)
    p.execute()

def read(r, key, tags):
    p = r.pipeline(transaction=False)
    p.get(f"{P}:e:{key}")
    for tag in tags:
        p.get(version_key(tag))
    raw, *current = p.execute()
    if raw is None:
        return None
    lines = raw.split(b"\n")
    magic, fresh, flags, count = lines[0].decode().split(" ")
    if magic != "TW1":
        return None
    entry_tags = [line.decode().split(" ", 1) for line in lines[1:1 + int(count)]]
    known = {t: (v or b"0").decode() for t, v in zip(tags, current)}
    for version, tag in entry_tags:
        now_version = known[tag] if tag in known else versions(r, [tag])[0]
        if now_version != version:
            return None
    if int(fresh) < time.time() * 1000:
        return None
    payload = b"\n".join(lines[1 + int(count):])
    return (zlib.decompress(payload) if flags == "z" else payload).decode()

def invalidate(r, tags):
    script = r.register_script(INVALIDATE)
    batch = uuid.uuid4()
    keys = [k for t in tags for k in (version_key(t), members_key(t), f"{P}:{{{t}}}:gc:{batch}")] + [f"{P}:gc"]
    p = r.pipeline(transaction=False)
    script(keys=keys, args=[3600000], client=p)
    p.publish(f"{P}:inval", "\n".join(tags))
    return p.execute()[0]

def main():
    port, verb, *rest = sys.argv[1:]
    r = redis.Redis(port=int(port))
    if verb == "write":
        key, value, ttl, *tags = rest
        write(r, key, value, int(ttl), tags)
        print("OK")
    elif verb == "read":
        key, *tags = rest
        value = read(r, key, tags)
        print("MISS" if value is None else value)
    elif verb == "invalidate":
        for tag, (version, live) in zip(rest, invalidate(r, rest)):
            print(f"{tag} {live}")
    else:
        sys.exit(f"unknown verb {verb}")

if __name__ == "__main__":
    main()

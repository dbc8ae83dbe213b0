import TagwaveRedis

/// The Lua scripts of the cache protocol, verbatim as documented in docs/cache-protocol.md.
enum CacheScripts {
    /// Registers an entry under a tag. KEYS: version, members. ARGV: entry key, expiry (ms since
    /// epoch). Returns the tag's current version. Keeps the tag's keys alive at least as long as the
    /// entry and drops members that have expired (so the set never outgrows the live entries).
    static let tagReference = RedisScript(
        """
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
        """)

    /// Invalidates tags, each in O(1) + O(log n). KEYS: per tag its version, members and garbage keys,
    /// then (optionally) the garbage queue last. ARGV: minimum lifetime of a version key (ms). Per tag it bumps the
    /// version (every entry written before is unreadable from now on), keeps the version key alive as
    /// long as any entry that may still reference an older version, and moves the member set aside for
    /// reclamation (queued only when it holds live entries). A version key that is born (again) starts
    /// at the clock's microsecond-scale value (`now_ms × 1000`), never at 1: an entry written under an
    /// earlier life of the key must not become readable again. A tag without entries since its last
    /// bump costs an `INCR` and a share of one `EXISTS` per 32 tags (a `ZCARD` each when any of the 32
    /// has entries). Returns a flat array: version, live entries, for each tag in turn (no table per
    /// tag: a batch invalidates a thousand tags).
    ///
    /// All keys of one call must be in one Redis Cluster slot: on a cluster it is called once per tag,
    /// without the queue (the client queues the sets after); a single server takes every tag of a batch
    /// in one call, queue included.
    static let invalidate = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local retention = tonumber(ARGV[1])
        local queue = #KEYS % 3 == 1 and KEYS[#KEYS] or nil
        local last = #KEYS - (queue and 1 or 0)
        local results = {}
        local n = 0
        local sets = {}
        for first = 1, last, 96 do
          -- 32 tags at a time: one EXISTS of their member sets; when none exists, none needs a ZCARD
          -- (a lone tag goes straight to its ZCARD)
          local stop = math.min(first + 95, last)
          local count = 0
          for i = first + 1, stop, 3 do
            count = count + 1
            sets[count] = KEYS[i]
          end
          local any = count == 1 or redis.call('EXISTS', unpack(sets, 1, count)) > 0
          for i = first, stop, 3 do
            local live = 0
            local keep = now + retention
            local members = any and redis.call('ZCARD', KEYS[i + 1]) or 0
            if members > 0 then
              local top = redis.call('ZRANGE', KEYS[i + 1], -1, -1, 'WITHSCORES')
              if tonumber(top[2]) > keep then keep = tonumber(top[2]) end
              live = redis.call('ZCOUNT', KEYS[i + 1], now, '+inf')
              if live > 0 then
                redis.call('RENAME', KEYS[i + 1], KEYS[i + 2])
                if queue then redis.call('LPUSH', queue, KEYS[i + 2]) end
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
            results[n + 1] = version
            results[n + 2] = live
            n = n + 2
          end
        end
        return results
        """)

    /// Deletes entries that still reference an old version of a tag. KEYS: entry keys (one slot).
    /// ARGV: tag, current version. An entry rewritten since (current version) or without the tag is kept.
    /// Reads only each entry's header (GETRANGE), so large values cost nothing to check.
    static let reclaim = RedisScript(
        """
        local removed = 0
        for _, key in ipairs(KEYS) do
          local head = redis.call('GETRANGE', key, 0, 4095)
          if head ~= '' then
            local first = string.find(head, '\\n', 1, true)
            local count = first and tonumber(string.match(string.sub(head, 1, first - 1), '(%d+)$'))
            local stale = false
            local position = first and first + 1
            for _ = 1, (count or 0) do
              local stop = string.find(head, '\\n', position, true)
              if not stop then break end
              local line = string.sub(head, position, stop - 1)
              local space = string.find(line, ' ', 1, true)
              if space and string.sub(line, space + 1) == ARGV[1] then
                stale = string.sub(line, 1, space - 1) ~= ARGV[2]
                break
              end
              position = stop + 1
            end
            if stale then
              redis.call('UNLINK', key)
              removed = removed + 1
            end
          end
        end
        return removed
        """)

    /// Releases a lease if this process still holds it. KEYS: lease. ARGV: owner token.
    static let releaseLease = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}

import TagwaveRedis

extension RedisClient {
    /// Everything in Redis: every key with its type and value, and the key count. Tests compare two
    /// snapshots to prove a command changed nothing (a dry run, a read-only verb).
    public func keyspaceSnapshot() async throws -> [String: String] {
        var result: [String: String] = [:]
        let keys = try await send(RedisCommand("KEYS", "*")).array?.compactMap(\.string) ?? []
        for key in keys {
            let type = try await send(RedisCommand("TYPE", RedisArgument(key))).string ?? ""
            let value: RedisReply
            switch type {
            case "string": value = try await send(RedisCommand("GET", RedisArgument(key)))
            case "zset": value = try await send(RedisCommand("ZRANGE", RedisArgument(key), "0", "-1", "WITHSCORES"))
            case "list": value = try await send(RedisCommand("LRANGE", RedisArgument(key), "0", "-1"))
            case "stream": value = try await send(RedisCommand("XRANGE", RedisArgument(key), "-", "+"))
            default: value = .null
            }
            result[key] = "\(type) \(value)"
        }
        result["(dbsize)"] = "\(try await send(RedisCommand("DBSIZE")).int ?? -1)"
        return result
    }

    /// The current version of `tag` in the cache protocol (`P:{tag}:v`; absent reads 0).
    public func cacheTagVersion(_ tag: String, prefix: String = "tw") async throws -> Int64 {
        try await send(RedisCommand("GET", RedisArgument("\(prefix):{\(tag)}:v"))).int ?? 0
    }
}

import TagwaveRedis

/// What is in Redis for this cache's prefix: for operators (`tagwave cache stats`) and the health monitor.
public struct CacheInspection: Sendable, Hashable, Codable {
    /// Entries (`P:e:*`) counted, up to the scan limit.
    public var entries: Int
    /// Tags with a version key (invalidated at least once, or referenced by a live entry).
    public var versionedTags: Int
    /// Invalidated member sets still waiting to be reclaimed.
    public var pendingReclaim: Int
    /// True when the scan stopped at its limit (the counts are then lower bounds).
    public var truncated: Bool
    /// Redis `used_memory` in bytes (on a cluster, all primaries' together).
    public var usedMemory: Int
    /// Redis `maxmemory` in bytes, 0 for no limit (on a cluster, all primaries' together; 0 when one has none).
    public var maxMemory: Int
    /// Redis keyspace hits since its start (all clients; on a cluster, all primaries').
    public var keyspaceHits: Int
    /// Redis keyspace misses since its start.
    public var keyspaceMisses: Int
}

extension TaggedCache {
    /// Counts this prefix's keys with `SCAN` (never `KEYS`), at most `limit` keys, and reads Redis's
    /// memory and keyspace figures: of every primary, on a cluster.
    /// - Throws: ``CacheError`` when Redis fails.
    public func inspect(limit: Int = 1_000_000) async throws -> CacheInspection {
        do {
            var inspection = CacheInspection(
                entries: 0, versionedTags: 0, pendingReclaim: 0, truncated: false, usedMemory: 0, maxMemory: 0,
                keyspaceHits: 0, keyspaceMisses: 0)
            var seen = 0
            let entryPrefix = keys.entry("")
            var unlimited = false
            for node in try await redis.primaries() {
                var cursor = "0"
                repeat {
                    guard seen < limit else {
                        inspection.truncated = true
                        break
                    }
                    let reply = try await node.send(
                        RedisCommand("SCAN", RedisArgument(cursor), "MATCH", RedisArgument("\(configuration.prefix):*"), "COUNT", 1000))
                    cursor = reply.array?.first?.string ?? "0"
                    for key in reply.array?.last?.array ?? [] {
                        guard let name = key.string else { continue }
                        seen += 1
                        if name.hasPrefix(entryPrefix) { inspection.entries += 1 }
                        else if name.hasSuffix("}:v") { inspection.versionedTags += 1 }
                    }
                } while cursor != "0"
                let replies = try await node.pipeline([RedisCommand("INFO", "memory"), RedisCommand("INFO", "stats")])
                let memory = Self.info(replies[0].string ?? "")
                let stats = Self.info(replies[1].string ?? "")
                let maximum = Int(memory["maxmemory"] ?? "") ?? 0
                unlimited = unlimited || maximum == 0
                inspection.usedMemory += Int(memory["used_memory"] ?? "") ?? 0
                inspection.maxMemory += maximum
                inspection.keyspaceHits += Int(stats["keyspace_hits"] ?? "") ?? 0
                inspection.keyspaceMisses += Int(stats["keyspace_misses"] ?? "") ?? 0
            }
            if unlimited { inspection.maxMemory = 0 }
            inspection.pendingReclaim = Int(try await redis.send(RedisCommand("LLEN", RedisArgument(keys.garbageQueue))).int ?? 0)
            return inspection
        } catch {
            throw CacheError(.redis, "cannot inspect the cache: \(error)", underlying: error)
        }
    }

    static func info(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}

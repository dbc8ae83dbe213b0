import Logging
import TagwaveRedis

extension TaggedCache {
    /// The values under `keys`, in their order: nil where there is none, or it was invalidated or
    /// expired. Two round trips whatever the number of keys (one for the entries, one for the
    /// current versions of all their tags) where ``get(_:as:tags:)`` takes one per key: the seed's
    /// batched cache operations. Memory-tier hits need no round trip.
    ///
    /// Reading the versions after the entries is conservative: an invalidation between the two makes
    /// the entries it covers misses, never stale hits.
    /// - Throws: ``CacheError`` when a key is invalid, Redis fails, or a value does not decode as `T`.
    public func getMany<T: Codable & Sendable>(_ keys: [String], as type: T.Type = T.self) async throws -> [T?] {
        for key in keys { try validate(key: key, tags: []) }
        var values = [T?](repeating: nil, count: keys.count)
        var remote: [Int] = []
        for (index, key) in keys.enumerated() {
            if let value = memory?.get(key, as: T.self) {
                statistics.count(\.hits)
                statistics.count(\.memoryHits)
                values[index] = value
            } else {
                remote.append(index)
            }
        }
        guard !remote.isEmpty else { return values }
        let mark = memory?.generation
        let started = ContinuousClock.now
        var found: [(index: Int, entry: CacheEntry)] = []
        var versions: [String: String] = [:]
        do {
            let replies = try await redis.pipeline(remote.map { RedisCommand("GET", RedisArgument(self.keys.entry(keys[$0]))) })
            for (index, reply) in zip(remote, replies) {
                if let message = reply.errorMessage {
                    throw CacheError(.redis, "Redis refused a cache read of \(keys[index]): \(message)")
                }
                guard let bytes = reply.bytes else { continue }
                guard let entry = CacheEntry(decoding: bytes) else {
                    statistics.count(\.errors)
                    logger.warning(
                        "cache entry is not in the Tagwave format; treating it as a miss", metadata: ["tagwave.cache.key": "\(keys[index])"])
                    continue
                }
                found.append((index, entry))
            }
            // Each tag once, however many entries carry it.
            var seen = Set<String>()
            let tags = found.flatMap { $0.entry.tags.map(\.tag) }.filter { seen.insert($0).inserted }
            for (tag, version) in zip(tags, try await currentVersions(tags)) { versions[tag] = version }
        } catch let error as CacheError {
            statistics.count(\.errors)
            throw error
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "cache read of \(keys.count) keys failed: \(error)", underlying: error)
        }
        statistics.countRedisRead(taking: ContinuousClock.now - started)
        let now = Self.nowMilliseconds()
        var hits = 0
        for (index, entry) in found where entry.freshUntil >= now && entry.tags.allSatisfy({ versions[$0.tag] == $0.version }) {
            let value = try decode(T.self, entry, key: keys[index])
            remember(keys[index], value, entry, readAt: mark)
            values[index] = value
            hits += 1
        }
        statistics.count(\.hits, by: hits)
        statistics.count(\.misses, by: remote.count - hits)
        return values
    }

    /// Stores `items`, each under its key with its tags, for `ttl`: two round trips whatever their
    /// number (the current versions of all their tags, then every entry and its tag references in
    /// one pipeline), where ``set(_:_:tags:ttl:)`` takes two per item.
    /// - Throws: ``CacheError`` when a key or tag is invalid, a value does not encode, or Redis fails
    ///   (items written before the failure stay written).
    public func setMany<T: Codable & Sendable>(_ items: [(key: String, value: T, tags: [String])], ttl: CacheTTL = .default) async throws {
        guard !items.isEmpty else { return }
        for item in items { try validate(key: item.key, tags: item.tags) }
        let payloads = try items.map { try encode($0.value, key: $0.key) }
        var seen = Set<String>()
        let tags = items.flatMap(\.tags).filter { seen.insert($0).inserted }
        do {
            let versions = Dictionary(uniqueKeysWithValues: zip(tags, try await currentVersions(tags)))
            var commands: [RedisCommand] = []
            for (item, payload) in zip(items, payloads) {
                let (_, written) = writeCommands(item.key, payload: payload, tags: item.tags.map { ($0, versions[$0] ?? "0") }, ttl: ttl)
                commands += written
            }
            let replies = try await redis.pipeline(commands)
            if let message = replies.first(where: { $0.errorMessage != nil })?.errorMessage {
                throw CacheError(.redis, "Redis refused a cache write of \(items.count) items: \(message)")
            }
        } catch let error as CacheError {
            statistics.count(\.errors)
            throw error
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "cache write of \(items.count) items failed: \(error)", underlying: error)
        }
        statistics.count(\.sets, by: items.count)
        for item in items { memory?.remove(item.key) }
    }
}

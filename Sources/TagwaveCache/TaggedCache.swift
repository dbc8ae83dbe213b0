import Foundation
import Logging
import Synchronization
import TagwaveRedis

/// A tagged cache on Redis: cache-aside `getOrSet`, tags, TTL policy, stampede protection in-process
/// and across processes, fail-safe stale values, compression and an optional memory tier.
///
/// ```swift
/// let cache = TaggedCache(redis: redis, logger: logger)
/// let sessions = try await cache.getOrSet("sessions:teacher:\(id)", tags: ["teacher:\(id)"], ttl: "session-list") {
///     try await database.sessions(teacher: id)
/// }
/// try await cache.invalidate(tag: "teacher:\(id)")  // every entry under the tag is gone, everywhere
/// ```
///
/// Invalidation bumps the tag's version: an entry is readable only while every tag's current
/// version equals the one it was written under, so invalidation is one round trip whatever the
/// tag's size, and a factory that read old data while its tag was invalidated writes an entry that
/// is already unreadable (no stale set). The layout is documented in docs/cache-protocol.md.
public final class TaggedCache: Sendable {
    /// The configuration it runs with.
    public let configuration: CacheConfiguration
    /// Its counters.
    public let statistics = CacheStatistics()
    /// The Redis it stores entries in (one server or a cluster).
    public let redis: any RedisCommanding
    let keys: CacheKeys
    let logger: Logger
    let memory: MemoryTier?
    private let inflight = Mutex<[String: Task<Lookup, any Error>]>([:])
    let autoWarmed = Mutex(AutoWarmRegistry())

    /// A cache over `redis`.
    ///
    /// Call ``run()`` (or add the cache to a `ServiceGroup`) to keep the memory tier coherent with
    /// other instances; without a memory tier, `run()` is optional.
    public init(redis: any RedisCommanding, configuration: CacheConfiguration = CacheConfiguration(), logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.keys = CacheKeys(prefix: configuration.prefix)
        self.logger = logger
        self.memory = configuration.memoryTier.map(MemoryTier.init)
    }

    // MARK: Reading

    /// The value under `key`, or nil when there is none or it was invalidated or expired.
    ///
    /// - Parameters:
    ///   - tags: the tags the entry is expected under; with them the read is one round trip.
    /// - Throws: ``CacheError`` when Redis fails or the value does not decode as `T`.
    public func get<T: Codable & Sendable>(_ key: String, as type: T.Type = T.self, tags: [String] = []) async throws -> T? {
        try await get(key, as: type, tags: tags, countingMisses: true)
    }

    /// ``get(_:as:tags:)`` for a caller that follows a miss with ``getOrSet(_:tags:ttl:factory:)``
    /// (the response cache middleware), which counts the miss itself: one request, one read.
    package func get<T: Codable & Sendable>(
        _ key: String, as type: T.Type = T.self, tags: [String] = [], countingMisses: Bool
    ) async throws -> T? {
        try validate(key: key, tags: tags)
        if let value = memory?.get(key, as: T.self) {
            statistics.count(\.hits)
            statistics.count(\.memoryHits)
            return value
        }
        let lookup: Lookup
        do {
            lookup = try await read(key, tags: tags)
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "cache read of \(key) failed: \(error)", underlying: error)
        }
        guard case .fresh(let entry) = lookup.state else {
            if countingMisses { statistics.count(\.misses) }
            return nil
        }
        statistics.count(\.hits)
        let value = try decode(T.self, entry, key: key)
        remember(key, value, entry, readAt: lookup.readAt)
        return value
    }

    /// The entry's payload bytes (decompressed), for tools that do not know the value's type.
    /// - Throws: ``CacheError``.
    public func getBytes(_ key: String) async throws -> [UInt8]? {
        try validate(key: key, tags: [])
        guard case .fresh(let entry) = try await read(key, tags: []).state else { return nil }
        return try payload(of: entry)
    }

    // MARK: Writing

    /// Stores `value` under `key` with `tags` for `ttl`.
    /// - Throws: ``CacheError`` when Redis fails or the value does not encode.
    public func set<T: Codable & Sendable>(_ key: String, _ value: T, tags: [String] = [], ttl: CacheTTL = .default) async throws {
        try validate(key: key, tags: tags)
        let bytes = try encode(value, key: key)
        do {
            let versions = try await currentVersions(tags)
            try await write(key, payload: bytes, tags: zip(tags, versions).map { ($0, $1) }, ttl: ttl)
        } catch let error as CacheError {
            throw error
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "cache write of \(key) failed: \(error)", underlying: error)
        }
        memory?.remove(key)
    }

    /// Stores raw payload bytes (the value as the serializer would have written it).
    /// - Throws: ``CacheError``.
    public func setBytes(_ key: String, _ payload: [UInt8], tags: [String] = [], ttl: CacheTTL = .default) async throws {
        try validate(key: key, tags: tags)
        let versions = try await currentVersions(tags)
        try await write(key, payload: payload, tags: zip(tags, versions).map { ($0, $1) }, ttl: ttl)
        memory?.remove(key)
    }

    /// Removes the entry under `key`.
    /// - Throws: ``CacheError`` when Redis fails.
    public func delete(_ key: String) async throws {
        try validate(key: key, tags: [])
        memory?.remove(key)
        do {
            try await redis.send(RedisCommand("UNLINK", RedisArgument(keys.entry(key))))
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "cache delete of \(key) failed: \(error)", underlying: error)
        }
    }

    // MARK: Cache-aside

    /// The cached value under `key`, or the factory's value, stored with `tags` for `ttl`.
    ///
    /// Concurrent calls for one key share one factory run in this process, and across processes one
    /// process computes while the others wait for its value (a lease that expires if it dies). If the
    /// factory throws while a copy within ``CacheConfiguration/maxStale`` exists, that copy is served
    /// and the error counted. If Redis is unreachable, the factory's value is returned uncached
    /// (``CacheConfiguration/RedisFailurePolicy/callFactory``).
    ///
    /// With `autoWarm` (and ``CacheConfiguration/autoWarm`` set, ``run()`` running), this process
    /// computes the key again after each invalidation of one of `tags`, so that readers keep hitting.
    /// - Throws: the factory's error when there is no stale copy; ``CacheError`` otherwise.
    public func getOrSet<T: Codable & Sendable>(
        _ key: String, tags: [String] = [], ttl: CacheTTL = .default, autoWarm: Bool = false,
        factory: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try validate(key: key, tags: tags)
        if autoWarm { registerAutoWarm(key, tags: tags, ttl: ttl, factory: factory) }
        if let value = memory?.get(key, as: T.self) {
            statistics.count(\.hits)
            statistics.count(\.memoryHits)
            return value
        }
        let first: Lookup
        do {
            first = try await read(key, tags: tags)
        } catch {
            return try await bypass(key, error: error, factory: factory)
        }
        if case .fresh(let entry) = first.state {
            statistics.count(\.hits)
            let value = try decode(T.self, entry, key: key)
            remember(key, value, entry, readAt: first.readAt)
            return value
        }
        statistics.count(\.misses)
        let produced = Box<T>()
        let lookup = try await singleFlight(key) {
            try await self.fill(key, tags: tags, ttl: ttl, after: first) {
                let value = try await factory()
                produced.value = value
                return try self.encode(value, key: key)
            }
        }
        guard case .fresh(let entry) = lookup.state else {
            throw CacheError(.corruptEntry, "getOrSet of \(key) ended without a value")
        }
        if let value = produced.value {
            remember(key, value, entry, readAt: lookup.readAt)
            return value
        }
        let value = try decode(T.self, entry, key: key)
        remember(key, value, entry, readAt: lookup.readAt)
        return value
    }

    // MARK: Internals shared with the extensions

    /// What a read found.
    struct Lookup: Sendable {
        enum State: Sendable {
            case fresh(CacheEntry)
            /// Valid versions, past its freshness: servable only as a fail-safe.
            case stale(CacheEntry)
            case missing
        }

        var state: State
        /// The current version of each requested tag, in order ("0" when absent).
        var versions: [String]
        /// The memory tier's generation before these versions were read (nil: no memory tier).
        var readAt: UInt64? = nil
    }

    /// One round trip: the entry and the versions of `tags` (and of the entry's other tags when it
    /// has some the caller did not name: a second round trip, only then).
    func read(_ key: String, tags: [String]) async throws -> Lookup {
        let mark = memory?.generation
        var commands = [RedisCommand("GET", RedisArgument(keys.entry(key)))]
        commands += tags.map { RedisCommand("GET", RedisArgument(keys.version($0))) }
        let started = ContinuousClock.now
        let replies = try await redis.pipeline(commands)
        statistics.countRedisRead(taking: ContinuousClock.now - started)
        if let message = replies.first(where: { $0.errorMessage != nil })?.errorMessage {
            throw CacheError(.redis, "Redis refused a cache read of \(key): \(message)")
        }
        var versions = [String: String]()
        for (tag, reply) in zip(tags, replies.dropFirst()) { versions[tag] = reply.string ?? "0" }
        let ordered = tags.map { versions[$0] ?? "0" }
        guard let bytes = replies[0].bytes else { return Lookup(state: .missing, versions: ordered, readAt: mark) }
        guard let entry = CacheEntry(decoding: bytes) else {
            statistics.count(\.errors)
            logger.warning("cache entry is not in the Tagwave format; treating it as a miss", metadata: ["tagwave.cache.key": "\(key)"])
            return Lookup(state: .missing, versions: ordered, readAt: mark)
        }
        let unknown = entry.tags.map(\.tag).filter { versions[$0] == nil }
        if !unknown.isEmpty {
            for (tag, version) in zip(unknown, try await currentVersions(unknown)) { versions[tag] = version }
        }
        let valid = entry.tags.allSatisfy { versions[$0.tag] == $0.version }
        guard valid else { return Lookup(state: .missing, versions: ordered, readAt: mark) }
        let state: Lookup.State = entry.freshUntil >= Self.nowMilliseconds() ? .fresh(entry) : .stale(entry)
        return Lookup(state: state, versions: ordered, readAt: mark)
    }

    func currentVersions(_ tags: [String]) async throws -> [String] {
        guard !tags.isEmpty else { return [] }
        let replies = try await redis.pipeline(tags.map { RedisCommand("GET", RedisArgument(keys.version($0))) })
        return replies.map { $0.string ?? "0" }
    }

    /// Writes an entry under the given tag versions (the versions read before the value was computed).
    @discardableResult
    func write(_ key: String, payload: [UInt8], tags: [(String, String)], ttl: CacheTTL) async throws -> CacheEntry {
        let (entry, commands) = writeCommands(key, payload: payload, tags: tags, ttl: ttl)
        let replies = try await redis.pipeline(commands)
        if let message = replies.first(where: { $0.errorMessage != nil })?.errorMessage {
            throw CacheError(.redis, "Redis refused a cache write of \(key): \(message)")
        }
        statistics.count(\.sets)
        return entry
    }

    /// The entry `write` stores and its commands: a `TAGREF` per tag, then the `SET`.
    func writeCommands(_ key: String, payload: [UInt8], tags: [(String, String)], ttl: CacheTTL) -> (CacheEntry, [RedisCommand]) {
        let fresh = configuration.ttlPolicy.duration(for: ttl)
        let now = Self.nowMilliseconds()
        let expiresAt = now + fresh.wholeMilliseconds + configuration.maxStale.wholeMilliseconds
        var stored = payload
        var compressed = false
        if payload.count >= configuration.compressionThreshold, let smaller = Compression.compress(payload), smaller.count < payload.count {
            stored = smaller
            compressed = true
        }
        let entry = CacheEntry(
            freshUntil: now + fresh.wholeMilliseconds, compressed: compressed, tags: tags.map { (tag: $0.0, version: $0.1) },
            payload: stored)
        let entryKey = keys.entry(key)
        var commands = tags.map { tag, _ in
            RedisCommand.evalsha(
                CacheScripts.tagReference, keys: [RedisArgument(keys.version(tag)), RedisArgument(keys.members(tag))],
                arguments: [RedisArgument(entryKey), RedisArgument(expiresAt)])
        }
        commands.append(RedisCommand("SET", RedisArgument(entryKey), RedisArgument(entry.encoded()), "PXAT", RedisArgument(expiresAt)))
        return (entry, commands)
    }

    func payload(of entry: CacheEntry) throws -> [UInt8] {
        entry.compressed ? try Compression.decompress(entry.payload) : entry.payload
    }

    func decode<T: Decodable>(_ type: T.Type, _ entry: CacheEntry, key: String) throws -> T {
        do {
            return try configuration.serializer.decode(T.self, from: try payload(of: entry))
        } catch {
            statistics.count(\.errors)
            throw CacheError(
                .serialization, "the cached value of \(key) does not decode as \(T.self): \(error); delete it or fix the type",
                underlying: error)
        }
    }

    func encode<T: Encodable>(_ value: T, key: String) throws -> [UInt8] {
        do {
            return try configuration.serializer.encode(value)
        } catch {
            throw CacheError(.serialization, "the value for \(key) does not encode: \(error)", underlying: error)
        }
    }

    /// Keeps a value in the memory tier unless one of its tags was invalidated since `mark` (its
    /// versions were read before the broadcast arrived: the value may predate the invalidation).
    func remember(_ key: String, _ value: some Sendable, _ entry: CacheEntry, readAt mark: UInt64?) {
        guard let memory else { return }
        let freshFor = Duration.milliseconds(max(0, entry.freshUntil - Self.nowMilliseconds()))
        memory.set(
            key, value: value, tags: entry.tags.map(\.tag), bytes: entry.payload.count, freshFor: freshFor, readAt: mark ?? 0)
    }

    /// Redis failed before the factory ran: apply the failure policy.
    private func bypass<T>(_ key: String, error: any Error, factory: @Sendable () async throws -> T) async throws -> T {
        statistics.count(\.errors)
        switch configuration.onRedisFailure {
        case .fail:
            throw CacheError(.redis, "cache read of \(key) failed: \(error)", underlying: error)
        case .callFactory:
            logger.debug("cache unavailable; calling the factory uncached", metadata: ["tagwave.cache.key": "\(key)", "error": "\(error)"])
            return try await factory()
        }
    }

    /// Runs `body` once per key at a time in this process; concurrent callers share its result.
    private func singleFlight(_ key: String, _ body: @escaping @Sendable () async throws -> Lookup) async throws -> Lookup {
        let (task, leader) = inflight.withLock { tasks -> (Task<Lookup, any Error>, Bool) in
            if let running = tasks[key] { return (running, false) }
            let task = Task { try await body() }
            tasks[key] = task
            return (task, true)
        }
        defer {
            if leader { _ = inflight.withLock { $0.removeValue(forKey: key) } }
        }
        return try await task.value
    }

    static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Why `tag` cannot be a tag (it is empty or contains a newline, `{` or `}`), or nil when it can.
    /// Invalidating or writing with such a tag throws ``CacheError`` (`invalidTag`) with this text.
    public static func problem(withTag tag: String) -> String? {
        // Bytes, not Characters: the three are ASCII, which no other UTF-8 sequence contains.
        // In place when contiguous (native and small strings are): it runs per tag of every event.
        func refused(_ bytes: some Sequence<UInt8>) -> Bool { bytes.contains { $0 == 0x0A || $0 == 0x7B || $0 == 0x7D } }
        guard tag.isEmpty || (tag.utf8.withContiguousStorageIfAvailable(refused) ?? refused(tag.utf8)) else { return nil }
        return "tag \(tag.debugDescription) is empty or contains a newline, { or }: tags are single-line names like teacher:123"
    }

    func validate(key: String, tags: [String]) throws {
        guard !key.isEmpty, !key.contains("\n") else {
            throw CacheError(.invalidKey, "cache key \(key.debugDescription) is empty or has a newline: use a non-empty single-line key")
        }
        for tag in tags {
            if let problem = Self.problem(withTag: tag) { throw CacheError(.invalidTag, problem) }
        }
    }
}

/// A value set by the leader's factory, read by the leader after its task ends.
///
/// `@unchecked Sendable`: written once inside the single-flight task, read only after awaiting it.
final class Box<T>: @unchecked Sendable {
    var value: T?
}

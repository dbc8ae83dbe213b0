import TagwaveLedger
import TagwaveRedis

/// What `tagwave audit key` found for one cache key: its entry's header in Redis (docs/cache-protocol.md)
/// and the events that invalidated the entry's tags.
public struct KeyAudit: Sendable, Hashable {
    /// One tag of the entry.
    public struct TagState: Sendable, Hashable, Encodable {
        /// The tag.
        public var tag: String
        /// The tag's version the entry was written under.
        public var writtenVersion: String
        /// The tag's version now (absent reads as `0`).
        public var currentVersion: String
        /// True while the versions are equal: the tag has not been invalidated since the write.
        public var current: Bool
    }

    /// The cache key.
    public var key: String
    /// The Redis key of its entry (`tw:e:<key>`).
    public var redisKey: String
    /// Until when the entry is served (Unix epoch ms in its header).
    public var freshUntil: LedgerTimestamp
    /// True when the payload is zlib-compressed.
    public var compressed: Bool
    /// Milliseconds until Redis expires the entry; nil without an expiry.
    public var expiresInMilliseconds: Int64?
    /// The entry's tags, in the writer's order.
    public var tags: [TagState]
    /// True when a reader gets the entry now: every tag current and still fresh.
    public var readable: Bool
    /// The events that invalidated the entry's tags, newest first.
    public var touches: [LedgerTagTouch]
}

/// Audit queries: which events touched a tag, what is behind a cache key, what one event did.
///
/// ```swift
/// let auditor = Auditor(ledger: ledger, redis: redis, cachePrefix: "tw")
/// let touches = try await auditor.tag("teacher:123", since: .now().advanced(by: .seconds(-7 * 86_400)))
/// ```
public struct Auditor: Sendable {
    let ledger: Ledger
    let redis: (any RedisCommanding)?
    let cachePrefix: String

    /// An auditor; `redis` and `cachePrefix` are needed for ``key(_:limit:)`` only.
    public init(ledger: Ledger, redis: (any RedisCommanding)?, cachePrefix: String = "tw") {
        self.ledger = ledger
        self.redis = redis
        self.cachePrefix = cachePrefix
    }

    /// Every time an event invalidated `tag` in `since ..< until`, newest first, with the worker
    /// (or the replaying operator) and the replay run.
    ///
    /// - Throws: ``LedgerError``.
    public func tag(_ tag: String, since: LedgerTimestamp? = nil, until: LedgerTimestamp? = nil, limit: Int = 100)
        async throws
        -> [LedgerTagTouch]
    {
        try await ledger.eventsTouching(tag: tag, since: since, until: until, limit: limit)
    }

    /// The tags cache key `key` is under (read from its entry header in Redis), whether each was
    /// invalidated since the entry was written, and the events that invalidated them.
    ///
    /// - Throws: ``OperationsError``: `notFound` when Redis has no entry under the key, `unavailable`
    ///   without Redis; `RedisError`; ``LedgerError``.
    public func key(_ key: String, limit: Int = 100) async throws -> KeyAudit {
        guard let redis else {
            throw OperationsError(
                .unavailable, "auditing a key reads its entry from Redis: configure Redis (--config, REDIS_URL)")
        }
        let redisKey = "\(cachePrefix):e:\(key)"
        let replies = try await redis.pipeline([
            RedisCommand("GETRANGE", RedisArgument(redisKey), "0", "4095"),
            RedisCommand("PTTL", RedisArgument(redisKey)),
        ])
        guard var bytes = replies[0].bytes, !bytes.isEmpty else {
            throw OperationsError(
                .notFound,
                "no cache entry under \(key) (Redis key \(redisKey)): it expired, was reclaimed after an invalidation, or was "
                    + "never written (check --prefix); `tagwave audit tag TAG` still shows what invalidated its tags")
        }
        var header = CacheEntryHeader(bytes)
        if header == nil, bytes.count == 4096,
            let whole = try await redis.send(RedisCommand("GET", RedisArgument(redisKey))).bytes
        {
            bytes = whole  // a header longer than 4 KiB (many long tags)
            header = CacheEntryHeader(bytes)
        }
        guard let header else {
            throw OperationsError(
                .invalidInput,
                "the value under \(redisKey) is not a Tagwave cache entry (no TW1 header): was it written by something else?"
            )
        }
        let versions =
            header.tags.isEmpty
            ? []
            : try await redis.pipeline(
                header.tags.map { RedisCommand("GET", RedisArgument("\(cachePrefix):{\($0.tag)}:v")) })
        var states: [KeyAudit.TagState] = []
        for (entry, reply) in zip(header.tags, versions) {
            let current = reply.string ?? "0"
            states.append(
                KeyAudit.TagState(
                    tag: entry.tag, writtenVersion: entry.version, currentVersion: current,
                    current: current == entry.version))
        }
        var touches: [LedgerTagTouch] = []
        for state in states {
            touches += try await ledger.eventsTouching(tag: state.tag, limit: limit)
        }
        touches.sort { ($0.invalidatedAt, $0.event.eventID) > ($1.invalidatedAt, $1.event.eventID) }
        let ttl = replies[1].int ?? -2
        return KeyAudit(
            key: key, redisKey: redisKey, freshUntil: LedgerTimestamp(millisecondsSinceEpoch: header.freshUntil),
            compressed: header.compressed, expiresInMilliseconds: ttl >= 0 ? ttl : nil, tags: states,
            readable: states.allSatisfy(\.current) && header.freshUntil > LedgerTimestamp.now().millisecondsSinceEpoch,
            touches: Array(touches.prefix(limit)))
    }
}

/// The header of a cache entry (docs/cache-protocol.md, "Entry format"):
/// `TW1 <fresh-until-ms> <flags> <tag-count>\n` then `<version> <tag>\n` per tag.
struct CacheEntryHeader: Sendable, Hashable {
    var freshUntil: Int64
    var compressed: Bool
    var tags: [(tag: String, version: String)]

    static func == (lhs: CacheEntryHeader, rhs: CacheEntryHeader) -> Bool {
        lhs.freshUntil == rhs.freshUntil && lhs.compressed == rhs.compressed
            && lhs.tags.elementsEqual(rhs.tags) { $0.tag == $1.tag && $0.version == $1.version }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(freshUntil)
        for (tag, version) in tags {
            hasher.combine(tag)
            hasher.combine(version)
        }
    }

    /// Parses the header at the start of `bytes`; nil when it is not one or is cut short.
    init?(_ bytes: [UInt8]) {
        var position = 0
        func line() -> String? {
            guard let end = bytes[position...].firstIndex(of: 0x0A) else { return nil }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        guard let first = line() else { return nil }
        let fields = first.split(separator: " ")
        guard fields.count == 4, fields[0] == "TW1", let fresh = Int64(fields[1]), fields[2] == "-" || fields[2] == "z",
            let count = Int(fields[3]), count >= 0
        else { return nil }
        var tags: [(String, String)] = []
        for _ in 0..<count {
            guard let text = line(), let space = text.firstIndex(of: " ") else { return nil }
            tags.append((String(text[text.index(after: space)...]), String(text[..<space])))
        }
        freshUntil = fresh
        compressed = fields[2] == "z"
        self.tags = tags
    }
}

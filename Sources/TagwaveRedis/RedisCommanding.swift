/// What the cache, the worker and the warmer need of Redis, from one server (``RedisClient``) or a
/// Redis Cluster (``RedisClusterClient``): commands, pipelines and scripts, never blocking Swift's
/// cooperative pool.
///
/// The typed stream commands (`xreadgroup`, `xack`, …) and ``eval(_:keys:arguments:)`` are built
/// on these requirements, so they work on either.
public protocol RedisCommanding: AnyObject, Sendable {
    /// Sends one command and returns its reply; an error reply throws.
    ///
    /// - Parameter blockingFor: for blocking commands, how long the server may hold the reply.
    /// - Throws: ``RedisError``.
    @discardableResult
    func send(_ command: RedisCommand, blockingFor: Duration?) async throws -> RedisReply

    /// Sends commands and returns their replies in order, error replies in their place.
    /// - Throws: ``RedisError`` for connection problems only.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply]

    /// Where a subscriber may connect to hear Pub/Sub messages, tried in turn (a cluster delivers
    /// `PUBLISH` to every node).
    var subscriptionConfigurations: [RedisConfiguration] { get }

    /// True for a Redis Cluster: one command's keys must then share a slot (a hash tag).
    var isCluster: Bool { get }

    /// Where it connects, for messages: `host:port`, or the seeds of a cluster. Never a password.
    var address: String { get }

    /// Reads `stream` for a consumer group (`XREADGROUP GROUP group consumer COUNT count [BLOCK ms]
    /// STREAMS stream id`): its entries, none when `block` ran out; an entry deleted while pending has
    /// nil fields. ``RedisClient`` copies them straight out of hiredis's reply; the default goes
    /// through ``send(_:blockingFor:)``. Call it through ``xreadgroup(group:consumer:stream:id:count:block:)``.
    func readGroup(
        group: String, consumer: String, stream: String, id: String, count: Int, block: Duration?
    ) async throws -> [StreamEntry]

    /// The servers that hold the data, for what each keeps of its own (`INFO`, `DBSIZE`, `SCAN`): this
    /// server, or each primary of a cluster (its slot map read first when needed).
    /// - Throws: ``RedisError`` when a cluster's slot map cannot be read.
    func primaries() async throws -> [any RedisCommanding]

    /// Sends `command` without waiting for its reply and without Swift's cooperative pool (on a
    /// connection's own thread), for heartbeats; false when it could not be sent at once (no idle
    /// connection, or a cluster whose map does not yet name the node of its key).
    func sendDetached(_ command: RedisCommand) -> Bool

    /// Closes every connection; commands after this throw ``RedisError/Code/shutDown``.
    func shutdown() async
}

extension RedisCommanding {
    /// ``readGroup(group:consumer:stream:id:count:block:)`` through ``send(_:blockingFor:)``.
    public func readGroup(
        group: String, consumer: String, stream: String, id: String, count: Int, block: Duration?
    ) async throws -> [StreamEntry] {
        let reply = try await send(
            .xreadgroup(group: group, consumer: consumer, streams: [(stream, id)], count: count, block: block),
            blockingFor: block)
        return try StreamEntry.parseRead(reply).first?.entries ?? []
    }

    /// Sends one command and returns its reply; an error reply throws.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await send(command, blockingFor: nil)
    }

    /// Runs a Lua script by `EVALSHA`, loading it on `NOSCRIPT` (on a cluster, on the node of its keys).
    /// - Throws: ``RedisError`` with the script's error text.
    @discardableResult
    public func eval(_ script: RedisScript, keys: [RedisArgument] = [], arguments: [RedisArgument] = []) async throws -> RedisReply {
        try await send(.evalsha(script, keys: keys, arguments: arguments))
    }
}

extension RedisClient: RedisCommanding {
    public func readGroup(
        group: String, consumer: String, stream: String, id: String, count: Int, block: Duration?
    ) async throws -> [StreamEntry] {
        let command = RedisCommand.xreadgroup(group: group, consumer: consumer, streams: [(stream, id)], count: count, block: block)
        return try await withConnection { try $0.readStream(command, blockingFor: block) }
    }

    public func primaries() async throws -> [any RedisCommanding] { [self] }

    public var subscriptionConfigurations: [RedisConfiguration] { [configuration] }
    public var isCluster: Bool { false }
    public var address: String { configuration.address }
}

extension RedisClusterClient: RedisCommanding {
    public var subscriptionConfigurations: [RedisConfiguration] { seeds }
    public var isCluster: Bool { true }
    public var address: String { "cluster " + seeds.map(\.address).joined(separator: ",") }
}

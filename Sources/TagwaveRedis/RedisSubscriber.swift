import Logging
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import _TagwaveThreads

/// A Pub/Sub subscription on a connection and thread of its own, resubscribing after reconnects.
///
/// ```swift
/// let subscriber = RedisSubscriber(configuration: configuration, logger: logger)
/// for await event in subscriber.events(channels: ["tw:inval"]) {
///     if case .message(_, let payload) = event { … }
/// }
/// ```
/// A gap in the subscription is reported as ``Event/disconnected(_:)``: messages published while
/// disconnected are lost (that is Pub/Sub), so a consumer that keeps derived state (an in-memory
/// cache tier) must drop it then.
///
/// Given several nodes (a Redis Cluster delivers `PUBLISH` on every node), it subscribes on the first
/// that answers and moves to the next when its node fails.
public final class RedisSubscriber: Sendable {
    /// What the subscription delivers.
    public enum Event: Sendable, Equatable {
        /// Subscribed (again): messages from now on are delivered.
        case subscribed
        /// A message on `channel`.
        case message(channel: String, payload: [UInt8])
        /// The connection broke; messages may have been missed until the next ``subscribed``.
        case disconnected(String)
    }

    private let configurations: [RedisConfiguration]
    private let logger: Logger

    /// A subscriber on one server; nothing connects until ``events(channels:)`` is iterated.
    public convenience init(configuration: RedisConfiguration, logger: Logger) {
        self.init(configurations: [configuration], logger: logger)
    }

    /// A subscriber on any of `configurations` (nodes of one cluster), tried in turn.
    public init(configurations: [RedisConfiguration], logger: Logger) {
        precondition(!configurations.isEmpty, "a subscriber needs at least one node")
        self.configurations = configurations
        self.logger = logger
    }

    /// Subscribes to `channels` and delivers events until the consuming task stops iterating.
    public func events(channels: [String]) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(10_000))
        let box = StopFlag()
        continuation.onTermination = { _ in box.stop() }
        let thread = OwnedThread(name: "tagwave-redis-subscriber")
        let configurations = self.configurations
        let logger = self.logger
        thread.submit {
            var node = 0
            func connect(_ index: Int) -> RedisConnection {
                let configuration = configurations[index]
                var logger = logger
                logger[metadataKey: "redis.address"] = "\(configuration.address)"
                let health = ConnectionHealth(initialDelay: configuration.initialReconnectDelay, maxDelay: configuration.maxReconnectDelay)
                return RedisConnection(configuration: configuration, logger: logger, health: health)
            }
            var connection = connect(node)
            var subscribed = false
            while !box.isStopped {
                do {
                    if !subscribed {
                        try connection.write([RedisCommand("SUBSCRIBE", channels.map { RedisArgument($0) })])
                        subscribed = true
                    }
                    guard let reply = try connection.read(timeout: .milliseconds(200)), let parts = reply.array,
                        parts.count >= 3, let kind = parts[0].string
                    else { continue }
                    if kind == "message", let channel = parts[1].string {
                        continuation.yield(.message(channel: channel, payload: parts[2].bytes ?? []))
                    } else if kind == "subscribe", parts[2].int == Int64(channels.count) {
                        continuation.yield(.subscribed)
                    }
                } catch {
                    if subscribed { continuation.yield(.disconnected("\(error)")) }
                    subscribed = false
                    connection.close()
                    if configurations.count > 1 {
                        node = (node + 1) % configurations.count
                        connection = connect(node)
                    }
                    Self.pause(milliseconds: 50)
                }
            }
            connection.close()
            continuation.finish()
            thread.shutdown()
        }
        return stream
    }

    private static func pause(milliseconds: Int) {
        usleep(UInt32(milliseconds * 1000))
    }

    /// Shared between the consuming task and the subscriber's thread.
    private final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func stop() { flag.store(true, ordering: .relaxed) }
        var isStopped: Bool { flag.load(ordering: .relaxed) }
    }
}

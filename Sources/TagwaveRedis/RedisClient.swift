import Logging
import Synchronization
import _TagwaveThreads

/// An async Redis client over a small pool of hiredis connections, each on a thread of its own.
///
/// Calls never block Swift's cooperative pool: the awaiting task is suspended while the command runs
/// on the connection's ``OwnedThread``. A blocking read (`XREADGROUP … BLOCK`) occupies one
/// connection; the others stay available.
///
/// ```swift
/// let redis = try RedisClient(configuration: RedisConfiguration(url: "redis://127.0.0.1:6379/0"), logger: logger)
/// try await redis.send(RedisCommand("SET", "greeting", "hello"))
/// let value = try await redis.send(RedisCommand("GET", "greeting")).string  // "hello"
/// ```
public final class RedisClient: Sendable {
    /// The configuration every connection uses.
    public let configuration: RedisConfiguration
    private let slots: [Slot]
    private let pool: Mutex<PoolState>
    private let roundTripCount = Atomic<Int>(0)

    /// Round trips to the server so far (a pipeline is one; a reconnect's handshake is not counted).
    /// Exposed for metrics and for tests that check a promise of "one round trip".
    public var roundTrips: Int { roundTripCount.load(ordering: .relaxed) }

    /// A connection and the thread it is confined to.
    ///
    /// `@unchecked Sendable`: `connection` is only touched from jobs on `thread`, and a slot is
    /// leased to one caller at a time by ``PoolState``.
    private final class Slot: @unchecked Sendable {
        let thread: OwnedThread
        let connection: RedisConnection

        init(index: Int, configuration: RedisConfiguration, logger: Logger, health: ConnectionHealth) {
            self.thread = OwnedThread(name: "tagwave-redis-\(index)")
            self.connection = RedisConnection(configuration: configuration, logger: logger, health: health)
        }
    }

    private struct PoolState: ~Copyable {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, any Error>] = []
        var shutDown = false
    }

    /// Creates a client. Nothing connects until the first command.
    ///
    /// - Parameters:
    ///   - configuration: where to connect; see ``RedisConfiguration/fromEnvironment(_:base:)``.
    ///   - logger: where connection failures and recoveries are reported (once per outage).
    public init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        let size = max(1, configuration.poolSize)
        var logger = logger
        logger[metadataKey: "redis.address"] = "\(configuration.address)"
        let health = ConnectionHealth(
            initialDelay: configuration.initialReconnectDelay, maxDelay: configuration.maxReconnectDelay)
        let slots = (0..<size).map { Slot(index: $0, configuration: configuration, logger: logger, health: health) }
        self.slots = slots
        self.pool = Mutex(PoolState(idle: Array(slots.indices.reversed())))
    }

    deinit {
        for slot in slots { slot.thread.shutdown() }
    }

    /// Closes every connection and ends the threads. Commands after this throw ``RedisError/Code/shutDown``.
    public func shutdown() async {
        let waiters = pool.withLock { state in
            state.shutDown = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: RedisError(.shutDown, "the Redis client was shut down")) }
        for slot in slots {
            _ = try? await slot.thread.run { [slot] in slot.connection.close() }
            slot.thread.shutdown()
        }
    }

    /// Runs `body` with exclusive use of one connection, on that connection's own thread.
    ///
    /// Use it for work that needs several round trips on one connection without a hop per command
    /// (a batch: read, pipeline, acknowledge). `body` runs synchronously and may block; it must not
    /// keep the connection after returning.
    /// - Throws: what `body` throws, or ``RedisError/Code/shutDown``.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        let index = try await lease()
        roundTripCount.add(1, ordering: .relaxed)
        defer { release(index) }
        let slot = slots[index]
        do {
            return try await slot.thread.run { [slot] in try body(slot.connection) }
        } catch is OwnedThreadError {
            throw RedisError(.shutDown, "the Redis client was shut down")
        }
    }

    /// Sends one command and returns its reply.
    ///
    /// - Parameter blockingFor: for blocking commands, how long the server may hold the reply.
    /// - Throws: ``RedisError``: the server's error text, or a connection problem.
    @discardableResult
    public func send(_ command: RedisCommand, blockingFor: Duration?) async throws -> RedisReply {
        try await withConnection { try $0.send(command, blockingFor: blockingFor) }
    }

    /// Sends all commands with one write and reads all replies (error replies in their place).
    /// - Throws: ``RedisError`` for connection problems only.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await withConnection { try $0.pipeline(commands) }
    }

    /// Sends `command` on an idle connection's own thread without waiting for its reply, and
    /// without Swift's cooperative pool: for a heartbeat that must go out however busy the process's
    /// tasks are. The reply, an error included, is dropped.
    /// - Returns: false when no connection was idle (nothing was sent) or the client is shut down.
    public func sendDetached(_ command: RedisCommand) -> Bool {
        let index: Int? = pool.withLock { state in state.shutDown ? nil : state.idle.popLast() }
        guard let index else { return false }
        roundTripCount.add(1, ordering: .relaxed)
        let slot = slots[index]
        let submitted = slot.thread.submit { [self, slot] in
            _ = try? slot.connection.send(command, blockingFor: nil)
            release(index)
        }
        if !submitted { release(index) }
        return submitted
    }

    // MARK: Pool

    private func lease() async throws -> Int {
        enum Lease { case ready(Int), shutDown, wait }
        let immediate: Lease = pool.withLock { state in
            if state.shutDown { return .shutDown }
            if let index = state.idle.popLast() { return .ready(index) }
            return .wait
        }
        switch immediate {
        case .ready(let index): return index
        case .shutDown: throw RedisError(.shutDown, "the Redis client was shut down")
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                // Checked again under the lock: a shutdown between the two locks has already
                // resumed the waiters it saw, and would never resume this one.
                let lease: Lease = pool.withLock { state in
                    if state.shutDown { return .shutDown }
                    if let index = state.idle.popLast() { return .ready(index) }
                    state.waiters.append(continuation)
                    return .wait
                }
                switch lease {
                case .ready(let index): continuation.resume(returning: index)
                case .shutDown: continuation.resume(throwing: RedisError(.shutDown, "the Redis client was shut down"))
                case .wait: break
                }
            }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, any Error>? = pool.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(index)
            return nil
        }
        waiter?.resume(returning: index)
    }
}

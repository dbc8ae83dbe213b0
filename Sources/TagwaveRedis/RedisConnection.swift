import CHiredis
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One blocking hiredis connection. With its ``ReplyArena``, the only code in Tagwave that touches
/// hiredis's C API.
///
/// A connection is confined to one thread: the ``RedisClient`` that owns it runs every call on
/// that connection's ``OwnedThread`` (never on Swift's cooperative pool), and hands it out only
/// inside ``RedisClient/withConnection(_:)`` closures, which run on that thread too.
/// Do not store it or pass it to another thread.
///
/// It connects lazily, authenticates and selects the database on every (re)connect, and after a
/// failure reconnects with capped exponential backoff (``ReconnectBackoff``), logging one line
/// when an outage starts and one when it ends.
public final class RedisConnection {
    /// The configuration it connects with.
    public let configuration: RedisConfiguration
    private let logger: Logger
    private var context: UnsafeMutablePointer<redisContext>?
    /// Where hiredis builds each reply of this connection (see ``ReplyArena``).
    private let reply = ReplyArena()
    /// Shared by every connection of one client: one outage, one backoff, one log line.
    private let health: ConnectionHealth
    private var lastUsed: UInt64 = 0
    /// A connection idle for longer than this is checked for a half-closed socket before use,
    /// so a command after a server restart goes to a fresh connection instead of failing.
    private static let idleCheckAfter: UInt64 = 1_000_000_000

    init(configuration: RedisConfiguration, logger: Logger, health: ConnectionHealth) {
        self.configuration = configuration
        self.logger = logger
        self.health = health
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// True while a TCP connection is established (it may still turn out to be broken on use).
    public var isConnected: Bool { context != nil }

    // MARK: Commands

    /// Sends one command and waits for its reply.
    ///
    /// - Parameters:
    ///   - command: the command.
    ///   - blockingFor: for blocking commands (`XREADGROUP … BLOCK`, `BLPOP`): how long the server may
    ///     hold the reply; it is added to the command timeout.
    /// - Returns: the reply. An error reply throws instead.
    /// - Throws: ``RedisError``: ``RedisError/Code/server`` with the server's text, or a connection
    ///   problem (``RedisError/isConnectionProblem``) after which the outcome of the command is unknown.
    @discardableResult
    public func send(_ command: RedisCommand, blockingFor: Duration? = nil) throws -> RedisReply {
        let reply = try roundTrip([command], blockingFor: blockingFor)[0]
        if case .error(let text) = reply {
            if let fallback = command.evalFallback, text.hasPrefix("NOSCRIPT") {
                return try send(fallback).throwingServerError(command: "EVAL")
            }
            throw RedisError.server(text, command: command.name)
        }
        return reply
    }

    /// Writes all commands with one flush, then reads their replies, in order.
    ///
    /// Error replies are returned as ``RedisReply/error(_:)`` values in their place; an `EVALSHA`
    /// the server does not know is retried once with `EVAL` and its reply put in its place.
    /// - Throws: ``RedisError`` for connection problems only; the outcome of every command is then unknown.
    public func pipeline(_ commands: [RedisCommand]) throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        var replies = try roundTrip(commands, blockingFor: nil)
        let missing = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true && commands[$0].script != nil }
        if !missing.isEmpty {
            let retried = try roundTrip(missing.map { commands[$0].evalFallback! }, blockingFor: nil)
            for (index, reply) in zip(missing, retried) { replies[index] = reply }
        }
        return replies
    }

    /// Writes commands without waiting for replies (`SUBSCRIBE`: its confirmations arrive as pushes).
    /// - Throws: ``RedisError`` for connection problems.
    public func write(_ commands: [RedisCommand]) throws {
        let context = try connectedContext()
        guard Self.append(commands, to: context) else { throw broken(context, during: commands.first?.name ?? "write") }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { throw broken(context, during: commands.first?.name ?? "write") }
        }
        lastUsed = Self.now()
    }

    /// Reads the next reply or push message if one arrives within `timeout`.
    ///
    /// Unlike a command timeout, running out of time here leaves the connection usable.
    /// - Returns: the reply, or nil when nothing arrived in time.
    /// - Throws: ``RedisError`` when the connection breaks.
    public func read(timeout: Duration) throws -> RedisReply? {
        guard let context else { throw RedisError(.connectionLost, "not connected to Redis at \(configuration.address)") }
        let deadline = Self.now() + timeout.nanoseconds
        while true {
            var raw: UnsafeMutableRawPointer?
            if redisGetReplyFromReader(context, &raw) != REDIS_OK { throw broken(context, during: "read") }
            // Without a whole reply yet, the arena keeps what hiredis parsed of it so far.
            if raw != nil {
                defer { reply.reset() }
                lastUsed = Self.now()
                return reply.decode()
            }
            let now = Self.now()
            guard now < deadline else { return nil }
            var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min((deadline - now) / 1_000_000 + 1, 1000)))
            if ready > 0, redisBufferRead(context) != REDIS_OK { throw broken(context, during: "read") }
        }
    }

    /// Drops the TCP connection; the next command reconnects.
    public func close() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    // MARK: Wire

    private func roundTrip(_ commands: [RedisCommand], blockingFor: Duration?) throws -> [RedisReply] {
        try roundTrip(commands, blockingFor: blockingFor) { $0.decode() }
    }

    /// Writes `commands` with one flush and converts each reply while it is still in the arena;
    /// `convert` must copy what it keeps.
    private func roundTrip<T>(
        _ commands: [RedisCommand], blockingFor: Duration?, convert: (ReplyArena) throws -> T
    ) throws -> [T] {
        let context = try connectedContext()
        if let blockingFor { setTimeout(context, configuration.commandTimeout + blockingFor) }
        defer {
            if blockingFor != nil, let current = self.context { setTimeout(current, configuration.commandTimeout) }
        }
        guard Self.append(commands, to: context) else { throw broken(context, during: commands.first?.name ?? "command") }
        var replies: [T] = []
        replies.reserveCapacity(commands.count)
        for command in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                throw broken(context, during: command.name)
            }
            defer { reply.reset() }
            lastUsed = Self.now()
            replies.append(try convert(reply))
        }
        return replies
    }

    /// Sends an `XREADGROUP` or `XREAD` of one stream and returns its entries, copied straight out of
    /// the reply arena: a batch of a thousand entries builds no `RedisReply` tree on the way.
    /// - Throws: ``RedisError``: `server` for an error reply (e.g. `NOGROUP`), `unexpectedReply` for
    ///   another shape, or a connection problem.
    public func readStream(_ command: RedisCommand, blockingFor: Duration?) throws -> [StreamEntry] {
        try roundTrip([command], blockingFor: blockingFor) { reply in
            try Self.streamEntries(reply, command: command.name)
        }[0]
    }

    /// The entries of the first stream of an `XREADGROUP`/`XREAD` reply; none for a nil reply (the
    /// `BLOCK` ran out). An entry deleted while pending has nil fields.
    static func streamEntries(_ reply: ReplyArena, command: String) throws -> [StreamEntry] {
        guard reply.count > 0 else { return [] }
        let top = reply.node(0)
        switch top.type {
        case REDIS_REPLY_NIL: return []
        case REDIS_REPLY_ERROR: throw RedisError.server(reply.text(of: top), command: command)
        case REDIS_REPLY_ARRAY: break
        default: throw RedisError.unexpected(reply.decode(), expected: "an array of streams")
        }
        guard top.count > 0 else { return [] }
        // [[name, [entry, …]], …] in pre-order: node 1 is the first stream, 2 its name, 3 its entries.
        guard reply.count > 3, reply.node(1).type == REDIS_REPLY_ARRAY, reply.node(1).count == 2,
            reply.node(2).type == REDIS_REPLY_STRING, reply.node(3).type == REDIS_REPLY_ARRAY
        else {
            throw RedisError.unexpected(reply.decode(), expected: "[[stream, entries]]")
        }
        let count = Int(reply.node(3).count)
        var entries: [StreamEntry] = []
        entries.reserveCapacity(count)
        var index = 4
        for _ in 0..<count {
            // [id, [name, value, …]], or [id, nil] for an entry deleted while pending.
            let start = index
            guard index + 2 < reply.count, reply.node(index).type == REDIS_REPLY_ARRAY, reply.node(index).count == 2,
                reply.node(index + 1).type == REDIS_REPLY_STRING,
                let id = StreamID(utf8: reply.bytes(of: reply.node(index + 1)))
            else {
                var at = start
                throw RedisError.unexpected(reply.decode(at: &at), expected: "a stream entry [id, fields]")
            }
            index += 2
            let flat = reply.node(index)
            guard flat.type == REDIS_REPLY_ARRAY else {
                reply.skip(at: &index)
                entries.append(StreamEntry(deleted: id))
                continue
            }
            index += 1
            let pairs = Int(flat.count) / 2
            // Names and values are string nodes in a row: copied once, into the entry's one buffer.
            let first = index
            var bytes = 0
            var strings = first + 2 * pairs <= reply.count
            for position in first..<(strings ? first + 2 * pairs : first) {
                let node = reply.node(position)
                guard node.type == REDIS_REPLY_STRING || node.type == REDIS_REPLY_STATUS else {
                    strings = false
                    break
                }
                bytes += Int(node.count)
            }
            if strings {
                entries.append(StreamEntry(id: id, fieldCount: pairs, bytes: bytes) { append in
                    for pair in 0..<pairs {
                        append(reply.bytes(of: reply.node(first + 2 * pair)), reply.bytes(of: reply.node(first + 2 * pair + 1)))
                    }
                })
                index = first + 2 * pairs
            } else {
                var fields: [StreamField] = []
                for _ in 0..<pairs {
                    let name = fieldBytes(reply, at: &index)
                    fields.append(StreamField(name: name, value: fieldBytes(reply, at: &index)))
                }
                entries.append(StreamEntry(id: id, fields: fields))
            }
            if flat.count % 2 == 1 { reply.skip(at: &index) }
        }
        return entries
    }

    /// A bulk string's bytes, empty for anything else (as ``RedisReply/bytes`` reads it); `index`
    /// moves past the node.
    private static func fieldBytes(_ reply: ReplyArena, at index: inout Int) -> [UInt8] {
        let node = reply.node(index)
        guard node.type == REDIS_REPLY_STRING || node.type == REDIS_REPLY_STATUS else {
            reply.skip(at: &index)
            return []
        }
        index += 1
        return Array(reply.bytes(of: node))
    }

    /// Appends `commands` to the context's output buffer, encoded by ``RedisCommand/encodeRESP(into:)``
    /// into one buffer: one copy, where `redisAppendCommandArgv` formats each argument with `sdscatfmt`
    /// and copies each command twice.
    private static func append(_ commands: [RedisCommand], to context: UnsafeMutablePointer<redisContext>) -> Bool {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(commands.reduce(0) { $0 + $1.encodedSizeEstimate })
        for command in commands { command.encodeRESP(into: &buffer) }
        return buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                redisAppendFormattedCommand(context, text.baseAddress, text.count) == REDIS_OK
            }
        }
    }

    // MARK: Connecting

    private func connectedContext() throws -> UnsafeMutablePointer<redisContext> {
        if let context {
            if Self.now() &- lastUsed > Self.idleCheckAfter, Self.peerClosed(context.pointee.fd) {
                logger.debug("idle Redis connection was closed by the server; reconnecting")
                close()
            } else {
                return context
            }
        }
        if let refusal = health.refusal(at: Self.now()) { throw refusal }
        do {
            let context = try connect()
            self.context = context
            if case .recovered(let attempts, let downtime) = health.attemptSucceeded(at: Self.now()) {
                logger.notice(
                    "reconnected to Redis at \(configuration.address) after \(attempts) attempt(s), down \(downtime / 1_000_000) ms")
            }
            lastUsed = Self.now()
            return context
        } catch let error as RedisError {
            if health.attemptFailed(error, at: Self.now()) == .outageStarted {
                logger.error("\(error.message)")
            } else {
                logger.debug("reconnect failed: \(error.message)")
            }
            throw error
        }
    }

    private func connect() throws -> UnsafeMutablePointer<redisContext> {
        let address = configuration.address
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), Self.timeval(configuration.connectTimeout)) else {
            throw RedisError(.connectionFailed, "cannot connect to \(address): out of memory")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw RedisError(
                .connectionFailed,
                "cannot connect to \(address): \(reason.lowercased()) — is redis-server running? set REDIS_URL (redis://host:port/db) or REDIS_HOST/REDIS_PORT"
            )
        }
        _ = redisEnableKeepAlive(context)
        reply.reset()
        tagwave_reply_arena_install(context, reply.pointer)
        // Keep up to 1 MiB of read buffer between replies: by default hiredis frees it once it is
        // empty with over 16 KiB unused, so every large reply (a batch of stream entries) grew it
        // from nothing again, copying it at each doubling.
        context.pointee.reader.pointee.maxbuf = 1 << 20
        setTimeout(context, configuration.commandTimeout)
        self.context = context
        do {
            try handshake()
        } catch {
            close()
            throw error
        }
        return context
    }

    private func handshake() throws {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let user = configuration.username {
                commands.append(RedisCommand("AUTH", RedisArgument(user), RedisArgument(password)))
            } else {
                commands.append(RedisCommand("AUTH", RedisArgument(password)))
            }
        }
        if configuration.database != 0 { commands.append(RedisCommand("SELECT", RedisArgument(configuration.database))) }
        if let name = configuration.clientName { commands.append(RedisCommand("CLIENT", "SETNAME", RedisArgument(name))) }
        guard !commands.isEmpty, let context else { return }
        let replies: [RedisReply]
        do {
            replies = try roundTripOnHandshake(context, commands)
        }
        for (command, reply) in zip(commands, replies) {
            guard case .error(let text) = reply else { continue }
            switch command.name {
            case "AUTH":
                let user = configuration.username ?? "default"
                if text.hasPrefix("WRONGPASS") || text.contains("invalid password") || text.contains("invalid username") {
                    throw RedisError(
                        .authenticationFailed,
                        "authentication failed for user '\(user)' at \(configuration.address): check the password (REDIS_PASSWORD or the URL's user:password@)",
                        serverMessage: text)
                }
                throw RedisError(
                    .authenticationFailed, "authentication failed for user '\(user)' at \(configuration.address): \(text)",
                    serverMessage: text)
            case "SELECT":
                throw RedisError(
                    .invalidConfiguration,
                    "cannot select database \(configuration.database) at \(configuration.address): \(text)",
                    serverMessage: text)
            default:
                throw RedisError.server(text, command: command.name)
            }
        }
    }

    /// The handshake's round trip: like ``roundTrip(_:blockingFor:)`` but on a context not yet published.
    private func roundTripOnHandshake(_ context: UnsafeMutablePointer<redisContext>, _ commands: [RedisCommand]) throws -> [RedisReply] {
        guard Self.append(commands, to: context) else {
            throw RedisError(.connectionFailed, "cannot connect to \(configuration.address): \(Self.errorText(context))")
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, raw != nil else {
                throw RedisError(.connectionFailed, "cannot connect to \(configuration.address): \(Self.errorText(context))")
            }
            replies.append(reply.decode())
            reply.reset()
        }
        return replies
    }

    /// Turns a failed read or write into an error, drops the connection and starts an outage.
    private func broken(_ context: UnsafeMutablePointer<redisContext>, during command: String) -> RedisError {
        let err = context.pointee.err
        let savedErrno = errno
        let reason = Self.errorText(context)
        close()
        let error: RedisError
        if err == REDIS_ERR_IO && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK) {
            error = RedisError(
                .timeout,
                "Redis at \(configuration.address) did not answer \(command) within \(configuration.commandTimeout): the outcome is unknown; the connection was reset")
        } else {
            error = RedisError(
                .connectionLost,
                "lost the connection to Redis at \(configuration.address) during \(command): \(reason.lowercased()); the outcome is unknown, it will reconnect")
        }
        if health.connectionLost(error, at: Self.now()) == .outageStarted {
            logger.warning("\(error.message)")
        }
        return error
    }

    private func setTimeout(_ context: UnsafeMutablePointer<redisContext>, _ duration: Duration) {
        _ = redisSetTimeout(context, Self.timeval(duration))
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let nanoseconds = duration.nanoseconds
        return Glibc.timeval(tv_sec: Int(nanoseconds / 1_000_000_000), tv_usec: Int(nanoseconds % 1_000_000_000 / 1000))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "unknown error" : text
        }
    }

    /// True when the server closed the socket (readable with nothing to read, or hung up).
    private static func peerClosed(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        if descriptor.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

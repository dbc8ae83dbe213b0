import Logging
import Synchronization
import TagwaveEvents
import TagwaveRedis

/// Publishes domain events to the Redis stream the workers read (the envelope of SPEC §3), and
/// keeps them through Redis outages in a durable spool.
///
/// - One event or a batch per call; a batch is one pipelined round trip.
/// - Every event is checked before it is sent (``TagwaveEvents/Event/validate(maxPayloadBytes:)``), so
///   a bad event is refused at once with the field named, never dead-lettered later.
/// - An event without an `id` gets a time-ordered one (UUID version 7 layout), so the worker can
///   deduplicate it and the id survives spooling.
/// - With a spool (``PublisherConfiguration/spoolPath``), an event that cannot reach Redis is
///   committed to an SQLite file and the call returns ``PublishReceipt/Outcome/spooled(sequence:)``.
///   While the spool holds events, new ones queue behind them, so the stream receives events in
///   the order they were published. ``drain()`` (or ``run()``, periodically) delivers them in order
///   and deletes each batch only after Redis acknowledged it: at-least-once, an event may arrive
///   twice if the process dies between the two, and the worker deduplicates it by id.
///
/// ```swift
/// let publisher = try Publisher(
///     redis: redis,
///     configuration: PublisherConfiguration(spoolPath: "/var/lib/myservice/publisher-spool.sqlite"),
///     logger: logger)
/// // In a ServiceGroup, or a task of its own: delivers spooled events when Redis is back.
/// Task { await publisher.run() }
/// let receipt = try await publisher.publish(
///     Event(type: "session.created", payload: .object([("teacherId", .string("t1"))]), source: "api"))
/// ```
public final class Publisher: Sendable {
    /// The configuration it was created with.
    public let configuration: PublisherConfiguration

    let redis: any RedisCommanding
    let logger: Logger
    let spool: PublisherSpool?
    /// One drain at a time, so no spooled event is sent twice by two drains.
    let drainLock = AsyncLock()
    /// What was logged about the current outage, so it is reported once, not once per event.
    let outage = Mutex(OutageLog())

    struct OutageLog {
        /// Events are being spooled because Redis was unreachable.
        var spooling = false
        /// The latest drain failed (reported once until one succeeds).
        var drainFailing = false
    }

    /// An event ready to send: its id and its stream fields.
    struct PreparedEvent: Sendable {
        var id: String
        var fields: [StreamField]
    }

    /// Creates a publisher. With a spool path it checks the spool's directory now and opens the file
    /// on a thread of its own (a failure to open is logged at once and thrown by the first call that
    /// needs the spool).
    ///
    /// Events left in the spool by an earlier run are delivered first, before any new event.
    ///
    /// - Parameters:
    ///   - redis: The client to publish with: one server, or a Redis Cluster (the stream lives on the
    ///     node of its slot). The publisher does not shut it down.
    ///   - configuration: The stream, the spool and the trimming policy.
    ///   - logger: Where outages and drains are reported (once per outage).
    /// - Throws: ``PublisherError``: ``PublisherError/Code/invalidConfiguration`` for an unusable
    ///   configuration, e.g. ``PublisherTrim/approximateMaxLength(_:allowDroppingUnprocessed:)``
    ///   without the opt-in; ``PublisherError/Code/spool`` when the spool's directory is missing.
    public init(redis: any RedisCommanding, configuration: PublisherConfiguration, logger: Logger) throws {
        if let why = configuration.whyInvalid {
            throw PublisherError(.invalidConfiguration, "invalid publisher configuration: \(why)")
        }
        var logger = logger
        logger[metadataKey: "tagwave.stream"] = "\(configuration.stream)"
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
        self.spool = try configuration.spoolPath.map { try PublisherSpool(path: $0, logger: logger) }
    }

    /// Publishes one event.
    ///
    /// - Parameter event: The event; when its `id` is nil a time-ordered id is generated.
    /// - Returns: Its receipt: the stream entry id, or the spool sequence number.
    /// - Throws: ``PublisherError``: ``PublisherError/Code/invalidEvent`` naming the field at fault
    ///   (nothing was sent); ``PublisherError/Code/redisUnavailable`` when Redis is unreachable and
    ///   there is no spool; ``PublisherError/Code/redisRefused``; ``PublisherError/Code/spool``.
    public func publish(_ event: Event) async throws -> PublishReceipt {
        try await publish([event])[0]
    }

    /// Publishes events in one pipelined round trip (or one spool transaction), in order.
    ///
    /// All events are validated first: if one is invalid, none is sent.
    ///
    /// - Parameter events: The events, in the order they are to reach the stream.
    /// - Returns: One receipt per event, in the same order.
    /// - Throws: ``PublisherError``, as for a single event; ``PublisherError/eventIndex`` tells which
    ///   event of the batch was at fault.
    public func publish(_ events: [Event]) async throws -> [PublishReceipt] {
        guard !events.isEmpty else { return [] }
        let prepared = try prepare(events)
        if let spool, spool.mayHoldEvents,
            let sequences = try await spool.append(
                prepared.map(\.fields), stream: configuration.stream, attempts: 0,
                lastError: "queued behind earlier spooled events", onlyIfNonEmpty: true)
        {
            return zip(prepared, sequences).map { PublishReceipt(eventID: $0.id, outcome: .spooled(sequence: $1)) }
        }
        return try await send(prepared)
    }

    /// The number of events in the spool, waiting for Redis (0 without a spool).
    ///
    /// - Throws: ``PublisherError`` (``PublisherError/Code/spool``) when the spool cannot be read.
    public func spooledCount() async throws -> Int {
        try await spool?.count() ?? 0
    }

    /// Closes the spool file (releasing its lock). Spooled events stay in it for the next publisher
    /// on that file. Publishing afterwards throws when it needs the spool. Calling it again does nothing.
    public func shutdown() async {
        await spool?.close()
    }

    /// A new time-ordered event id, as the publisher generates for events without one: the UUID
    /// version 7 layout (48 bits of Unix milliseconds, then random bits) in lower-case UUID text.
    ///
    /// Ids from one process strictly increase, and their text sorts in the same order. Use it to
    /// know an event's id before publishing it, e.g. to log it.
    public static func makeEventID() -> String {
        TimeOrderedID.next()
    }

    // MARK: Sending

    private func prepare(_ events: [Event]) throws(PublisherError) -> [PreparedEvent] {
        var prepared: [PreparedEvent] = []
        prepared.reserveCapacity(events.count)
        for (index, original) in events.enumerated() {
            var event = original
            let id = event.id ?? TimeOrderedID.next()
            event.id = id
            do {
                try event.validate(maxPayloadBytes: configuration.maxPayloadBytes)
            } catch {
                throw PublisherError.invalidEvent(error, index: index, count: events.count, type: event.type)
            }
            let fields = event.encodeFields().map { StreamField(name: Array($0.name.utf8), value: $0.value) }
            prepared.append(PreparedEvent(id: id, fields: fields))
        }
        return prepared
    }

    private func send(_ prepared: [PreparedEvent]) async throws -> [PublishReceipt] {
        let trim = configuration.trim.streamTrim
        let commands = prepared.map { RedisCommand.xadd(configuration.stream, fields: $0.fields, trim: trim) }
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline(commands)
        } catch let error as RedisError where error.isConnectionProblem {
            return try await spoolUndelivered(prepared, Array(prepared.indices), reason: error.message, cause: error)
        } catch {
            throw PublisherError(
                .redisUnavailable,
                "cannot publish to Redis: \(error); \(Self.nothingPublished(prepared.count))", underlying: error)
        }

        var receipts: [PublishReceipt?] = Array(repeating: nil, count: prepared.count)
        var temporarilyRefused: [Int] = []
        var refused: [(index: Int, message: String)] = []
        for (index, reply) in replies.enumerated() {
            if let message = reply.errorMessage {
                if Self.isTemporaryRefusal(message) {
                    temporarilyRefused.append(index)
                } else {
                    refused.append((index, message))
                }
            } else if let text = reply.string, let id = StreamID(text) {
                receipts[index] = PublishReceipt(eventID: prepared[index].id, outcome: .delivered(id))
            } else {
                refused.append((index, "XADD answered \(reply) instead of an entry id"))
            }
        }
        if let first = temporarilyRefused.first, let message = replies[first].errorMessage {
            let delivered = receipts.lazy.compactMap { $0 }.count
            let spooled = try await spoolUndelivered(
                prepared, temporarilyRefused, reason: "Redis refused XADD for now: \(message)", cause: nil,
                delivered: delivered)
            for (index, receipt) in zip(temporarilyRefused, spooled) { receipts[index] = receipt }
        }
        if let first = refused.first {
            let delivered = receipts.lazy.compactMap { $0 }.count
            let which =
                prepared.count == 1
                ? "the event" : "\(refused.count) of \(prepared.count) events (first: \(first.index))"
            throw PublisherError(
                .redisRefused,
                "Redis refused XADD to stream `\(configuration.stream)` for \(which): \(first.message); "
                    + (prepared.count == 1 ? "it was not published" : "\(delivered) were published")
                    + ". Check that the key `\(configuration.stream)` is a stream and that the Redis user may XADD "
                    + "to it",
                eventIndex: prepared.count == 1 ? nil : first.index)
        }
        return receipts.compactMap { $0 }
    }

    /// Spools the events at `indices` after Redis could not take them, or throws
    /// ``PublisherError/Code/redisUnavailable`` without a spool.
    private func spoolUndelivered(
        _ prepared: [PreparedEvent], _ indices: [Int], reason: String, cause: RedisError?, delivered: Int = 0
    ) async throws -> [PublishReceipt] {
        guard let spool else {
            let outcomeUnknown = cause.map { $0.code == .connectionLost || $0.code == .timeout } ?? false
            let lost: String
            if outcomeUnknown {
                lost =
                    (indices.count == 1
                        ? "the event may or may not have been appended"
                        : "\(indices.count) events may or may not have been appended")
                    + " (retrying is safe when they keep their ids, since the worker deduplicates by id: set Event.id "
                    + "yourself, or use Publisher.makeEventID())"
            } else if indices.count == prepared.count {
                lost = Self.nothingPublished(prepared.count)
            } else {
                lost = "\(indices.count) of \(prepared.count) events were not published (\(delivered) were)"
            }
            throw PublisherError(
                .redisUnavailable,
                "Redis is unavailable: \(reason); \(lost). Retry when Redis is back, or give the publisher a spool "
                    + "(PublisherConfiguration.spoolPath, `tagwave publish --spool PATH`) to keep events through "
                    + "outages",
                underlying: cause)
        }
        let startsOutage = outage.withLock { state in
            defer { state.spooling = true }
            return !state.spooling
        }
        if startsOutage {
            logger.warning(
                "Redis is unavailable: events are spooled and will be delivered in order when it returns",
                metadata: ["tagwave.spool.path": "\(spool.path)", "tagwave.redis.error": "\(reason)"])
        }
        let sequences =
            try await spool.append(
                indices.map { prepared[$0].fields }, stream: configuration.stream, attempts: 1, lastError: reason) ?? []
        return zip(indices, sequences).map { index, sequence in
            PublishReceipt(eventID: prepared[index].id, outcome: .spooled(sequence: sequence))
        }
    }

    private static func nothingPublished(_ count: Int) -> String {
        count == 1 ? "the event was not published" : "none of the \(count) events was published"
    }

    /// Error replies that mean "not now" rather than "never": Redis is loading its data set after a
    /// restart, busy with a script, a replica during failover, out of memory, or unable to persist.
    /// Events refused this way are spooled like events that could not reach Redis.
    static func isTemporaryRefusal(_ message: String) -> Bool {
        let word = message.prefix { $0 != " " }
        return ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "OOM", "NOREPLICAS", "MISCONF"]
            .contains(String(word))
    }
}

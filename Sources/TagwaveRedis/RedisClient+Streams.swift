/// Typed stream commands: what the worker and the publisher need, on one server or a cluster.
extension RedisCommanding {
    /// Appends an entry; returns its id.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func xadd(_ stream: String, id: String = "*", fields: [StreamField], trim: StreamTrim? = nil) async throws -> StreamID {
        let reply = try await send(.xadd(stream, id: id, fields: fields, trim: trim))
        guard let text = reply.string, let id = StreamID(text) else { throw RedisError.unexpected(reply, expected: "an entry id") }
        return id
    }

    /// Reads entries for `consumer` of `group`, waiting up to `block` when there are none.
    ///
    /// Pass `">"` as the id for new entries, or an id to re-read this consumer's pending history.
    /// - Returns: the entries of `stream` (empty on timeout).
    /// - Throws: ``RedisError``; `NOGROUP` when the group or stream does not exist.
    public func xreadgroup(
        group: String, consumer: String, stream: String, id: String = ">", count: Int, block: Duration? = nil
    ) async throws -> [StreamEntry] {
        try await readGroup(group: group, consumer: consumer, stream: stream, id: id, count: count, block: block)
    }

    /// Acknowledges entries; returns how many were pending.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func xack(_ stream: String, group: String, ids: [StreamID]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let reply = try await send(.xack(stream, group: group, ids: ids))
        return Int(reply.int ?? 0)
    }

    /// The summary of a group's pending entries.
    /// - Throws: ``RedisError``.
    public func xpendingSummary(_ stream: String, group: String) async throws -> PendingSummary {
        let reply = try await send(RedisCommand("XPENDING", RedisArgument(stream), RedisArgument(group)))
        guard let parts = reply.array, parts.count == 4 else { throw RedisError.unexpected(reply, expected: "XPENDING summary") }
        var consumers: [String: Int64] = [:]
        for element in parts[3].array ?? [] {
            if let pair = element.array, pair.count == 2, let name = pair[0].string { consumers[name] = pair[1].int ?? 0 }
        }
        return PendingSummary(
            count: parts[0].int ?? 0, smallest: parts[1].string.flatMap(StreamID.init),
            largest: parts[2].string.flatMap(StreamID.init), consumers: consumers)
    }

    /// Pending entries in `[start, end]`, optionally idle at least `minIdle`, optionally of one consumer.
    /// - Throws: ``RedisError``.
    public func xpending(
        _ stream: String, group: String, minIdle: Duration? = nil, start: String = "-", end: String = "+",
        count: Int, consumer: String? = nil
    ) async throws -> [PendingEntry] {
        var arguments: [RedisArgument] = [RedisArgument(stream), RedisArgument(group)]
        if let minIdle { arguments += ["IDLE", RedisArgument(minIdle.milliseconds)] }
        arguments += [RedisArgument(start), RedisArgument(end), RedisArgument(count)]
        if let consumer { arguments.append(RedisArgument(consumer)) }
        let reply = try await send(RedisCommand("XPENDING", arguments))
        return try (reply.array ?? []).map { element in
            guard let fields = element.array, fields.count == 4, let id = fields[0].string.flatMap(StreamID.init) else {
                throw RedisError.unexpected(element, expected: "[id, consumer, idle, deliveries]")
            }
            return PendingEntry(
                id: id, consumer: fields[1].string ?? "", idleMilliseconds: fields[2].int ?? 0, deliveries: fields[3].int ?? 0)
        }
    }

    /// Claims entries pending longer than `minIdle` on any consumer, for `consumer`.
    /// - Returns: claimed entries, ids deleted from the stream while pending, and where to continue.
    /// - Throws: ``RedisError``.
    public func xautoclaim(
        _ stream: String, group: String, consumer: String, minIdle: Duration, start: StreamID = .zero, count: Int = 100
    ) async throws -> AutoClaimResult {
        let reply = try await send(.xautoclaim(stream, group: group, consumer: consumer, minIdle: minIdle, start: start, count: count))
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string.flatMap(StreamID.init) else {
            throw RedisError.unexpected(reply, expected: "[next, entries, deleted]")
        }
        let entries = try (parts[1].array ?? []).compactMap { element -> StreamEntry? in
            if element.isNull { return nil }
            return try StreamEntry.parse(element)
        }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap { $0.string.flatMap(StreamID.init) } : []
        return AutoClaimResult(nextStart: next, entries: entries, deletedIDs: deleted)
    }

    /// Creates a consumer group. Returns false when it already exists (`BUSYGROUP`).
    ///
    /// - Parameters:
    ///   - startID: `$` for new entries only, `0` for the whole stream, or an id to resume after.
    ///   - makeStream: create the stream if it does not exist (`MKSTREAM`).
    /// - Throws: ``RedisError`` for anything but `BUSYGROUP`.
    @discardableResult
    public func xgroupCreate(_ stream: String, group: String, startID: String = "$", makeStream: Bool = true) async throws -> Bool {
        do {
            try await send(.xgroupCreate(stream, group: group, startID: startID, makeStream: makeStream))
            return true
        } catch let error as RedisError where error.serverMessage?.hasPrefix("BUSYGROUP") == true {
            return false
        }
    }

    /// Removes a consumer from a group; returns how many pending entries it held (now unowned).
    /// - Throws: ``RedisError``.
    @discardableResult
    public func xgroupDeleteConsumer(_ stream: String, group: String, consumer: String) async throws -> Int {
        let reply = try await send(RedisCommand("XGROUP", "DELCONSUMER", RedisArgument(stream), RedisArgument(group), RedisArgument(consumer)))
        return Int(reply.int ?? 0)
    }

    /// `XINFO STREAM`.
    /// - Throws: ``RedisError``; `ERR no such key` when the stream does not exist.
    public func xinfoStream(_ stream: String) async throws -> StreamInfo {
        let info = try await send(RedisCommand("XINFO", "STREAM", RedisArgument(stream))).keyValues
        func entryID(_ key: String) -> StreamID? {
            info[key]?.array?.first?.string.flatMap(StreamID.init)
        }
        return StreamInfo(
            length: info["length"]?.int ?? 0, groups: info["groups"]?.int ?? 0,
            lastGeneratedID: info["last-generated-id"]?.string.flatMap(StreamID.init), firstEntryID: entryID("first-entry"))
    }

    /// `XINFO GROUPS`.
    /// - Throws: ``RedisError``.
    public func xinfoGroups(_ stream: String) async throws -> [StreamGroupInfo] {
        let reply = try await send(RedisCommand("XINFO", "GROUPS", RedisArgument(stream)))
        return (reply.array ?? []).map { element in
            let info = element.keyValues
            return StreamGroupInfo(
                name: info["name"]?.string ?? "", consumers: info["consumers"]?.int ?? 0, pending: info["pending"]?.int ?? 0,
                lastDeliveredID: info["last-delivered-id"]?.string.flatMap(StreamID.init), lag: info["lag"]?.int)
        }
    }

    /// `XINFO CONSUMERS`.
    /// - Throws: ``RedisError``.
    public func xinfoConsumers(_ stream: String, group: String) async throws -> [StreamConsumerInfo] {
        let reply = try await send(RedisCommand("XINFO", "CONSUMERS", RedisArgument(stream), RedisArgument(group)))
        return (reply.array ?? []).map { element in
            let info = element.keyValues
            return StreamConsumerInfo(
                name: info["name"]?.string ?? "", pending: info["pending"]?.int ?? 0, idleMilliseconds: info["idle"]?.int ?? 0)
        }
    }

    /// Trims a stream; returns how many entries were removed.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func xtrim(_ stream: String, _ trim: StreamTrim) async throws -> Int {
        Int(try await send(.xtrim(stream, trim)).int ?? 0)
    }
}

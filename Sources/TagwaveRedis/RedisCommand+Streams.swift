/// How `XADD` or `XTRIM` bounds a stream.
public enum StreamTrim: Sendable, Hashable {
    /// Keep about `count` newest entries (`MAXLEN ~ count`). Can drop entries still pending in a
    /// group: Tagwave's own trimming uses ``minimumID(_:approximate:)`` instead.
    case maxLength(Int, approximate: Bool)
    /// Drop entries older than `id` (`MINID`): safe when `id` is at or below every group's
    /// oldest pending entry.
    case minimumID(StreamID, approximate: Bool)

    var arguments: [RedisArgument] {
        switch self {
        case .maxLength(let count, let approximate):
            return ["MAXLEN", approximate ? "~" : "=", RedisArgument(count)]
        case .minimumID(let id, let approximate):
            return ["MINID", approximate ? "~" : "=", RedisArgument(id.description)]
        }
    }
}

extension RedisCommand {
    /// `XADD stream [trim] id field value …`.
    public static func xadd(_ stream: String, id: String = "*", fields: [StreamField], trim: StreamTrim? = nil) -> RedisCommand {
        var arguments: [RedisArgument] = [RedisArgument(stream)]
        if let trim { arguments += trim.arguments }
        arguments.append(RedisArgument(id))
        for field in fields {
            arguments.append(RedisArgument(field.name))
            arguments.append(RedisArgument(field.value))
        }
        return RedisCommand("XADD", arguments)
    }

    /// `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS s… id…`.
    public static func xreadgroup(
        group: String, consumer: String, streams: [(name: String, id: String)], count: Int? = nil,
        block: Duration? = nil, noAck: Bool = false
    ) -> RedisCommand {
        var arguments: [RedisArgument] = ["GROUP", RedisArgument(group), RedisArgument(consumer)]
        if let count { arguments += ["COUNT", RedisArgument(count)] }
        if let block { arguments += ["BLOCK", RedisArgument(max(0, block.milliseconds))] }
        if noAck { arguments.append("NOACK") }
        arguments.append("STREAMS")
        arguments += streams.map { RedisArgument($0.name) }
        arguments += streams.map { RedisArgument($0.id) }
        return RedisCommand("XREADGROUP", arguments)
    }

    /// `XACK stream group id…`.
    public static func xack(_ stream: String, group: String, ids: [StreamID]) -> RedisCommand {
        var command = RedisCommand(arguments: [Array("XACK".utf8), Array(stream.utf8), Array(group.utf8)])
        command.tail.reserveCapacity(ids.count * 24)
        for id in ids { command.tail.append(id) }
        return command
    }

    /// `XAUTOCLAIM stream group consumer min-idle start COUNT n`.
    public static func xautoclaim(
        _ stream: String, group: String, consumer: String, minIdle: Duration, start: StreamID, count: Int
    ) -> RedisCommand {
        RedisCommand(
            "XAUTOCLAIM", RedisArgument(stream), RedisArgument(group), RedisArgument(consumer),
            RedisArgument(minIdle.milliseconds), RedisArgument(start.description), "COUNT", RedisArgument(count))
    }

    /// `XGROUP CREATE stream group id [MKSTREAM]`.
    public static func xgroupCreate(_ stream: String, group: String, startID: String, makeStream: Bool) -> RedisCommand {
        var arguments: [RedisArgument] = ["CREATE", RedisArgument(stream), RedisArgument(group), RedisArgument(startID)]
        if makeStream { arguments.append("MKSTREAM") }
        return RedisCommand("XGROUP", arguments)
    }

    /// `XTRIM stream MAXLEN|MINID …`.
    public static func xtrim(_ stream: String, _ trim: StreamTrim) -> RedisCommand {
        RedisCommand("XTRIM", [RedisArgument(stream)] + trim.arguments)
    }
}

// MARK: Reply parsing

extension StreamEntry {
    /// Parses one `[id, [field, value, …]]` reply element (fields nil when the entry is gone).
    /// - Throws: ``RedisError`` when the reply has another shape.
    public static func parse(_ reply: RedisReply) throws -> StreamEntry {
        guard let pair = reply.array, pair.count == 2, let idBytes = pair[0].bytes, let id = StreamID(utf8: idBytes) else {
            throw RedisError.unexpected(reply, expected: "a stream entry [id, fields]")
        }
        guard let flat = pair[1].array else { return StreamEntry(id: id, fields: nil) }
        var fields: [StreamField] = []
        fields.reserveCapacity(flat.count / 2)
        var index = 0
        while index + 1 < flat.count {
            fields.append(StreamField(name: flat[index].bytes ?? [], value: flat[index + 1].bytes ?? []))
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    /// Parses an `XREADGROUP`/`XREAD` reply: per stream, its entries. Nil reply (timeout) is empty.
    static func parseRead(_ reply: RedisReply) throws -> [(stream: String, entries: [StreamEntry])] {
        if reply.isNull { return [] }
        guard let streams = reply.array else { throw RedisError.unexpected(reply, expected: "an array of streams") }
        return try streams.map { element in
            guard let pair = element.array, pair.count == 2, let name = pair[0].string, let entries = pair[1].array else {
                throw RedisError.unexpected(element, expected: "[stream, entries]")
            }
            return (name, try entries.map(StreamEntry.parse))
        }
    }
}

extension RedisReply {
    /// A flat `[key, value, key, value…]` reply as a dictionary keyed by the keys' text.
    var keyValues: [String: RedisReply] {
        guard let flat = array else { return [:] }
        var result: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { result[key] = flat[index + 1] }
            index += 2
        }
        return result
    }
}

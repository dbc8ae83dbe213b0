import CHiredis

/// The reply hiredis read last, as the flat node list of `tagwave_reply_arena` (see
/// `Sources/CHiredis/shim.h`): one connection's replies are built into it one after another, with
/// no allocation per element. Confined to its connection's thread, like the connection.
final class ReplyArena {
    let pointer: UnsafeMutablePointer<tagwave_reply_arena>

    init() {
        guard let pointer = tagwave_reply_arena_create() else { fatalError("out of memory creating a Redis reply arena") }
        self.pointer = pointer
    }

    deinit {
        tagwave_reply_arena_free(pointer)
    }

    /// Forgets the reply (after it was converted), keeping the memory for the next one.
    func reset() {
        tagwave_reply_arena_reset(pointer)
    }

    /// The number of nodes of the reply.
    var count: Int { pointer.pointee.node_count }

    /// Node `index` (0 is the reply itself).
    func node(_ index: Int) -> tagwave_reply_node {
        pointer.pointee.nodes[index]
    }

    /// The bytes of a string node, valid until ``reset()``.
    func bytes(of node: tagwave_reply_node) -> UnsafeRawBufferPointer {
        guard node.count > 0, let base = pointer.pointee.bytes else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + Int(node.value), count: Int(node.count))
    }

    /// The text of a string node.
    func text(of node: tagwave_reply_node) -> String {
        String(decoding: bytes(of: node), as: UTF8.self)
    }

    /// The reply as a ``RedisReply`` tree.
    func decode() -> RedisReply {
        var index = 0
        return decode(at: &index)
    }

    /// The node at `index` and its elements as a ``RedisReply``; `index` moves past them.
    func decode(at index: inout Int) -> RedisReply {
        guard index < count else { return .null }
        let node = self.node(index)
        index += 1
        switch node.type {
        case REDIS_REPLY_STRING: return .bulk(Array(bytes(of: node)))
        case REDIS_REPLY_STATUS: return .status(text(of: node))
        case REDIS_REPLY_ERROR: return .error(text(of: node))
        case REDIS_REPLY_INTEGER: return .integer(Int64(node.value))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(node.count))
            for _ in 0..<Int(node.count) { elements.append(decode(at: &index)) }
            return .array(elements)
        default: return .null
        }
    }

    /// Moves `index` past the node there and its elements.
    func skip(at index: inout Int) {
        var remaining = 1
        while remaining > 0, index < count {
            let node = self.node(index)
            index += 1
            remaining -= 1
            if node.type == REDIS_REPLY_ARRAY { remaining += Int(node.count) }
        }
    }
}

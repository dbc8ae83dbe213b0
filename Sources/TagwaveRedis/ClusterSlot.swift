/// Redis Cluster's key space: 16,384 hash slots, a key's slot the CRC16 of its hash tag or of itself.
public enum ClusterSlot {
    /// How many slots a cluster has.
    public static let count = 16_384

    /// The slot of `key`, as `CLUSTER KEYSLOT` computes it: CRC16 (XMODEM) modulo 16,384 of the part
    /// between the first `{` and the next `}` when that part is not empty, else of the whole key.
    ///
    /// Keys sharing a hash tag (`{teacher:1}:version`, `{teacher:1}:members`) share a slot, which is
    /// what lets one script touch them together on a cluster.
    public static func of<Key: Collection<UInt8>>(_ key: Key) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = key.index(after: open)
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                return Int(crc16(key[afterOpen..<close]) % UInt16(count))
            }
        }
        return Int(crc16(key) % UInt16(count))
    }

    /// The slot of a key given as text.
    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as in the Redis Cluster specification.
    static func crc16<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}

extension RedisCommand {
    /// The key a cluster routes this command by: the first key it names, or nil for a command that
    /// names none (`PING`, `INFO`, `SCRIPT LOAD`), which any node answers.
    ///
    /// Knows where the commands Tagwave sends put their first key; any other command is routed by
    /// its first argument.
    public var routingKey: [UInt8]? {
        let arguments = allArguments
        guard arguments.count > 1 else { return nil }
        switch name {
        case "PING", "INFO", "SCRIPT", "CLUSTER", "PUBLISH", "SUBSCRIBE", "ASKING", "TIME", "DBSIZE", "CLIENT", "HELLO",
            "AUTH", "SELECT", "FLUSHALL", "FLUSHDB", "CONFIG", "ACL", "SCAN", "KEYS", "RANDOMKEY":
            // (SCAN, KEYS and RANDOMKEY see only the keys of the node that answers.)
            return nil
        case "MEMORY", "XGROUP", "XINFO", "OBJECT":
            // MEMORY USAGE key, XGROUP CREATE key …, XINFO STREAM key, OBJECT ENCODING key
            return arguments.count > 2 ? arguments[2] : nil
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL":
            // EVALSHA sha numkeys key…
            guard arguments.count > 3, let keys = Int(String(decoding: arguments[2], as: UTF8.self)), keys > 0 else { return nil }
            return arguments[3]
        case "XREADGROUP", "XREAD":
            // … STREAMS key… id…
            // After `GROUP g c` of XREADGROUP: a group or consumer may itself be named "streams".
            let options = name == "XREADGROUP" ? min(4, arguments.count) : 1
            guard
                let streams = arguments[options...].firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }),
                streams + 1 < arguments.count
            else { return nil }
            return arguments[streams + 1]
        default:
            return arguments[1]
        }
    }
}

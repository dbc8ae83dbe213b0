/// One Redis command as an argument vector of bytes.
///
/// ```swift
/// let command = RedisCommand("SET", "greeting", "hello", "PX", 5000)
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The arguments, the command name first. Each is sent as a binary-safe bulk string.
    public var arguments: [[UInt8]]
    /// For `EVALSHA`: the script to load when the server answers `NOSCRIPT`.
    var script: RedisScript?

    /// A command from its name and arguments.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }

    /// A command from its name and an array of arguments.
    public init(_ name: String, _ arguments: [RedisArgument]) {
        var all: [[UInt8]] = []
        all.reserveCapacity(arguments.count + 1)
        all.append(Array(name.utf8))
        for argument in arguments { all.append(argument.bytes) }
        self.arguments = all
        self.script = nil
    }

    /// A command from raw argument bytes, the name included.
    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
        self.script = nil
    }

    /// Appends the command in the Redis protocol's request form: `*<count>\r\n`, then
    /// `$<length>\r\n<bytes>\r\n` per argument (binary safe).
    func encodeRESP(into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        Self.appendDecimal(arguments.count, to: &buffer)
        for argument in arguments {
            buffer.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "$")])
            Self.appendDecimal(argument.count, to: &buffer)
            buffer.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
            buffer.append(contentsOf: argument)
        }
        buffer.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    /// About how many bytes ``encodeRESP(into:)`` appends, to reserve the buffer once.
    var encodedSizeEstimate: Int {
        arguments.reduce(4 + 8) { $0 + $1.count + 12 }
    }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        let start = buffer.count
        var rest = value
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        buffer[start...].reverse()
    }

    /// The command's name, for messages (never its arguments: they may hold secrets).
    public var name: String {
        String(decoding: arguments.first ?? [], as: UTF8.self).uppercased()
    }
}

/// One argument of a ``RedisCommand``: bytes, written from strings, integers or byte arrays.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// The bytes sent to the server.
    public var bytes: [UInt8]

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) { bytes = Array(string.utf8) }
    /// The decimal text of `value`.
    public init<I: BinaryInteger>(_ value: I) { bytes = Array(String(value).utf8) }
    /// The bytes as they are.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// The bytes as they are.
    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = Array(bytes) }

    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}

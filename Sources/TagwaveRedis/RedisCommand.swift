/// One Redis command as an argument vector of bytes.
///
/// ```swift
/// let command = RedisCommand("SET", "greeting", "hello", "PX", 5000)
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The arguments, the command name first. Each is sent as a binary-safe bulk string. A command
    /// built with a ``RedisArgumentWriter`` (`EVALSHA`'s keys, `XACK`'s ids) sends those after them.
    public var arguments: [[UInt8]]
    /// For `EVALSHA`: the script to load when the server answers `NOSCRIPT`.
    var script: RedisScript?
    /// Arguments after ``arguments``, already encoded (see ``RedisArgumentWriter``).
    var tail = RedisArgumentWriter()

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
        Self.appendDecimal(arguments.count + tail.count, to: &buffer)
        RedisArgumentWriter.appendLineEnd(to: &buffer)
        for argument in arguments { RedisArgumentWriter.encode(argument, into: &buffer) }
        buffer.append(contentsOf: tail.encoded)
    }

    /// About how many bytes ``encodeRESP(into:)`` appends, to reserve the buffer once.
    var encodedSizeEstimate: Int {
        arguments.reduce(4 + 8 + tail.encoded.count) { $0 + $1.count + 12 }
    }

    /// Every argument, the encoded ones after ``arguments`` decoded (for routing, not the hot path).
    var allArguments: [[UInt8]] {
        tail.count == 0 ? arguments : arguments + tail.decoded()
    }

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        // Most values are lengths and counts of one to three digits: written straight.
        let zero = UInt8(ascii: "0")
        switch value {
        case 0..<10:
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value))
        case 10..<100:
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value / 10))
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value % 10))
        case 100..<1000:
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value / 100))
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value / 10 % 10))
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value % 10))
        default:
            buffer.append(contentsOf: String(value).utf8)
        }
    }

    /// The command's name, for messages (never its arguments: they may hold secrets).
    public var name: String {
        String(decoding: arguments.first ?? [], as: UTF8.self).uppercased()
    }
}

/// Arguments written straight in the request form (`$<length>\r\n<bytes>\r\n` each), for commands
/// of thousands of arguments built on the hot path (an invalidation's keys): no array per argument.
///
/// ```swift
/// var keys = RedisArgumentWriter()
/// keys.append(concatenating: "app:{".utf8, "teacher:1".utf8, "}:v".utf8)
/// let command = RedisCommand.evalsha(script, keys: keys, arguments: [])
/// ```
public struct RedisArgumentWriter: Sendable, Hashable {
    /// The arguments so far, encoded.
    fileprivate(set) var encoded: [UInt8] = []
    /// How many arguments were written.
    public private(set) var count = 0

    /// An empty list of arguments.
    public init() {}

    /// Reserves room for about `bytes` bytes of arguments.
    public mutating func reserveCapacity(_ bytes: Int) {
        encoded.reserveCapacity(bytes)
    }

    /// Appends one argument made of three parts back to back, as a key is made of a prefix, a name and
    /// a suffix (no array of the parts, and no string of the key, is built).
    public mutating func append(concatenating head: String.UTF8View, _ middle: String.UTF8View, _ tail: String.UTF8View) {
        Self.appendHeader(length: head.count + middle.count + tail.count, to: &encoded)
        encoded.append(contentsOf: head)
        encoded.append(contentsOf: middle)
        encoded.append(contentsOf: tail)
        Self.appendLineEnd(to: &encoded)
        count += 1
    }

    /// Appends a stream entry id as one argument (an `XACK` of a batch writes a thousand).
    public mutating func append(_ id: StreamID) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { digits in
            let length = id.write(into: digits)
            Self.appendHeader(length: length, to: &encoded)
            encoded.append(contentsOf: UnsafeBufferPointer(rebasing: digits[..<length]))
            Self.appendLineEnd(to: &encoded)
        }
        count += 1
    }

    /// Appends one argument.
    public mutating func append(_ argument: [UInt8]) {
        Self.encode(argument, into: &encoded)
        count += 1
    }

    static func encode(_ argument: [UInt8], into buffer: inout [UInt8]) {
        appendHeader(length: argument.count, to: &buffer)
        buffer.append(contentsOf: argument)
        appendLineEnd(to: &buffer)
    }

    /// `$<length>\r\n`, what comes before an argument's bytes.
    private static func appendHeader(length: Int, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "$"))
        RedisCommand.appendDecimal(length, to: &buffer)
        appendLineEnd(to: &buffer)
    }

    /// `\r\n`, what ends a header and an argument.
    static func appendLineEnd(to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\r"))
        buffer.append(UInt8(ascii: "\n"))
    }

    /// The arguments as byte arrays.
    func decoded() -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var position = 0
        while position < encoded.count, encoded[position] == UInt8(ascii: "$") {
            var length = 0
            position += 1
            while encoded[position] != UInt8(ascii: "\r") {
                length = length * 10 + Int(encoded[position] - UInt8(ascii: "0"))
                position += 1
            }
            position += 2
            arguments.append(Array(encoded[position..<position + length]))
            position += length + 2
        }
        return arguments
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

extension JSONValue {
    /// Parses a complete JSON document (RFC 8259).
    ///
    /// - Parameters:
    ///   - bytes: The document, UTF-8.
    ///   - maximumDepth: The deepest nesting accepted; a top-level object is depth 1.
    /// - Returns: The document's value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(
        _ bytes: [UInt8], maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONError) in try parse(buffer, maximumDepth: maximumDepth) }
        }
        return try result.get()
    }

    /// Parses a complete JSON document held in memory the caller owns.
    ///
    /// - Parameters:
    ///   - buffer: The document, UTF-8. It is only read during the call.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: The document's value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> JSONValue {
        try parse(buffer.assumingMemoryBound(to: UInt8.self), maximumDepth: maximumDepth)
    }

    /// Parses a complete JSON document given as text.
    ///
    /// - Parameters:
    ///   - text: The document.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: The document's value.
    /// - Throws: ``JSONError`` with the byte offset (in the text's UTF-8) of the first problem.
    public static func parse(
        _ text: String, maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) throws(JSONError) -> JSONValue {
        var reader = JSONReader(buffer, maximumDepth: maximumDepth)
        let value = try reader.parseValue(depth: 0)
        try reader.finish()
        return value
    }
}

extension JSONReader {
    /// Parses the value at the reader, building all of it.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var members: [(key: String, value: JSONValue)] = []
            if try !beginObject(depth: depth + 1) {
                repeat {
                    let key = decodeString(try memberKey())
                    members.append((key, try parseValue(depth: depth + 1)))
                } while try nextMember()
            }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            if try !beginArray(depth: depth + 1) {
                repeat {
                    elements.append(try parseValue(depth: depth + 1))
                } while try nextElement()
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(decodeString(try scanString()))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(text(of: try scanNumber()))
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        case let byte:
            throw JSONError.unexpected(byte, at: index, expected: "a value")
        }
    }
}

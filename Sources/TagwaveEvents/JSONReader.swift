/// The byte-level JSON reader under ``JSONScanner`` and `JSONValue.parse`.
///
/// It walks UTF-8 bytes in place and allocates nothing: skipping a value validates it completely
/// (grammar, escapes, surrogate pairs, UTF-8, nesting depth) without building it. Callers build
/// only what they need from the tokens it returns.
struct JSONReader {
    /// The document.
    let bytes: UnsafeBufferPointer<UInt8>
    /// Containers nested deeper than this are refused.
    let maximumDepth: Int
    /// The offset of the next byte to read.
    var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    /// A string's content (between its quotes), still escaped.
    struct StringToken {
        /// Offset of the first byte after the opening quote.
        var start: Int
        /// Offset of the closing quote.
        var end: Int
        /// Whether the content holds a backslash escape (and so needs decoding).
        var hasEscapes: Bool
    }

    // MARK: Whitespace and the end of the document

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Refuses anything but whitespace after the value.
    mutating func finish() throws(JSONError) {
        skipWhitespace()
        if index < bytes.count {
            throw JSONError(
                .trailingData, at: index, "unexpected \(JSONError.describe(bytes[index])) after the JSON value",
                hint: "a document holds exactly one value")
        }
    }

    // MARK: Skipping (validating without building)

    /// Validates the value at the reader and moves past it.
    ///
    /// - Parameter depth: How many containers enclose the value.
    /// - Returns: The value's kind.
    mutating func skipValue(depth: Int) throws(JSONError) -> JSONKind {
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            if try !beginObject(depth: depth + 1) {
                repeat {
                    _ = try memberKey()
                    _ = try skipValue(depth: depth + 1)
                } while try nextMember()
            }
            return .object
        case UInt8(ascii: "["):
            if try !beginArray(depth: depth + 1) {
                repeat {
                    _ = try skipValue(depth: depth + 1)
                } while try nextElement()
            }
            return .array
        case UInt8(ascii: "\""):
            _ = try scanString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        case let byte:
            throw JSONError.unexpected(byte, at: index, expected: "a value")
        }
    }

    // MARK: Containers

    /// Consumes `{` and the whitespace after it.
    ///
    /// - Parameter depth: The depth of this object (1 for a top-level object).
    /// - Returns: True when the object is empty (its `}` is consumed too).
    mutating func beginObject(depth: Int) throws(JSONError) -> Bool {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return true
        }
        return false
    }

    /// Reads a member's name and the colon after it; the reader is then at the member's value.
    mutating func memberKey() throws(JSONError) -> StringToken {
        skipWhitespace()
        guard index < bytes.count else {
            throw JSONError.unexpectedEnd(at: index, expected: "a member name in double quotes")
        }
        guard bytes[index] == UInt8(ascii: "\"") else {
            throw JSONError.unexpected(bytes[index], at: index, expected: "a member name in double quotes")
        }
        let key = try scanString()
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "':'") }
        guard bytes[index] == UInt8(ascii: ":") else {
            throw JSONError.unexpected(bytes[index], at: index, expected: "':' after the member name")
        }
        index += 1
        return key
    }

    /// After a member's value: consumes `,` (another member follows: true) or `}` (false).
    mutating func nextMember() throws(JSONError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "',' or '}'") }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            return true
        case UInt8(ascii: "}"):
            index += 1
            return false
        case let byte:
            throw JSONError.unexpected(byte, at: index, expected: "',' or '}'")
        }
    }

    /// Consumes `[` and the whitespace after it.
    ///
    /// - Parameter depth: The depth of this array (1 for a top-level array).
    /// - Returns: True when the array is empty (its `]` is consumed too).
    mutating func beginArray(depth: Int) throws(JSONError) -> Bool {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return true
        }
        return false
    }

    /// After an element: consumes `,` (another element follows: true) or `]` (false).
    mutating func nextElement() throws(JSONError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "',' or ']'") }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            return true
        case UInt8(ascii: "]"):
            index += 1
            return false
        case let byte:
            throw JSONError.unexpected(byte, at: index, expected: "',' or ']'")
        }
    }

    @inline(__always)
    private func checkDepth(_ depth: Int) throws(JSONError) {
        if depth > maximumDepth {
            throw JSONError(
                .tooDeep, at: index, "nesting deeper than \(maximumDepth) levels",
                hint: "flatten the document")
        }
    }

    // MARK: Scalars

    /// Validates the literal `true`, `false` or `null` at the reader and moves past it.
    mutating func scanLiteral(_ word: StaticString) throws(JSONError) {
        let start = index
        let length = word.utf8CodeUnitCount
        for offset in 0..<length {
            guard start + offset < bytes.count else {
                throw JSONError.unexpectedEnd(at: start + offset, expected: "`\(word)`")
            }
            if bytes[start + offset] != word.utf8Start[offset] {
                throw JSONError(.invalidLiteral, at: start, "invalid literal", hint: "expected true, false or null")
            }
        }
        index = start + length
    }

    /// Validates the number at the reader against JSON's grammar and moves past it.
    ///
    /// - Returns: The offsets of its literal text.
    mutating func scanNumber() throws(JSONError) -> Range<Int> {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, JSONReader.isDigit(bytes[index]) else {
            throw JSONError(.invalidNumber, at: start, "invalid number", hint: "expected a digit after '-'")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count && JSONReader.isDigit(bytes[index]) {
                throw JSONError(.invalidNumber, at: start, "invalid number", hint: "leading zeros are not allowed")
            }
        } else {
            skipDigits()
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, JSONReader.isDigit(bytes[index]) else {
                throw JSONError(.invalidNumber, at: start, "invalid number", hint: "expected a digit after '.'")
            }
            skipDigits()
        }
        if index < bytes.count && bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count, JSONReader.isDigit(bytes[index]) else {
                throw JSONError(.invalidNumber, at: start, "invalid number", hint: "expected a digit in the exponent")
            }
            skipDigits()
        }
        return start..<index
    }

    @inline(__always)
    private mutating func skipDigits() {
        while index < bytes.count && JSONReader.isDigit(bytes[index]) { index += 1 }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: Strings

    /// Validates the string at the reader (escapes, surrogate pairs, UTF-8, no raw control
    /// characters) and moves past its closing quote.
    mutating func scanString() throws(JSONError) -> StringToken {
        let open = index
        index += 1
        let start = index
        let count = bytes.count
        var hasEscapes = false
        while true {
            // Eight plain bytes at a time; stops at the word holding a quote, a backslash, a control
            // character or a non-ASCII byte.
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while index &+ 8 <= count {
                    let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    if JSONReader.hasSpecialByte(word) { break }
                    index &+= 8
                }
            }
            var byte: UInt8 = 0
            while true {
                guard index < count else {
                    throw JSONError(.unterminatedString, at: open, "unterminated string", hint: "close it with '\"'")
                }
                byte = bytes[index]
                guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else {
                    break
                }
                index &+= 1
            }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return StringToken(start: start, end: index - 1, hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try scanEscape(stringStart: open)
            case 0..<0x20:
                throw JSONError(
                    .controlCharacterInString, at: index,
                    "unescaped control character \(JSONError.describe(byte)) in a string",
                    hint: "escape it, e.g. as \\n or \\u00\(JSONReader.hex(byte >> 4))\(JSONReader.hex(byte & 0xF))")
            default:
                try scanMultibyteScalar(lead: byte)
            }
        }
    }

    /// Whether any of the eight bytes is `"`, `\`, below 0x20, or 0x80 and above.
    @inline(__always)
    static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        // With no byte of 0x80 or above, `x &- ones` sets some high bit exactly when a byte of `x` is
        // zero (and `word &- 0x20…` when a byte is below 0x20): borrows start only at such bytes.
        let candidates = (quotes &- ones) | (backslashes &- ones) | (word &- ones &* 0x20)
        return (candidates & ~word | word) & highBits != 0
    }

    /// Validates the escape at the reader (a backslash) and moves past it; a `\u` high surrogate
    /// must be followed by a `\u` low surrogate.
    private mutating func scanEscape(stringStart: Int) throws(JSONError) {
        let escape = index
        guard index + 1 < bytes.count else {
            throw JSONError(.unterminatedString, at: stringStart, "unterminated string", hint: "close it with '\"'")
        }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            let unit = try hexQuad(escape: escape)
            index += 6
            switch unit {
            case 0xD800...0xDBFF:
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else { throw JSONReader.unpaired(unit, at: escape) }
                let low = try hexQuad(escape: index)
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONReader.unpaired(unit, at: escape) }
                index += 6
            case 0xDC00...0xDFFF:
                throw JSONReader.unpaired(unit, at: escape)
            default:
                break
            }
        case let byte:
            let shown =
                byte >= 0x21 && byte < 0x7F
                ? "'\\\(Character(Unicode.Scalar(byte)))'" : "\\ followed by \(JSONError.describe(byte))"
            throw JSONError(
                .invalidEscape, at: escape, "invalid escape \(shown)",
                hint: "escape only \" \\ / b f n r t or uXXXX")
        }
    }

    /// The value of the four hex digits after the `\u` at `escape`.
    private func hexQuad(escape: Int) throws(JSONError) -> UInt16 {
        var value: UInt16 = 0
        for offset in 2..<6 {
            guard escape + offset < bytes.count, let digit = JSONReader.hexValue(bytes[escape + offset]) else {
                throw JSONError(
                    .invalidUnicodeEscape, at: escape, "invalid \\u escape", hint: "expected four hex digits")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    @inline(never)
    private static func unpaired(_ unit: UInt16, at offset: Int) -> JSONError {
        let text = String(unit, radix: 16, uppercase: true)
        return JSONError(
            .unpairedSurrogate, at: offset, "unpaired UTF-16 surrogate \\u\(text)",
            hint: "a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF escape")
    }

    /// Validates one well-formed UTF-8 sequence of two to four bytes (no overlong forms, no
    /// surrogates, nothing above U+10FFFF) and moves past it.
    private mutating func scanMultibyteScalar(lead: UInt8) throws(JSONError) {
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: throw JSONReader.invalidUTF8(at: index)
        }
        guard index + length <= bytes.count else { throw JSONReader.invalidUTF8(at: index) }
        let second = bytes[index + 1]
        guard second >= lower && second <= upper else { throw JSONReader.invalidUTF8(at: index) }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            throw JSONReader.invalidUTF8(at: index)
        }
        index += length
    }

    @inline(never)
    private static func invalidUTF8(at offset: Int) -> JSONError {
        JSONError(.invalidUTF8, at: offset, "invalid UTF-8", hint: "JSON text must be encoded as UTF-8")
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func hex(_ nibble: UInt8) -> Character {
        Character(Unicode.Scalar(nibble < 10 ? nibble + 0x30 : nibble + 0x37))
    }
}

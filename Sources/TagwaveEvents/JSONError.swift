/// Why a JSON text was refused, and the byte offset where the problem was found.
///
/// Offsets count UTF-8 bytes from 0, so `{"a":"b` fails with
/// `unterminated string at byte 5`: the opening quote of the string that never ends.
/// Match on ``code`` (`error.code == .unterminatedString`); ``description`` is the sentence to show.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case unexpectedEnd
            case unexpectedByte
            case unterminatedString
            case controlCharacterInString
            case invalidEscape
            case invalidUnicodeEscape
            case unpairedSurrogate
            case invalidUTF8
            case invalidNumber
            case invalidLiteral
            case tooDeep
            case trailingData
        }

        fileprivate let base: Base

        /// The input ended inside a value (or was empty).
        public static let unexpectedEnd = Code(base: .unexpectedEnd)
        /// A byte that cannot start or continue the value at that point (`[1 2]`, `{a:1}`).
        public static let unexpectedByte = Code(base: .unexpectedByte)
        /// A string whose closing quote never comes; the offset is its opening quote.
        public static let unterminatedString = Code(base: .unterminatedString)
        /// A raw control character (U+0000 to U+001F) inside a string; JSON requires it escaped.
        public static let controlCharacterInString = Code(base: .controlCharacterInString)
        /// A backslash followed by something other than `" \ / b f n r t u`.
        public static let invalidEscape = Code(base: .invalidEscape)
        /// `\u` not followed by four hexadecimal digits.
        public static let invalidUnicodeEscape = Code(base: .invalidUnicodeEscape)
        /// A `\uD800`–`\uDFFF` escape that is not half of a high–low surrogate pair.
        public static let unpairedSurrogate = Code(base: .unpairedSurrogate)
        /// Bytes that are not well-formed UTF-8 (RFC 8259 §8.1 requires UTF-8).
        public static let invalidUTF8 = Code(base: .invalidUTF8)
        /// A number outside JSON's grammar: `01`, `1.`, `.5`, `-`, `1e`, `+1`.
        public static let invalidNumber = Code(base: .invalidNumber)
        /// A bare word other than `true`, `false` or `null`.
        public static let invalidLiteral = Code(base: .invalidLiteral)
        /// Objects and arrays nested deeper than the parser's limit.
        public static let tooDeep = Code(base: .tooDeep)
        /// Something other than whitespace after the complete value (`{} {}`, `1 2`).
        public static let trailingData = Code(base: .trailingData)

        /// The code's name, e.g. `unterminatedString`.
        public var description: String { base.rawValue }
    }

    /// The kind of problem.
    public let code: Code
    /// The offset, in bytes from 0, where the problem was found.
    public let offset: Int
    /// What is wrong and where, sometimes with what was expected:
    /// `unexpected '}' at byte 9: expected a value`.
    public let message: String

    init(_ code: Code, at offset: Int, _ what: String, hint: String? = nil) {
        self.code = code
        self.offset = offset
        self.message = hint.map { "\(what) at byte \(offset): \($0)" } ?? "\(what) at byte \(offset)"
    }

    /// The same as ``message``.
    public var description: String { message }
}

extension JSONError {
    /// A readable name for the byte at an offset: `'x'`, or `byte 0xC3` for non-printable bytes.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    @inline(never)
    static func unexpected(_ byte: UInt8, at offset: Int, expected: String) -> JSONError {
        JSONError(.unexpectedByte, at: offset, "unexpected \(describe(byte))", hint: "expected \(expected)")
    }

    @inline(never)
    static func unexpectedEnd(at offset: Int, expected: String) -> JSONError {
        JSONError(.unexpectedEnd, at: offset, "unexpected end of input", hint: "expected \(expected)")
    }
}

/// A tag or URL template with `{field}` placeholders filled from an event's payload:
/// `teacher:{teacherId}`, `school:{session.schoolId}:sessions`,
/// `http://127.0.0.1:8080/api/v1/sessions?teacher={teacherId}`.
///
/// A placeholder holds a dotted ``JSONPath``; `{{` and `}}` stand for literal braces. Strings render
/// as their text, numbers as their literal JSON text (`1.0` stays `1.0`), booleans as
/// `true`/`false`; a missing, `null`, object or array value fails the render.
///
/// ```swift
/// let template = try TagTemplate("school:{session.schoolId}:sessions")
/// template.placeholders                                // ["session.schoolId"]
/// try template.render(values: [.string("s1")])         // "school:s1:sessions"
/// ```
public struct TagTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        /// Literal text, as UTF-8, braces unescaped.
        case literal([UInt8])
        /// A placeholder: an index into ``TagTemplate/placeholders``.
        case placeholder(Int)
    }

    /// The template as written.
    public let text: String
    /// The distinct paths of the placeholders, in order of first appearance.
    public let placeholders: [JSONPath]
    let parts: [Part]

    /// Parses a template.
    ///
    /// - Parameter text: The template, e.g. `teacher:{teacherId}`.
    /// - Throws: ``TemplateError`` with the column of the problem: an unclosed `{`, a lone `}`, an
    ///   empty placeholder, a placeholder that is not a valid path, or an empty template.
    public init(_ text: String) throws(TemplateError) {
        guard !text.isEmpty else { throw TemplateError.parse(.emptyTemplate, template: text, column: 1) }
        let scalars = Array(text.unicodeScalars)
        var parts: [Part] = []
        var placeholders: [JSONPath] = []
        var literal: [UInt8] = []
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            let doubled = position + 1 < scalars.count && scalars[position + 1] == scalar
            switch scalar {
            case "{" where doubled, "}" where doubled:
                literal.append(UInt8(scalar.value))
                position += 2
            case "}":
                throw TemplateError.parse(.unmatchedBrace, template: text, column: position + 1)
            case "{":
                guard let close = scalars[position...].firstIndex(of: "}") else {
                    throw TemplateError.parse(.unclosedPlaceholder, template: text, column: position + 1)
                }
                guard close > position + 1 else {
                    throw TemplateError.parse(.emptyPlaceholder, template: text, column: position + 1)
                }
                let path: JSONPath
                do {
                    path = try JSONPath(parsing: String(String.UnicodeScalarView(scalars[position + 1..<close])))
                } catch {
                    throw TemplateError.parse(
                        .invalidPath, template: text, column: position + 2 + error.offset, detail: error.message)
                }
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = []
                }
                if let existing = placeholders.firstIndex(of: path) {
                    parts.append(.placeholder(existing))
                } else {
                    parts.append(.placeholder(placeholders.count))
                    placeholders.append(path)
                }
                position = close + 1
            default:
                literal.append(contentsOf: String(scalar).utf8)
                position += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.text = text
        self.placeholders = placeholders
        self.parts = parts
    }

    /// Fills the placeholders.
    ///
    /// - Parameters:
    ///   - values: One value per entry of ``placeholders``, in that order (as
    ///     `JSONScanner.extract(from:)` returns them for those paths).
    ///   - percentEncoding: Whether to percent-encode the values (RFC 3986: all but `A–Z a–z 0–9
    ///     - . _ ~`), for URL templates; the template's own text is kept as written.
    /// - Returns: The rendered text.
    /// - Throws: ``TemplateError`` when a value is missing, `null`, an object or an array.
    public func render(values: [JSONScalar?], percentEncoding: Bool = false) throws(TemplateError) -> String {
        precondition(values.count == placeholders.count, "one value per placeholder")
        return try render(values: values, slots: nil, percentEncoding: percentEncoding)
    }

    /// Fills the placeholders from `values[slots[placeholder]]`, or `values[placeholder]` without slots.
    func render(values: [JSONScalar?], slots: [Int]?, percentEncoding: Bool) throws(TemplateError) -> String {
        var length = 0
        for part in parts {
            switch part {
            case .literal(let bytes):
                length += bytes.count
            case .placeholder(let placeholder):
                let value = values[slots?[placeholder] ?? placeholder]
                guard let text = value?.text else {
                    throw TemplateError.render(value, template: self.text, path: placeholders[placeholder])
                }
                length += percentEncoding ? PercentEncoding.encodedLength(text) : text.utf8.count
            }
        }
        return String(unsafeUninitializedCapacity: length) { output in
            var written = 0
            for part in parts {
                switch part {
                case .literal(let bytes):
                    for byte in bytes {
                        output[written] = byte
                        written += 1
                    }
                case .placeholder(let placeholder):
                    let text = values[slots?[placeholder] ?? placeholder]?.text ?? ""
                    written = PercentEncoding.write(text, encoding: percentEncoding, into: output, at: written)
                }
            }
            return written
        }
    }

    /// The template as written.
    public var description: String { text }

    /// Templates are equal when their texts are.
    public static func == (lhs: TagTemplate, rhs: TagTemplate) -> Bool { lhs.text == rhs.text }

    /// Hashes the text.
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// RFC 3986 percent-encoding: everything but the unreserved `A–Z a–z 0–9 - . _ ~`.
enum PercentEncoding {
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func encodedLength(_ text: String) -> Int {
        text.utf8.reduce(0) { $0 + (isUnreserved($1) ? 1 : 3) }
    }

    /// Writes `text`'s UTF-8, percent-encoded when `encoding`; returns the new write offset.
    static func write(_ text: String, encoding: Bool, into output: UnsafeMutableBufferPointer<UInt8>, at offset: Int)
        -> Int
    {
        var written = offset
        for byte in text.utf8 {
            if !encoding || isUnreserved(byte) {
                output[written] = byte
                written += 1
            } else {
                output[written] = UInt8(ascii: "%")
                output[written + 1] = hexDigit(byte >> 4)
                output[written + 2] = hexDigit(byte & 0xF)
                written += 3
            }
        }
        return written
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? nibble + 0x30 : nibble + 0x37 }
}

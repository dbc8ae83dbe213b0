/// A dotted path to a value inside a JSON document: `teacherId`, `session.teacher.id`, `items.0.id`.
///
/// Each segment names an object member. A segment of decimal digits (`0`, `12`, no leading zeros)
/// also indexes an array: `items.0.id` is the `id` of the first element of the `items` array, and
/// the `id` of the member named `"0"` when `items` is an object.
///
/// Segments are made of ASCII letters, digits, `_`, `-`, `$`, `@` and non-ASCII characters other
/// than whitespace; members whose names hold anything else (dots, spaces, braces, colons) cannot be
/// addressed. Write paths as string literals where they are fixed:
///
/// ```swift
/// let paths: [JSONPath] = ["teacherId", "session.schoolId"]
/// let values = try JSONScanner.extract(paths: paths, from: Array(#"{"teacherId":"t1"}"#.utf8))
/// ```
public struct JSONPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The segments, in order from the document's root: `["session", "teacher", "id"]`.
    public let segments: [String]
    /// Each segment's UTF-8 bytes, compared with member names while scanning.
    let keys: [[UInt8]]
    /// Each segment's array index, when it is one (decimal digits without leading zeros).
    let indices: [Int?]

    /// Parses a dotted path.
    ///
    /// A separate label from the literal initializer, so that `try JSONPath(parsing: "a b")` throws
    /// where `JSONPath("a b")`, being a literal, would stop the program.
    ///
    /// - Parameter text: The path, e.g. `session.teacher.id`.
    /// - Throws: ``JSONPathError`` when the path is empty, has an empty segment (`a..b`, `.a`),
    ///   or holds a character a segment cannot contain.
    public init(parsing text: String) throws(JSONPathError) {
        var segments: [String] = []
        var current = String.UnicodeScalarView()
        var offset = 0
        for scalar in text.unicodeScalars {
            if scalar == "." {
                guard !current.isEmpty else {
                    throw JSONPathError(.emptySegment, path: text, offset: offset)
                }
                segments.append(String(current))
                current = String.UnicodeScalarView()
            } else if JSONPath.isAllowed(scalar) {
                current.append(scalar)
            } else {
                throw JSONPathError(.invalidCharacter, path: text, offset: offset, character: scalar)
            }
            offset += 1
        }
        if text.isEmpty { throw JSONPathError(.emptyPath, path: text, offset: 0) }
        guard !current.isEmpty else { throw JSONPathError(.emptySegment, path: text, offset: offset) }
        segments.append(String(current))
        self.init(validatedSegments: segments)
    }

    /// Makes a path from a literal; the literal must be a valid path.
    ///
    /// - Precondition: `value` parses with ``init(parsing:)``. Use that initializer for text that
    ///   is not fixed in code (configuration files, command-line arguments).
    public init(stringLiteral value: String) {
        do {
            try self.init(parsing: value)
        } catch {
            preconditionFailure("invalid JSONPath literal: \(error)")
        }
    }

    private init(validatedSegments segments: [String]) {
        self.segments = segments
        self.keys = segments.map { Array($0.utf8) }
        self.indices = segments.map(JSONPath.arrayIndex)
    }

    /// The path as written: segments joined by dots.
    public var description: String { segments.joined(separator: ".") }

    /// Whether a segment may contain this character.
    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true  // digits and letters
        case 0x5F, 0x2D, 0x24, 0x40: return true  // _ - $ @
        case 0x80...: return !scalar.properties.isWhitespace
        default: return false
        }
    }

    /// `12` for the segment `12`; nil for `x`, `012` or a number too large for an index.
    private static func arrayIndex(_ segment: String) -> Int? {
        let bytes = Array(segment.utf8)
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        if bytes.count > 1 && bytes[0] == 0x30 { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// Paths are equal when their segments are.
    public static func == (lhs: JSONPath, rhs: JSONPath) -> Bool { lhs.segments == rhs.segments }

    /// Hashes the segments.
    public func hash(into hasher: inout Hasher) { hasher.combine(segments) }
}

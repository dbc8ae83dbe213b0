import TagwaveEvents
import TagwaveTestSupport

/// UTF-8 bytes of a string literal.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The error `JSONValue.parse` throws for a document, or nil when it parses.
func parseError(_ document: [UInt8], maximumDepth: Int = JSONScanner.defaultMaximumDepth) -> JSONError? {
    do {
        _ = try JSONValue.parse(document, maximumDepth: maximumDepth)
        return nil
    } catch {
        return error
    }
}

/// The error `JSONValue.parse` throws for a document, or nil when it parses.
func parseError(_ document: String, maximumDepth: Int = JSONScanner.defaultMaximumDepth) -> JSONError? {
    parseError(bytes(document), maximumDepth: maximumDepth)
}

/// Random JSON documents with awkward strings (escapes, controls, non-ASCII, astral characters),
/// numbers of every shape, repeated keys and nesting.
struct RandomJSON {
    var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(state: seed) }

    mutating func value(depth: Int = 0) -> JSONValue {
        let choice = depth > 4 ? Int.random(in: 2..<6, using: &generator) : Int.random(in: 0..<6, using: &generator)
        switch choice {
        case 0:
            let count = Int.random(in: 0..<5, using: &generator)
            return .object((0..<count).map { _ in (key(), value(depth: depth + 1)) })
        case 1:
            let count = Int.random(in: 0..<5, using: &generator)
            return .array((0..<count).map { _ in value(depth: depth + 1) })
        case 2: return .string(string())
        case 3: return .number(number())
        case 4: return .bool(Bool.random(using: &generator))
        default: return .null
        }
    }

    mutating func key() -> String {
        ["a", "b", "id", "teacherId", "0", "1", "é", string()].randomElement(using: &generator)!
    }

    mutating func string() -> String {
        let pieces = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "€", "😀", "\u{7F}", "\u{FFFF}",
        ]
        let count = Int.random(in: 0..<24, using: &generator)
        return (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    mutating func number() -> String {
        ["0", "-0", "7", "-12", "3.25", "-0.5e10", "1E+2", "6.02e-23", "123456789012345678901234567890"]
            .randomElement(using: &generator)!
    }
}

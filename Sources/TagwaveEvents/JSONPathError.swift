/// Why a dotted path was refused, with the position of the problem.
public struct JSONPathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case emptyPath
            case emptySegment
            case invalidCharacter
        }

        fileprivate let base: Base

        /// The path is the empty string.
        public static let emptyPath = Code(base: .emptyPath)
        /// Two dots in a row, or a dot at the start or the end (`a..b`, `.a`, `a.`).
        public static let emptySegment = Code(base: .emptySegment)
        /// A character no segment may contain (space, `{`, `}`, `:`, `"`, …).
        public static let invalidCharacter = Code(base: .invalidCharacter)

        /// The code's name, e.g. `emptySegment`.
        public var description: String { base.rawValue }
    }

    /// The kind of problem.
    public let code: Code
    /// The path as given.
    public let path: String
    /// Where the problem is, in characters (Unicode scalars) from 0.
    public let offset: Int
    /// What is wrong and how to write the path instead.
    public let message: String

    init(_ code: Code, path: String, offset: Int, character: Unicode.Scalar? = nil) {
        self.code = code
        self.path = path
        self.offset = offset
        switch code.base {
        case .emptyPath:
            message = "the path is empty: name a field, e.g. teacherId or session.teacher.id"
        case .emptySegment:
            message =
                "path `\(path)` has an empty segment at offset \(offset): join field names with single dots,"
                + " e.g. session.teacher.id"
        case .invalidCharacter:
            var shown = "?"
            if let character {
                let invisible = character.value < 0x20 || (character.value > 0x20 && character.properties.isWhitespace)
                shown = invisible ? character.escaped(asASCII: true) : String(character)
            }
            message =
                "path `\(path)` has `\(shown)` at offset \(offset): segments may hold letters, digits,"
                + " `_`, `-`, `$` and `@`, joined by dots"
        }
    }

    /// The same as ``message``.
    public var description: String { message }
}

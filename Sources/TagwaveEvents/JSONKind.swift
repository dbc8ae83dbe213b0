/// The six kinds of JSON value, for messages ("the payload is an array") and quick checks.
public enum JSONKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `{…}`
    case object
    /// `[…]`
    case array
    /// `"…"`
    case string
    /// `-0.5e10`
    case number
    /// `true` or `false`
    case bool
    /// `null`
    case null

    /// The kind with its article, for sentences: `an object`, `a string`, `null`.
    public var withArticle: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The kind's name: `object`, `array`, `string`, `number`, `bool`, `null`.
    public var description: String { rawValue }
}

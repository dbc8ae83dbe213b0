/// The value found at a ``JSONPath`` by ``JSONScanner``: a scalar, decoded, or a marker that the
/// path names an object or an array (whose contents the scanner does not build).
public enum JSONScalar: Sendable, Hashable, CustomStringConvertible {
    /// A string, with its escapes decoded (`"caf\u00e9"` is `café`).
    case string(String)
    /// A number, as its literal text in the document (`-0.5e10`, `1.0`, `42`), never reformatted.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
    /// The path names an object; its members were validated but not built.
    case object
    /// The path names an array; its elements were validated but not built.
    case array

    /// Which kind of JSON value this is.
    public var kind: JSONKind {
        switch self {
        case .string: return .string
        case .number: return .number
        case .bool: return .bool
        case .null: return .null
        case .object: return .object
        case .array: return .array
        }
    }

    /// The text a template renders for this value: a string as is, a number as its literal,
    /// a boolean as `true`/`false`; nil for `null`, objects and arrays, which fill no placeholder.
    public var text: String? {
        switch self {
        case .string(let text), .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null, .object, .array: return nil
        }
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as JSON text: `"a\"b"`, `-0.5e10`, `true`, `null`, `{…}`, `[…]`.
    public var description: String {
        switch self {
        case .string(let text): return JSONValue.string(text).serialized()
        case .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .object: return "{…}"
        case .array: return "[…]"
        }
    }
}

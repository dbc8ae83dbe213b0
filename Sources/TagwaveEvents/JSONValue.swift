/// A whole JSON document in memory, for the places that need all of it (the ledger, the CLI).
///
/// Objects keep their members in document order, repeats included, so that a value serializes
/// back to the same members in the same order; numbers keep their literal text (`1.0` stays
/// `1.0`, `12345678901234567890` loses nothing). On the hot path, prefer ``JSONScanner``, which
/// decodes only the fields it is asked for.
///
/// ```swift
/// let value = try JSONValue.parse(#"{"teacherId":"t1","tags":["a","b"]}"#)
/// value["teacherId"]        // .string("t1")
/// value.serialized()        // {"teacherId":"t1","tags":["a","b"]}
/// ```
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// An object: its members in document order.
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string (decoded: no escapes).
    case string(String)
    /// A number as its literal JSON text, e.g. `-0.5e10`. Must follow JSON's number grammar.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// A number from an integer: `.integer(42)` is `.number("42")`.
    public static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// Which kind of value this is.
    public var kind: JSONKind {
        switch self {
        case .object: return .object
        case .array: return .array
        case .string: return .string
        case .number: return .number
        case .bool: return .bool
        case .null: return .null
        }
    }

    /// The member of an object with this name (the last one, if the name repeats); nil when this
    /// is not an object or has no such member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// The element of an array at this position; nil when this is not an array or the position is
    /// out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value at a dotted path, following the same rules as ``JSONScanner``: a digits segment
    /// indexes arrays, and names objects' members.
    ///
    /// - Parameter path: The path, e.g. `session.teacher.id`.
    /// - Returns: The value there, or nil when it is absent.
    public func value(at path: JSONPath) -> JSONValue? {
        var current = self
        for segment in path.segments {
            switch current {
            case .object:
                guard let next = current[segment] else { return nil }
                current = next
            case .array:
                guard let position = Int(segment), String(position) == segment, let next = current[position] else {
                    return nil
                }
                current = next
            default:
                return nil
            }
        }
        return current
    }

    /// The text, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value, when this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The members, when this is an object.
    public var members: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements, when this is an array.
    public var elements: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Compact JSON text, the same as ``serialized(prettyPrinted:)``.
    public var description: String { serialized() }

    /// Values are equal when they are of the same kind with equal contents; objects compare their
    /// members in order, and numbers their literal text (`1.0` is not `1`).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let left), .object(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let left), .array(let right)): return left == right
        case (.string(let left), .string(let right)): return left == right
        case (.number(let left), .number(let right)): return left == right
        case (.bool(let left), .bool(let right)): return left == right
        case (.null, .null): return true
        default: return false
        }
    }

    /// Hashes the kind and contents, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        switch self {
        case .object(let members):
            hasher.combine(members.count)
            for member in members {
                hasher.combine(member.key)
                hasher.combine(member.value)
            }
        case .array(let elements): hasher.combine(elements)
        case .string(let text), .number(let text): hasher.combine(text)
        case .bool(let value): hasher.combine(value)
        case .null: break
        }
    }
}

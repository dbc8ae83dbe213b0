import Foundation
import TagwaveEvents

/// JSON text carried inside a JSON document as the value it holds, not as a string: an event's
/// payload in `--json` output reads `"payload": {"teacherId": "t1"}`, so `jq .payload.teacherId` works.
///
/// Text that does not parse (it cannot come from the worker, which rejects it) is encoded as a string.
public struct JSONPayload: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// The JSON text.
    public let text: String

    /// A payload from its text.
    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    public func encode(to encoder: any Encoder) throws {
        guard let value = try? JSONValue.parse(text) else {
            var container = encoder.singleValueContainer()
            try container.encode(text)
            return
        }
        try EncodableJSONValue(value).encode(to: encoder)
    }
}

/// A ``JSONValue`` through `Encodable`. Numbers keep their digits (as `Decimal`).
struct EncodableJSONValue: Encodable {
    let value: JSONValue

    init(_ value: JSONValue) {
        self.value = value
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch value {
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for (key, member) in members {
                try container.encode(EncodableJSONValue(member), forKey: Key(stringValue: key))
            }
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(EncodableJSONValue(element)) }
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .number(let literal):
            var container = encoder.singleValueContainer()
            if let integer = Int64(literal) {
                try container.encode(integer)
            } else if let decimal = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")) {
                try container.encode(decimal)
            } else {
                try container.encode(literal)
            }
        case .bool(let flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        }
    }
}

/// Why a stream entry is not a valid event (a poison event): what is wrong, and what the producer
/// should send instead.
///
/// ``code`` is a stable snake_case string recorded in the dead-letter table and matched by
/// operators and alerts; it never changes for a given problem:
///
/// | code | problem |
/// |---|---|
/// | `missing_type`, `missing_payload` | a required field is absent |
/// | `duplicate_<field>` | an envelope field appears more than once (`duplicate_type`, …) |
/// | `invalid_type` | `type` is empty or not a dotted event type |
/// | `invalid_id`, `invalid_source` | empty, or not UTF-8 |
/// | `invalid_occurred_at` | neither an RFC 3339 time nor Unix epoch milliseconds |
/// | `invalid_traceparent` | not a W3C `traceparent` |
/// | `oversized` | `payload` is larger than the limit |
/// | `invalid_json` | `payload` is not valid JSON |
/// | `payload_not_object` | `payload` is valid JSON but not an object |
///
/// ``description`` is the sentence for people, e.g. "field `payload` is not a JSON object (it is an
/// array): send payload as a JSON object such as {"teacherId":"t1"}".
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Reason: Hashable {
        case missingField(String, similar: String?)
        case duplicateField(String, count: Int)
        case payloadNotObject(JSONKind)
        case invalidJSON(JSONError)
        case oversized(Int, limit: Int)
        case invalidField(String, value: String, why: String)
    }

    private let reason: Reason

    private init(_ reason: Reason) { self.reason = reason }

    static func missingField(_ name: String, similar: String? = nil) -> EventDecodingError {
        EventDecodingError(.missingField(name, similar: similar))
    }

    static func duplicateField(_ name: String, count: Int) -> EventDecodingError {
        EventDecodingError(.duplicateField(name, count: count))
    }

    static func payloadNotObject(_ kind: JSONKind) -> EventDecodingError { EventDecodingError(.payloadNotObject(kind)) }

    static func invalidJSON(_ error: JSONError) -> EventDecodingError { EventDecodingError(.invalidJSON(error)) }

    static func oversized(_ bytes: Int, limit: Int) -> EventDecodingError {
        EventDecodingError(.oversized(bytes, limit: limit))
    }

    static func invalidField(_ name: String, value: String, why: String) -> EventDecodingError {
        EventDecodingError(.invalidField(name, value: value, why: why))
    }

    /// The stable reason code recorded with the dead letter: `missing_type`, `invalid_json`, …
    public var code: String {
        switch reason {
        case .missingField(let name, _): return "missing_\(name)"
        case .duplicateField(let name, _): return "duplicate_\(name)"
        case .payloadNotObject: return "payload_not_object"
        case .invalidJSON: return "invalid_json"
        case .oversized: return "oversized"
        case .invalidField(let name, _, _): return "invalid_\(name)"
        }
    }

    /// The envelope field at fault: `type`, `payload`, `occurred_at`, …
    public var field: String {
        switch reason {
        case .missingField(let name, _), .duplicateField(let name, _), .invalidField(let name, _, _): return name
        case .payloadNotObject, .invalidJSON, .oversized: return "payload"
        }
    }

    /// The offending value, for fields other than `payload` (shortened to 100 characters).
    public var value: String? {
        if case .invalidField(_, let value, _) = reason { return value }
        return nil
    }

    /// The parser's error, when the payload is not valid JSON.
    public var jsonError: JSONError? {
        if case .invalidJSON(let error) = reason { return error }
        return nil
    }

    /// The payload's size and the limit it exceeds, when the code is `oversized`.
    public var sizeAndLimit: (bytes: Int, limit: Int)? {
        if case .oversized(let bytes, let limit) = reason { return (bytes, limit) }
        return nil
    }

    /// What is wrong and what the producer should send instead, as one sentence.
    public var description: String {
        let object = #"send payload as a JSON object such as {"teacherId":"t1"}"#
        switch reason {
        case .missingField(let name, let similar):
            let hint =
                similar.map { " (there is a field `\($0)`: envelope field names are exact and lower-case)" } ?? ""
            return "field `\(name)` is missing\(hint): \(EventDecodingError.advice(for: name))"
        case .duplicateField(let name, let count):
            return "field `\(name)` appears \(count) times: send each envelope field once"
        case .payloadNotObject(let kind):
            return "field `payload` is not a JSON object (it is \(kind.withArticle)): \(object)"
        case .invalidJSON(let error):
            return "field `payload` is not valid JSON (\(error.message)): \(object)"
        case .oversized(let bytes, let limit):
            return "field `payload` is \(bytes) bytes, over the limit of \(limit): send only what handlers need"
                + " (ids rather than whole records), or raise the limit"
        case .invalidField(let name, let value, let why):
            return "field `\(name)` is `\(value)`, \(why): \(EventDecodingError.advice(for: name))"
        }
    }

    private static func advice(for field: String) -> String {
        switch field {
        case "type":
            return "send a dotted event type of letters, digits, `_` and `-`, such as `session.created`"
        case "payload":
            return #"send payload as a JSON object such as {"teacherId":"t1"}, or {} when there is nothing to say"#
        case "id":
            return "send a non-empty UTF-8 producer id, or leave the field out to use the stream entry id"
        case "occurred_at":
            return "send an RFC 3339 time such as 2024-05-01T12:00:00Z or Unix epoch milliseconds such as"
                + " 1714564800000, or leave the field out"
        case "traceparent":
            return "send a W3C traceparent, 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags> in lower case,"
                + " such as 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, or leave the field out"
        default:
            return "send non-empty UTF-8 text, or leave the field out"
        }
    }
}

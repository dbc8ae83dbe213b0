import TagwaveEvents
import Testing

/// Stream entry fields from name/value strings.
private func entry(_ fields: (String, String)...) -> [(name: [UInt8], value: [UInt8])] {
    fields.map { (bytes($0.0), bytes($0.1)) }
}

/// The error decoding an entry throws, or nil when it decodes.
private func decodingError(_ fields: [(name: [UInt8], value: [UInt8])], maxPayloadBytes: Int = 1 << 20)
    -> EventDecodingError?
{
    do {
        _ = try Event.decode(fields: fields, maxPayloadBytes: maxPayloadBytes)
        return nil
    } catch {
        return error
    }
}

private let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

@Suite("The event envelope")
struct EventDecodingTests {
    @Test func everyEnvelopeFieldIsDecodedAndTheRestIsKeptAsMetadataInOrder() throws {
        let event = try Event.decode(
            fields: entry(
                ("x-tenant", "acme"), ("type", "session.created"), ("payload", #"{"teacherId":"t1"}"#), ("id", "evt-1"),
                ("occurred_at", "2024-05-01T12:00:00Z"), ("source", "api"), ("traceparent", traceparent),
                ("retry", "2")))
        #expect(event.type == "session.created")
        #expect(event.payload == bytes(#"{"teacherId":"t1"}"#))
        #expect(event.id == "evt-1")
        #expect(event.occurredAt?.millisecondsSinceEpoch == 1_714_564_800_000)
        #expect(event.source == "api")
        #expect(event.traceparent == traceparent)
        #expect(event.metadata.map { "\($0.name)=\($0.value)" } == ["x-tenant=acme", "retry=2"])
    }

    @Test func onlyTypeAndPayloadAreRequired() throws {
        let event = try Event.decode(fields: entry(("type", "user.updated"), ("payload", "{}")))
        #expect(event == Event(type: "user.updated", payload: bytes("{}")))
        #expect(
            try Event.decode(fields: entry(("type", "x"), ("payload", "{}"), ("occurred_at", "1714564800000")))
                .occurredAt
                == EventTime(millisecondsSinceEpoch: 1_714_564_800_000))
    }

    @Test func aMissingTypeIsReportedByName() {
        let error = decodingError(entry(("payload", "{}")))
        #expect(error?.code == "missing_type")
        #expect(error?.field == "type")
        #expect(
            error?.description
                == "field `type` is missing: send a dotted event type of letters, digits, `_` and `-`,"
                + " such as `session.created`"
        )
        let misspelled = decodingError(entry(("Type", "a.b"), ("payload", "{}")))
        #expect(misspelled?.code == "missing_type")
        #expect(
            misspelled?.description.contains("(there is a field `Type`: envelope field names are exact and lower-case)")
                == true)
    }

    @Test func aMissingPayloadIsReportedByName() {
        let error = decodingError(entry(("type", "a.b")))
        #expect(error?.code == "missing_payload")
        #expect(error?.description.hasPrefix("field `payload` is missing: send payload as a JSON object") == true)
    }

    @Test func typesMustBeDottedSegmentsOfSafeCharacters() throws {
        for valid in ["session.created", "user_updated", "Order.Line-Item.v2", "a", "0.1"] {
            #expect(decodingError(entry(("type", valid), ("payload", "{}"))) == nil, "\(valid)")
        }
        let cases: [(String, String)] = [
            ("", "which is empty"), ("session created", "which contains ` `"), ("a..b", "which has an empty segment"),
            (".a", "which has an empty segment"), ("a.", "which has an empty segment"), ("a:b", "which contains `:`"),
            ("sessión.created", "which contains `non-ASCII text`"), ("a\nb", "which contains `\\n`"),
            (String(repeating: "a", count: 256), "which is longer than 255 bytes"),
        ]
        for (type, why) in cases {
            let error = decodingError(entry(("type", type), ("payload", "{}")))
            #expect(error?.code == "invalid_type", "\(type)")
            #expect(error?.description.contains(why) == true, "\(String(describing: error))")
        }
        #expect(
            decodingError(entry(("type", "session created"), ("payload", "{}")))?.description
                == "field `type` is `session created`, which contains ` `: send a dotted event type of letters, digits,"
                + " `_` and `-`, such as `session.created`")
    }

    @Test func aPayloadThatIsValidJSONButNotAnObjectSaysWhatItIs() {
        let error = decodingError(entry(("type", "a.b"), ("payload", #"[{"teacherId":"t1"}]"#)))
        #expect(error?.code == "payload_not_object")
        #expect(error?.field == "payload")
        #expect(
            error?.description
                == "field `payload` is not a JSON object (it is an array): "
                + #"send payload as a JSON object such as {"teacherId":"t1"}"#
        )
        for (payload, kind) in [(#""t1""#, "a string"), ("42", "a number"), ("null", "null"), ("true", "a boolean")] {
            #expect(
                decodingError(entry(("type", "a.b"), ("payload", payload)))?.description.contains("(it is \(kind))")
                    == true)
        }
    }

    @Test func aPayloadThatIsNotJSONCarriesTheParserError() {
        let error = decodingError(entry(("type", "a.b"), ("payload", #"{"teacherId":"t1}"#)))
        #expect(error?.code == "invalid_json")
        #expect(error?.jsonError?.code == .unterminatedString)
        #expect(error?.jsonError?.offset == 13)
        #expect(
            error?.description
                == #"field `payload` is not valid JSON (unterminated string at byte 13: close it with '"'): "#
                + #"send payload as a JSON object such as {"teacherId":"t1"}"#
        )
        #expect(decodingError(entry(("type", "a.b"), ("payload", "")))?.code == "invalid_json")
        #expect(decodingError(entry(("type", "a.b"), ("payload", "{} {}")))?.code == "invalid_json")
    }

    @Test func anOversizedPayloadIsRefusedBeforeItIsParsed() {
        let payload = #"{"blob":""# + String(repeating: "x", count: 100) + #""}"#
        let error = decodingError(entry(("type", "a.b"), ("payload", payload + "not even JSON")), maxPayloadBytes: 64)
        #expect(error?.code == "oversized")
        #expect(error?.sizeAndLimit?.bytes == 124)
        #expect(error?.sizeAndLimit?.limit == 64)
        #expect(
            error?.description.hasPrefix(
                "field `payload` is 124 bytes, over the limit of 64: send only what handlers need") == true)
        #expect(decodingError(entry(("type", "a.b"), ("payload", payload)), maxPayloadBytes: 111) == nil)
    }

    @Test func aMalformedOccurredAtIsReportedWithItsValue() {
        let error = decodingError(entry(("type", "a.b"), ("payload", "{}"), ("occurred_at", "2024-02-30T10:00:00Z")))
        #expect(error?.code == "invalid_occurred_at")
        #expect(error?.field == "occurred_at")
        #expect(error?.value == "2024-02-30T10:00:00Z")
        #expect(
            error?.description
                == "field `occurred_at` is `2024-02-30T10:00:00Z`, which is neither an RFC 3339 time nor Unix epoch"
                + " milliseconds: send an RFC 3339 time such as 2024-05-01T12:00:00Z or Unix epoch milliseconds such as"
                + " 1714564800000, or leave the field out")
    }

    @Test func traceparentMustBeW3CTraceContext() {
        let cases: [(String, String)] = [
            ("abc", "which is not 00-<32 hex>-<16 hex>-<2 hex>"),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "whose version is not 00"),
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "which has upper-case hex digits"),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "whose trace id is all zeros"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "whose parent id is all zeros"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", "which is not 00-<32 hex>-<16 hex>-<2 hex>"),
            ("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", "which is not 00-<32 hex>-<16 hex>-<2 hex>"),
            ("", "which is not 00-<32 hex>-<16 hex>-<2 hex>"),
        ]
        for (value, why) in cases {
            let error = decodingError(entry(("type", "a.b"), ("payload", "{}"), ("traceparent", value)))
            #expect(error?.code == "invalid_traceparent", "\(value)")
            #expect(
                error?.description.hasPrefix("field `traceparent` is `\(value)`, \(why): send a W3C traceparent")
                    == true, "\(value)")
        }
    }

    @Test func idAndSourceMustBeNonEmptyUTF8() {
        let empty = decodingError(entry(("type", "a.b"), ("payload", "{}"), ("id", "")))
        #expect(empty?.code == "invalid_id")
        #expect(
            empty?.description
                == "field `id` is ``, which is empty: send a non-empty UTF-8 producer id,"
                + " or leave the field out to use the stream entry id"
        )
        let binary = decodingError([
            (bytes("type"), bytes("a.b")), (bytes("payload"), bytes("{}")), (bytes("id"), [0x61, 0xFF]),
        ])
        #expect(binary?.code == "invalid_id")
        #expect(binary?.value == "a\u{FFFD}")
        #expect(decodingError(entry(("type", "a.b"), ("payload", "{}"), ("source", "")))?.code == "invalid_source")
    }

    @Test func envelopeFieldsMayAppearOnlyOnce() {
        let error = decodingError(entry(("type", "a.b"), ("payload", "{}"), ("type", "c.d"), ("type", "e")))
        #expect(error?.code == "duplicate_type")
        #expect(error?.description == "field `type` appears 3 times: send each envelope field once")
        #expect(
            decodingError(entry(("type", "a.b"), ("payload", "{}"), ("payload", "{}")))?.code == "duplicate_payload")
    }

    @Test func theReasonCodesAreStable() {
        // These strings are stored in the dead-letter table: changing one breaks operators' queries.
        let codes = [
            decodingError(entry(("payload", "{}"))), decodingError(entry(("type", "a"))),
            decodingError(entry(("type", ""), ("payload", "{}"))),
            decodingError(entry(("type", "a"), ("payload", "[]"))),
            decodingError(entry(("type", "a"), ("payload", "{"))),
            decodingError(entry(("type", "a"), ("payload", "{}")), maxPayloadBytes: 1),
            decodingError(entry(("type", "a"), ("payload", "{}"), ("occurred_at", "x"))),
            decodingError(entry(("type", "a"), ("payload", "{}"), ("traceparent", "x"))),
            decodingError(entry(("type", "a"), ("payload", "{}"), ("id", ""))),
            decodingError(entry(("type", "a"), ("payload", "{}"), ("source", ""))),
            decodingError(entry(("type", "a"), ("type", "a"), ("payload", "{}"))),
        ].map { $0?.code }
        #expect(
            codes == [
                "missing_type", "missing_payload", "invalid_type", "payload_not_object", "invalid_json", "oversized",
                "invalid_occurred_at", "invalid_traceparent", "invalid_id", "invalid_source", "duplicate_type",
            ])
    }

    @Test func encodingThenDecodingGivesTheSameEvent() throws {
        let event = Event(
            type: "session.created", payload: .object([("teacherId", .string("t1")), ("n", .integer(3))]), id: "evt-9",
            occurredAt: EventTime(millisecondsSinceEpoch: 1_714_564_800_123), source: "api", traceparent: traceparent,
            metadata: [("x-tenant", "acme"), ("note", "café ☕")])
        let fields = event.encodeFields()
        #expect(
            fields.map(\.name) == ["type", "payload", "id", "occurred_at", "source", "traceparent", "x-tenant", "note"])
        #expect(fields[3].value == bytes("2024-05-01T12:00:00.123Z"))
        let decoded = try Event.decode(fields: fields.map { (bytes($0.name), $0.value) })
        #expect(decoded == event)
        let minimal = Event(type: "a", payload: bytes("{}"))
        #expect(try Event.decode(fields: minimal.encodeFields().map { (bytes($0.name), $0.value) }) == minimal)
    }

    @Test func entriesCanBeDecodedFromBuffersReadInPlace() throws {
        let owned = entry(("type", "a.b"), ("payload", #"{"k":1}"#), ("meta", "v"))
        let event = try owned[0].name.withUnsafeBytes { n0 in
            try owned[0].value.withUnsafeBytes { v0 in
                try owned[1].name.withUnsafeBytes { n1 in
                    try owned[1].value.withUnsafeBytes { v1 in
                        try owned[2].name.withUnsafeBytes { n2 in
                            try owned[2].value.withUnsafeBytes { v2 in
                                try Event.decode(fields: [(n0, v0), (n1, v1), (n2, v2)])
                            }
                        }
                    }
                }
            }
        }
        #expect(event == Event(type: "a.b", payload: bytes(#"{"k":1}"#), metadata: [("meta", "v")]))
    }

    @Test func decodingCanExtractTheRulesFieldsInTheSamePass() throws {
        let scanner = JSONScanner(paths: ["teacherId", "session.schoolId"])
        let fields = entry(("type", "session.created"), ("payload", #"{"session":{"schoolId":"s1"},"teacherId":"t1"}"#))
        let (event, values) = try Event.decode(fields: fields) { type in type == "session.created" ? scanner : nil }
        #expect(event.type == "session.created")
        #expect(values == [.string("t1"), .string("s1")])
        let (_, none) = try Event.decode(fields: entry(("type", "other"), ("payload", "{}"))) { _ in nil }
        #expect(none.isEmpty)
        let error = #expect(throws: EventDecodingError.self) {
            try Event.decode(fields: entry(("type", "session.created"), ("payload", #"[{"teacherId":"t1"}]"#))) { _ in
                scanner
            }
        }
        #expect(error?.code == "payload_not_object")
    }

    @Test func publishersCanCheckAnEventBeforeSendingIt() throws {
        try Event(type: "a.b", payload: .object([])).validate()
        let reserved = #expect(throws: EventDecodingError.self) {
            try Event(type: "a.b", payload: .object([]), metadata: [("type", "c")]).validate()
        }
        #expect(reserved?.code == "duplicate_type")
        let notObject = #expect(throws: EventDecodingError.self) {
            try Event(type: "a.b", payload: .array([])).validate()
        }
        #expect(notObject?.code == "payload_not_object")
    }
}

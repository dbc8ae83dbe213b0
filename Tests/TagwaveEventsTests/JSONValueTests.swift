import TagwaveEvents
import Testing

@Suite("Whole JSON values for the ledger and the CLI")
struct JSONValueTests {
    @Test func objectsKeepTheirMembersInDocumentOrderRepeatsIncluded() throws {
        let value = try JSONValue.parse(#"{"z":1,"a":2,"z":3}"#)
        #expect(value.members?.map(\.key) == ["z", "a", "z"])
        #expect(value["z"] == .number("3"))
        #expect(value.serialized() == #"{"z":1,"a":2,"z":3}"#)
    }

    @Test func serializingEscapesQuotesBackslashesAndControlCharactersOnly() {
        let value = JSONValue.object([("k\"", .string("a\"b\\c/d\n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F}é😀"))])
        #expect(value.serialized() == #"{"k\"":"a\"b\\c/d\n\r\t\b\f\u0000\u001F"# + "\u{7F}é😀\"}")
    }

    @Test func prettyPrintingIndentsByTwoSpaces() {
        let value = JSONValue.object([
            ("id", .integer(7)), ("tags", .array([.string("a"), .bool(false)])), ("empty", .object([])),
            ("none", .array([])),
        ])
        #expect(
            value.serialized(prettyPrinted: true) == """
                {
                  "id": 7,
                  "tags": [
                    "a",
                    false
                  ],
                  "empty": {},
                  "none": []
                }
                """)
    }

    @Test func valuesAreFoundByPathAndByIndex() throws {
        let value = try JSONValue.parse(#"{"items":[{"id":"i0"},{"id":"i1"}],"n":null}"#)
        #expect(value.value(at: "items.1.id") == .string("i1"))
        #expect(value.value(at: "items.2.id") == nil)
        #expect(value.value(at: "n") == .null)
        #expect(value["items"]?[0]?["id"]?.stringValue == "i0")
        #expect(value.value(at: "n.x") == nil)
    }

    @Test func numbersCompareByTheirLiteralText() {
        #expect(JSONValue.number("1.0") != JSONValue.number("1"))
        #expect(JSONValue.integer(-12) == .number("-12"))
        #expect(Set([JSONValue.object([("a", .null)]), .object([("a", .null)])]).count == 1)
    }
}

import Foundation

/// The JSON the ledger writes into its TEXT columns: objects of strings (event metadata),
/// arrays of `[name, value]` pairs (raw stream entries) and an outcome's tags. Encoding is hand-written because it runs
/// for every recorded event; decoding only runs for reads and uses Foundation.
enum JSONText {
    /// `{"a":"1","b":"2"}`, keys sorted, so equal dictionaries give equal text.
    static func object(_ dictionary: [String: String]) -> String {
        var text: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in dictionary.keys.sorted().enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            appendString(key.utf8, to: &text)
            text.append(UInt8(ascii: ":"))
            appendString(dictionary[key]!.utf8, to: &text)
        }
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
    }

    /// `[["type","x"],["payload","{}"]]`, in the given order.
    static func pairs(_ fields: [LedgerDeadLetter.Field]) -> String {
        var text: [UInt8] = [UInt8(ascii: "[")]
        for (index, field) in fields.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            text.append(UInt8(ascii: "["))
            appendString(field.name.utf8, to: &text)
            text.append(UInt8(ascii: ","))
            appendString(field.value.utf8, to: &text)
            text.append(UInt8(ascii: "]"))
        }
        text.append(UInt8(ascii: "]"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `[{"tag":"teacher:1","removed":3},{"tag":"school:2"}]`, in the given order, as
    /// UTF-8. Byte by byte into a buffer the caller reuses: this runs per event on the ledger's thread.
    static func appendTags(_ tags: [LedgerTagInvalidation], to text: inout [UInt8]) {
        text.append(UInt8(ascii: "["))
        for (index, tag) in tags.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            text.append(contentsOf: #"{"tag":"#.utf8)
            appendString(tag.tag.utf8, to: &text)
            if let removed = tag.entriesRemoved {
                text.append(contentsOf: #","removed":"#.utf8)
                appendDecimal(removed, to: &text)
            }
            text.append(UInt8(ascii: "}"))
        }
        text.append(UInt8(ascii: "]"))
    }

    /// Appends `value` in decimal.
    private static func appendDecimal(_ value: Int, to text: inout [UInt8]) {
        if value < 0 { text.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = text.count
        repeat {
            text.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        text[start...].reverse()
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a JSON string literal: quotes, backslashes and control characters
    /// escaped (`\u00xx` for the control characters without a short form), everything else (UTF-8
    /// included) as it is.
    static func appendString(_ string: String.UTF8View, to text: inout [UInt8]) {
        string.withBytes { appendString(bytes: $0, to: &text) }
    }

    private static func appendString(bytes: UnsafeBufferPointer<UInt8>, to text: inout [UInt8]) {
        text.append(UInt8(ascii: "\""))
        // Tags and ids rarely hold a character to escape: copied whole when they hold none.
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            text.append(contentsOf: bytes)
        } else {
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): text.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): text.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): text.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): text.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): text.append(contentsOf: #"\t"#.utf8)
                case ..<0x20:
                    text.append(contentsOf: #"\u00"#.utf8)
                    text.append(hexDigits[Int(byte >> 4)])
                    text.append(hexDigits[Int(byte & 0x0F)])
                default: text.append(byte)
                }
            }
        }
        text.append(UInt8(ascii: "\""))
    }

    /// The tags written by ``appendTags(_:to:)``; nil when the text is not such an array.
    static func decodeTags(_ text: String) -> [LedgerTagInvalidation]? {
        struct Tag: Decodable {
            let tag: String
            let removed: Int?
        }
        return (try? JSONDecoder().decode([Tag].self, from: Data(text.utf8)))?.map {
            LedgerTagInvalidation(tag: $0.tag, entriesRemoved: $0.removed)
        }
    }

    /// The object written by ``object(_:)``; nil when the text is not such an object.
    static func decodeObject(_ text: String) -> [String: String]? {
        try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    /// The pairs written by ``pairs(_:)``; nil when the text is not such an array.
    static func decodePairs(_ text: String) -> [LedgerDeadLetter.Field]? {
        guard let arrays = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)),
            arrays.allSatisfy({ $0.count == 2 })
        else { return nil }
        return arrays.map { LedgerDeadLetter.Field(name: $0[0], value: $0[1]) }
    }
}

/// The envelope's rules for field values that are more than "non-empty UTF-8".
enum EnvelopeRules {
    /// The longest event type accepted, in bytes.
    static let maximumTypeLength = 255

    /// Why `type` is not a dotted event type (segments of ASCII letters, digits, `_` and `-`,
    /// joined by single dots, at most 255 bytes), or nil when it is one.
    static func whyInvalidType<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        if bytes.isEmpty { return "which is empty" }
        if bytes.count > maximumTypeLength { return "which is longer than \(maximumTypeLength) bytes" }
        var previous = UInt8(ascii: ".")
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                break
            case UInt8(ascii: "."):
                if previous == UInt8(ascii: ".") {
                    return "which has an empty segment (a dot at an end, or two in a row)"
                }
            default:
                let shown = byte < 0x80 ? Event.shown([byte]) : "non-ASCII text"
                return "which contains `\(shown)`"
            }
            previous = byte
        }
        if previous == UInt8(ascii: ".") { return "which has an empty segment (a dot at an end, or two in a row)" }
        return nil
    }

    /// Why `traceparent` is not a W3C trace context of version 00
    /// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower-case hex, ids not all zeros),
    /// or nil when it is one.
    static func whyInvalidTraceparent<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        let shape = "which is not 00-<32 hex>-<16 hex>-<2 hex>"
        guard bytes.count == 55 else { return shape }
        var traceIDIsZero = true
        var parentIDIsZero = true
        for (offset, byte) in bytes.enumerated() {
            switch offset {
            case 0, 1:
                if byte != UInt8(ascii: "0") { return "whose version is not 00" }
            case 2, 35, 52:
                if byte != UInt8(ascii: "-") { return shape }
            default:
                guard let value = JSONReader.hexValue(byte) else { return shape }
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F") { return "which has upper-case hex digits" }
                if offset < 35 && value != 0 { traceIDIsZero = false }
                if offset > 35 && offset < 52 && value != 0 { parentIDIsZero = false }
            }
        }
        if traceIDIsZero { return "whose trace id is all zeros" }
        if parentIDIsZero { return "whose parent id is all zeros" }
        return nil
    }
}

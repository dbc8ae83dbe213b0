/// A stream entry id split into the two integers the ledger stores (`*_ms`, `*_seq`), so that
/// SQLite orders, compares and MIN/MAXes ids as Redis does.
struct StreamPosition: Sendable, Hashable {
    let milliseconds: Int64
    let sequence: Int64

    /// Parses `1700000000000-3`, or `1700000000000` (sequence 0). Nil when malformed or beyond
    /// SQLite's signed 64-bit integers.
    init?(_ text: String) {
        guard let position = text.utf8.withBytes(Self.parse) else { return nil }
        self = position
    }

    private init(milliseconds: Int64, sequence: Int64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> StreamPosition? {
        var milliseconds: Int64 = 0
        var sequence: Int64 = 0
        var digits = 0
        var seenDash = false
        for byte in text {
            if byte == UInt8(ascii: "-") {
                guard !seenDash, digits > 0 else { return nil }
                seenDash = true
                digits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte &- UInt8(ascii: "0"))
            let (shifted, overflowA) = (seenDash ? sequence : milliseconds).multipliedReportingOverflow(by: 10)
            let (value, overflowB) = shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            if seenDash { sequence = value } else { milliseconds = value }
            digits += 1
        }
        guard digits > 0 else { return nil }
        return StreamPosition(milliseconds: milliseconds, sequence: sequence)
    }
}

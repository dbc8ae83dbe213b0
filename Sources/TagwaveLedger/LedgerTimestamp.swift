import Foundation

/// A point in time as the ledger stores it: whole milliseconds since the Unix epoch, UTC.
///
/// Redis stream entry ids carry the same unit, so an entry's time converts without loss.
public struct LedgerTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// A timestamp from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The timestamp of `date`, rounded down to the millisecond.
    public init(_ date: Date) {
        self.millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The current time.
    public static func now() -> LedgerTimestamp {
        LedgerTimestamp(Date())
    }

    /// The same instant as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000)
    }

    /// This timestamp moved by `duration` (negative to go back), rounded down to the millisecond.
    public func advanced(by duration: Duration) -> LedgerTimestamp {
        LedgerTimestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + duration.wholeMilliseconds)
    }

    /// RFC 3339 with milliseconds, e.g. `2024-05-01T12:00:00.000Z`.
    public var description: String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Orders by time.
    public static func < (lhs: LedgerTimestamp, rhs: LedgerTimestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }
}

extension Duration {
    /// Whole milliseconds, rounded toward negative infinity.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        let remainder = attoseconds % 1_000_000_000_000_000
        return seconds * 1000 + milliseconds - (remainder < 0 ? 1 : 0)
    }

    /// Whole microseconds, rounded toward zero, as the ledger stores durations.
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

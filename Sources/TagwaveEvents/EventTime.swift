#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// When an event happened, to the millisecond: the envelope's `occurred_at`.
///
/// Producers send either an RFC 3339 time (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`)
/// or Unix epoch milliseconds (`1714564800000`); both become milliseconds since
/// 1970-01-01T00:00:00Z. Fractions finer than a millisecond are truncated.
public struct EventTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// The largest value accepted from producers: 9999-12-31T23:59:59.999Z.
    public static let latestAccepted = EventTime(millisecondsSinceEpoch: 253_402_300_799_999)

    /// A time from milliseconds since the Unix epoch.
    ///
    /// - Parameter millisecondsSinceEpoch: Milliseconds since 1970-01-01T00:00:00Z.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Parses the envelope's `occurred_at` text: an RFC 3339 time, or Unix epoch milliseconds.
    ///
    /// RFC 3339 times need a date, a time to the second, an optional fraction and a zone
    /// (`Z` or `±HH:MM`); `T` may be `t` or a space. Epoch milliseconds are decimal digits only,
    /// from 0 up to ``latestAccepted``.
    ///
    /// - Parameter text: The field's text.
    /// - Returns: The time, or nil when the text is neither form.
    public init?(parsing text: String) {
        var text = text
        let parsed = text.withUTF8 { EventTime.parse(UnsafeRawBufferPointer($0)) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The current wall-clock time.
    public static func now() -> EventTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EventTime(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// The time in RFC 3339, UTC, with milliseconds: `2024-05-01T12:00:00.000Z`.
    ///
    /// This is the text ``Event/encodeFields()`` writes into `occurred_at`.
    public var rfc3339: String {
        let (days, milliseconds) = EventTime.floorDivide(millisecondsSinceEpoch, 86_400_000)
        let (year, month, day) = EventTime.civil(fromDays: days)
        let seconds = milliseconds / 1000
        var text = ""
        text.reserveCapacity(24)
        if year < 0 { text += "-" }
        text += EventTime.padded(abs(year), 4)
        text += "-" + EventTime.padded(month, 2) + "-" + EventTime.padded(day, 2)
        text += "T" + EventTime.padded(seconds / 3600, 2) + ":" + EventTime.padded(seconds / 60 % 60, 2)
        text += ":" + EventTime.padded(seconds % 60, 2) + "." + EventTime.padded(milliseconds % 1000, 3) + "Z"
        return text
    }

    /// The same as ``rfc3339``.
    public var description: String { rfc3339 }

    /// Earlier times come first.
    public static func < (lhs: EventTime, rhs: EventTime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

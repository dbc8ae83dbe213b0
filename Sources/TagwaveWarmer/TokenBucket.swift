/// The global rate limit of warm attempts: a token bucket refilled at a steady rate, holding at most
/// a burst. Pure: times are monotonic nanoseconds given by the caller.
struct TokenBucket: Sendable {
    /// Tokens per nanosecond; nil for no limit.
    private let rate: Double?
    private let capacity: Double
    private var tokens: Double
    private var last: UInt64

    /// A full bucket.
    init(ratePerSecond: Double?, burst: Int?, now: UInt64) {
        if let ratePerSecond, ratePerSecond > 0, ratePerSecond.isFinite {
            rate = ratePerSecond / 1e9
            capacity = Double(max(1, burst ?? Int(ratePerSecond.rounded(.down))))
        } else {
            rate = nil
            capacity = 1
        }
        tokens = capacity
        last = now
    }

    /// Takes a token. Returns nil when one was taken, else the nanoseconds until one is available.
    mutating func take(now: UInt64) -> UInt64? {
        guard let rate else { return nil }
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * rate)
            last = now
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return UInt64(((1 - tokens) / rate).rounded(.up))
    }
}

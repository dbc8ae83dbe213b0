/// When each failed event is retried: per event, never per stream, so one failing event does not
/// hold up the ones behind it. A pure value type: no I/O, no clock of its own.
struct RetrySchedule: Sendable {
    struct Pending: Sendable, Equatable {
        var attempts: Int
        var firstFailedAt: Int64
        var dueAt: UInt64
        var lastError: String
    }

    let initialDelay: UInt64
    let maxDelay: UInt64
    private(set) var pending: [String: Pending] = [:]

    init(initialDelay: Duration, maxDelay: Duration) {
        self.initialDelay = UInt64(initialDelay.components.seconds) * 1_000_000_000 + UInt64(initialDelay.components.attoseconds / 1_000_000_000)
        self.maxDelay = max(self.initialDelay, UInt64(maxDelay.components.seconds) * 1_000_000_000 + UInt64(maxDelay.components.attoseconds / 1_000_000_000))
    }

    /// Backoff after `attempts` failures: initial × 2^(attempts-1), capped, then scaled by `jitter`
    /// in [0.5, 1) so that retries of many events do not arrive together.
    func delay(afterAttempts attempts: Int, jitter: Double) -> UInt64 {
        let shift = UInt64(min(max(attempts - 1, 0), 30))
        let (scaled, overflow) = initialDelay.multipliedReportingOverflow(by: 1 << shift)
        let capped = overflow ? maxDelay : min(scaled, maxDelay)
        return UInt64(Double(capped) * (0.5 + min(max(jitter, 0), 0.999) / 2))
    }

    /// Records a failure of `streamID` at its `attempts`-th delivery.
    mutating func failed(_ streamID: String, attempts: Int, error: String, now: UInt64, wallClock: Int64, jitter: Double) {
        let first = pending[streamID]?.firstFailedAt ?? wallClock
        pending[streamID] = Pending(attempts: attempts, firstFailedAt: first, dueAt: now + delay(afterAttempts: attempts, jitter: jitter), lastError: error)
    }

    /// Ids whose retry is due at `now`, oldest due first.
    func due(at now: UInt64, limit: Int) -> [String] {
        pending.filter { $0.value.dueAt <= now }.sorted { $0.value.dueAt < $1.value.dueAt }.prefix(limit).map(\.key)
    }

    /// True when no event waits for a retry.
    var isEmpty: Bool { pending.isEmpty }

    /// The event is done (processed or dead-lettered): forget it.
    mutating func finished(_ streamID: String) -> Pending? {
        pending.removeValue(forKey: streamID)
    }

    func state(of streamID: String) -> Pending? { pending[streamID] }
}

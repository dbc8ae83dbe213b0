import Synchronization

/// The reconnect decisions of one connection, as a pure state machine (no I/O, no clock):
/// when to try again, and which failures and recoveries to report.
///
/// A failure is reported once per outage, not once per attempt: an operator at 3 a.m. sees
/// "lost Redis" and then "reconnected after 12 attempts", not a wall of identical lines.
struct ReconnectBackoff: Sendable {
    enum State: Sendable, Equatable {
        case connected
        /// Disconnected; `attempts` failed reconnects so far; try again at `retryAt` (nanoseconds).
        case disconnected(attempts: Int, since: UInt64, retryAt: UInt64)
    }

    /// What the caller should log after an event.
    enum Report: Sendable, Equatable {
        case none
        case outageStarted
        case recovered(attempts: Int, downtimeNanoseconds: UInt64)
    }

    let initialDelay: UInt64
    let maxDelay: UInt64
    private(set) var state: State = .connected

    init(initialDelay: Duration, maxDelay: Duration) {
        self.initialDelay = initialDelay.nanoseconds
        self.maxDelay = max(maxDelay.nanoseconds, initialDelay.nanoseconds)
    }

    /// The delay after `attempts` consecutive failures: initial × 2^(attempts-1), capped.
    func delay(afterAttempts attempts: Int) -> UInt64 {
        guard attempts > 0 else { return 0 }
        let shift = min(attempts - 1, 32)
        let (scaled, overflow) = initialDelay.multipliedReportingOverflow(by: UInt64(1) << UInt64(shift))
        return overflow ? maxDelay : min(scaled, maxDelay)
    }

    /// May a reconnect be attempted at `now`?
    func mayAttempt(at now: UInt64) -> Bool {
        switch state {
        case .connected: return true
        case .disconnected(_, _, let retryAt): return now >= retryAt
        }
    }

    /// Nanoseconds until the next attempt is allowed (0 when allowed now).
    func waitTime(at now: UInt64) -> UInt64 {
        if case .disconnected(_, _, let retryAt) = state, retryAt > now { return retryAt - now }
        return 0
    }

    /// An established connection broke: the first reconnect may happen at once.
    mutating func connectionLost(at now: UInt64) -> Report {
        guard case .connected = state else { return .none }
        state = .disconnected(attempts: 0, since: now, retryAt: now)
        return .outageStarted
    }

    /// A connect attempt failed.
    mutating func attemptFailed(at now: UInt64) -> Report {
        switch state {
        case .connected:
            state = .disconnected(attempts: 1, since: now, retryAt: now + delay(afterAttempts: 1))
            return .outageStarted
        case .disconnected(let attempts, let since, _):
            state = .disconnected(attempts: attempts + 1, since: since, retryAt: now + delay(afterAttempts: attempts + 1))
            return .none
        }
    }

    /// A connect attempt succeeded.
    mutating func attemptSucceeded(at now: UInt64) -> Report {
        defer { state = .connected }
        if case .disconnected(let attempts, let since, _) = state {
            return .recovered(attempts: attempts + 1, downtimeNanoseconds: now - since)
        }
        return .none
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    var milliseconds: Int64 { Int64(nanoseconds / 1_000_000) }
}

/// The backoff shared by all connections of one ``RedisClient``, so an outage is one outage:
/// one backoff schedule and one log line, however many connections notice it.
final class ConnectionHealth: Sendable {
    private struct State {
        var backoff: ReconnectBackoff
        var lastError: RedisError?
    }

    private let state: Mutex<State>

    init(initialDelay: Duration, maxDelay: Duration) {
        state = Mutex(State(backoff: ReconnectBackoff(initialDelay: initialDelay, maxDelay: maxDelay)))
    }

    /// The error to throw instead of attempting a connect now, or nil when an attempt may be made.
    func refusal(at now: UInt64) -> RedisError? {
        state.withLock { state in
            guard !state.backoff.mayAttempt(at: now) else { return nil }
            let wait = state.backoff.waitTime(at: now) / 1_000_000
            let cause = state.lastError?.message ?? "Redis is unreachable"
            return RedisError(.unavailable, "\(cause) (next reconnect attempt in \(wait) ms)")
        }
    }

    func attemptSucceeded(at now: UInt64) -> ReconnectBackoff.Report {
        state.withLock { state in
            state.lastError = nil
            return state.backoff.attemptSucceeded(at: now)
        }
    }

    func attemptFailed(_ error: RedisError, at now: UInt64) -> ReconnectBackoff.Report {
        state.withLock { state in
            state.lastError = error
            return state.backoff.attemptFailed(at: now)
        }
    }

    func connectionLost(_ error: RedisError, at now: UInt64) -> ReconnectBackoff.Report {
        state.withLock { state in
            state.lastError = error
            return state.backoff.connectionLost(at: now)
        }
    }
}

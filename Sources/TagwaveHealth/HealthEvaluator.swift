import Foundation

/// Judges a ``HealthSample`` against ``HealthThresholds``: each figure beyond a level is a reason,
/// the overall status is the worst reason.
///
/// A pure function of its inputs, so every state can be tested from synthetic samples:
///
/// ```swift
/// var sample = HealthSample()
/// sample.redisConnected = true
/// sample.hits = 50; sample.misses = 150; sample.hitRate = 25
/// HealthEvaluator().evaluate(sample).overall   // .unhealthy: hit rate 25 % is below 60 %
/// ```
public struct HealthEvaluator: Sendable {
    /// The levels it judges by.
    public var thresholds: HealthThresholds

    /// An evaluator with `thresholds` (the defaults unless given).
    public init(thresholds: HealthThresholds = HealthThresholds()) {
        self.thresholds = thresholds
    }

    /// Judges `sample`.
    ///
    /// - Parameters:
    ///   - sample: the figures now.
    ///   - previous: the figures of the previous check, for trends: a lag that grew while the ledger
    ///     recorded nothing means the workers are stalled (degraded), however small the lag still is.
    /// - Returns: the report, reasons worst first.
    public func evaluate(_ sample: HealthSample, previous: HealthSample? = nil) -> HealthReport {
        var reasons: [HealthReport.Reason] = []
        func add(_ component: String, _ status: HealthStatus, _ message: String) {
            reasons.append(HealthReport.Reason(component: component, status: status, message: message))
        }
        func above(_ value: Double, _ levels: HealthThresholds.Levels) -> HealthStatus {
            value > levels.critical ? .unhealthy : value > levels.warning ? .degraded : .healthy
        }
        func below(_ value: Double, _ levels: HealthThresholds.Levels) -> HealthStatus {
            value < levels.critical ? .unhealthy : value < levels.warning ? .degraded : .healthy
        }
        func limit(_ status: HealthStatus, _ levels: HealthThresholds.Levels) -> String {
            Self.number(status == .unhealthy ? levels.critical : levels.warning)
        }

        if !sample.redisConnected {
            let address = sample.redisAddress.map { " at \($0)" } ?? ""
            let error = sample.redisError ?? "no answer"
            let advice = error.contains("REDIS_URL") ? "" : "; check that it runs and that REDIS_URL points at it"
            add("redis", .unhealthy, "Redis\(address) is unreachable: \(error)\(advice)")
        } else {
            if let latency = sample.redisLatencyMilliseconds {
                let status = above(latency, thresholds.redisLatencyMilliseconds)
                if status != .healthy {
                    add(
                        "redis", status,
                        "Redis answered PING in \(Self.number(latency)) ms, above \(limit(status, thresholds.redisLatencyMilliseconds)) ms: "
                            + "look for slow commands (SLOWLOG GET) or an overloaded host"
                    )
                }
            }
            if let usage = sample.memoryUsage {
                let status = above(usage, thresholds.memoryUsage)
                if status != .healthy {
                    add(
                        "redis", status,
                        "Redis uses \(Self.number(usage)) % of maxmemory, above \(limit(status, thresholds.memoryUsage)) %: "
                            + "raise maxmemory or shorten TTLs before evictions start"
                    )
                }
            }
        }
        if let hitRate = sample.hitRate, let reads = sample.reads, reads >= thresholds.minimumReads,
            sample.hitRateSource == .cache || thresholds.judgeKeyspaceHitRate
        {
            let status = below(hitRate, thresholds.hitRate)
            if status != .healthy {
                add(
                    "cache", status,
                    "cache hit rate is \(Self.number(hitRate)) % over \(reads) reads, below \(limit(status, thresholds.hitRate)) %: "
                        + "entries are invalidated or expire faster than they are read"
                )
            }
        }
        if let errorRate = sample.errorRate, (sample.errorRateBasis ?? Int.max) >= thresholds.minimumOperations {
            let status = above(errorRate, thresholds.errorRate)
            if status != .healthy {
                let basis = sample.errorRateBasis.map { "\($0) " } ?? ""
                let what =
                    sample.errorRateSource == .ledger
                    ? "of the \(basis)events of the last hour were dead-lettered" : "of \(basis)cache operations failed"
                add(
                    "cache", status,
                    "\(Self.number(errorRate)) % \(what), above \(limit(status, thresholds.errorRate)) %: "
                        + "see `tagwave dlq list` and the worker logs"
                )
            }
        }
        if let problem = sample.streamProblem, sample.redisConnected {
            add("stream", .degraded, problem)
        }
        if let lag = sample.consumerLag {
            let status = above(Double(lag), thresholds.consumerLag)
            if status != .healthy {
                add(
                    "stream", status,
                    "\(lag) entries of \(sample.stream) wait for group \(sample.group), above \(limit(status, thresholds.consumerLag)): "
                        + "start more workers or look why they are slow"
                )
            } else if let previous, let before = previous.consumerLag, lag > before, lag > 0,
                let seq = sample.latestSeq, let seqBefore = previous.latestSeq, seq == seqBefore
            {
                add(
                    "stream", .degraded,
                    "the lag of group \(sample.group) grew from \(before) to \(lag) entries while no event was recorded: "
                        + "the workers look stalled"
                )
            }
        }
        if let pending = sample.pending {
            let status = above(Double(pending), thresholds.pending)
            if status != .healthy {
                add(
                    "stream", status,
                    "\(pending) entries are delivered to group \(sample.group) and not acknowledged, above \(limit(status, thresholds.pending)): "
                        + "a worker may be stuck or dead (`tagwave offsets` shows which consumer holds them)"
                )
            }
        }
        if let error = sample.ledgerError {
            add("ledger", .degraded, "cannot read the ledger: \(error)")
        }
        if let deadLetters = sample.deadLetters {
            let status = above(Double(deadLetters), thresholds.deadLetters)
            if status != .healthy {
                add(
                    "ledger", status,
                    "\(deadLetters) dead letter\(deadLetters == 1 ? "" : "s") wait\(deadLetters == 1 ? "s" : "") for an operator, above \(limit(status, thresholds.deadLetters)): "
                        + "`tagwave dlq list` shows why"
                )
            }
        }
        let sorted = reasons.enumerated().sorted { ($0.element.status, -$0.offset) > ($1.element.status, -$1.offset) }
            .map(\.element)
        return HealthReport(
            overall: sorted.first?.status ?? .healthy,
            reasons: sorted,
            checkedAt: sample.takenAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            redis: HealthReport.Redis(
                connected: sample.redisConnected, address: sample.redisAddress,
                latency: sample.redisLatencyMilliseconds.map(Self.rounded),
                memoryUsage: sample.memoryUsage.map(Self.rounded), usedMemory: sample.usedMemory,
                maxMemory: sample.maxMemory,
                keyCount: sample.keyCount, error: sample.redisError),
            cache: HealthReport.Cache(
                hitRate: sample.hitRate.map(Self.rounded), errorRate: sample.errorRate.map(Self.rounded),
                hits: sample.hits,
                misses: sample.misses, totalOperations: sample.totalOperations ?? sample.reads,
                hitRateSource: sample.hitRateSource,
                errorRateSource: sample.errorRateSource, avgResponseTime: sample.averageReadMilliseconds.map(Self.rounded)),
            stream: HealthReport.Stream(
                name: sample.stream, group: sample.group, length: sample.streamLength, lag: sample.consumerLag,
                pending: sample.pending,
                consumers: sample.consumers, problem: sample.streamProblem),
            ledger: HealthReport.Ledger(
                deadLetters: sample.deadLetters, eventsPerSecond: sample.eventsPerSecond.map(Self.rounded),
                error: sample.ledgerError)
        )
    }

    /// Two decimals.
    static func rounded(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }

    /// A figure for a message: no decimals when whole, else up to two.
    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
    }
}

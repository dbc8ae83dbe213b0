/// How healthy a Tagwave deployment is, as the seed's health endpoint reports it.
///
/// Ordered: `healthy < degraded < unhealthy`, so the overall status is the worst of its reasons.
public enum HealthStatus: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Every figure is within its thresholds.
    case healthy
    /// Something needs attention (a warning threshold is crossed); the system still works.
    case degraded
    /// Something is broken or about to be (a critical threshold is crossed, Redis is unreachable).
    case unhealthy

    /// The exit code `tagwave health` uses: 0, 1 or 2.
    public var exitCode: Int32 {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .unhealthy: 2
        }
    }

    public static func < (lhs: HealthStatus, rhs: HealthStatus) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .unhealthy: 2
        }
    }
}

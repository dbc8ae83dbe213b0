/// How long an entry stays fresh: an explicit duration, a key class of the TTL policy, or the default.
public enum CacheTTL: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    /// The policy's default (300 s unless configured, or `CACHE_DEFAULT_TTL`).
    case `default`
    /// A key class of the policy, such as `session-list`.
    case keyClass(String)
    /// Exactly this long.
    case duration(Duration)

    /// Seconds.
    public init(integerLiteral seconds: Int) { self = .duration(.seconds(seconds)) }
    /// A key class.
    public init(stringLiteral keyClass: String) { self = .keyClass(keyClass) }
}

/// TTLs per key class with a default: the seed's `CacheTTLConfig`.
public struct CacheTTLPolicy: Sendable, Equatable {
    /// Seconds per key class.
    public var classes: [String: Int]
    /// Seconds for ``CacheTTL/default`` and for unknown classes.
    public var defaultSeconds: Int

    /// The seed's values: session-list 300, session-detail 900, session-analytics 60,
    /// user-profile 1800, user-permissions 600, school-data 3600, roster-data 1800, default 300.
    public static let seed = CacheTTLPolicy(
        classes: [
            "session-list": 300, "session-detail": 900, "session-analytics": 60, "user-profile": 1800,
            "user-permissions": 600, "school-data": 3600, "roster-data": 1800,
        ],
        defaultSeconds: 300)

    /// A policy from classes and a default.
    public init(classes: [String: Int], defaultSeconds: Int) {
        self.classes = classes
        self.defaultSeconds = defaultSeconds
    }

    /// The seed policy with `CACHE_DEFAULT_TTL` (seconds) applied when it is set.
    /// - Throws: ``CacheError`` when the variable is not a positive integer.
    public static func fromEnvironment(_ environment: [String: String], base: CacheTTLPolicy = .seed) throws -> CacheTTLPolicy {
        var policy = base
        if let text = environment["CACHE_DEFAULT_TTL"], !text.isEmpty {
            guard let seconds = Int(text), seconds > 0 else {
                throw CacheError(.serialization, "CACHE_DEFAULT_TTL=\(text) is not a positive number of seconds")
            }
            policy.defaultSeconds = seconds
        }
        return policy
    }

    /// The duration for `ttl`.
    public func duration(for ttl: CacheTTL) -> Duration {
        switch ttl {
        case .default: return .seconds(defaultSeconds)
        case .keyClass(let name): return .seconds(classes[name] ?? defaultSeconds)
        case .duration(let duration): return duration
        }
    }
}

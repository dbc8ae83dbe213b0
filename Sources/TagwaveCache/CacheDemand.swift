import Logging
import Synchronization
import TagwaveRedis

/// How a ``DemandRecorder`` remembers and forgets requests.
public struct DemandConfiguration: Sendable {
    /// The cache's key prefix: demand is kept at `<prefix>:{<tag>}:d`, beside the tag's other keys.
    public var prefix: String = "tw"
    /// How fast old requests stop counting: a request weighs half as much after this long. Every
    /// recorder of one prefix must use the same value (the forecast reads it from Redis, where the
    /// last recorder wrote it). Default 10 minutes; make it hours for pages read once a morning.
    public var halfLife: Duration = .seconds(600)
    /// Requests are counted in memory and sent to Redis at most this often, one script call per tag.
    /// Default 1 s.
    public var flushInterval: Duration = .seconds(1)
    /// The targets each tag remembers: the most requested ones; the rest are forgotten. Default 50.
    public var maxTargetsPerTag: Int = 50
    /// Distinct (tag, target) pairs counted between two flushes; requests for new pairs beyond it are
    /// dropped (counted in ``DemandRecorder/dropped``): a bound on memory when Redis is down.
    public var maxPendingPairs: Int = 10_000

    /// The defaults, for the cache prefix `prefix`.
    public init(prefix: String = "tw") {
        self.prefix = prefix
    }

    /// The time constant τ of the decay, in seconds: `halfLife / ln 2`.
    var timeConstantSeconds: Double { halfLife.fractionalSeconds / DemandRecorder.ln2 }
}

/// Counts which targets (request paths, say) are asked for under which tags, so that predictive
/// warming (`WarmerConfiguration.predictive`) can re-request, after a tag's invalidation, the
/// targets that will most likely be asked for again.
///
/// ``ResponseCacheMiddleware`` in TagwaveHummingbird records every request it may answer from the
/// cache. Requests are counted in memory and added to Redis every ``DemandConfiguration/flushInterval``
/// by the `DEMAND_RECORD` script of docs/cache-protocol.md, which keeps per tag an exponentially
/// decayed request count for each target. Requests sent by the warmer itself (`User-Agent:
/// tagwave-warmer/…`) must not be recorded, or warming would feed its own demand.
///
/// Recording is best effort: when Redis fails, the counts of that flush are dropped and logged;
/// requests are never slowed down.
///
/// ```swift
/// let demand = DemandRecorder(redis: redis, configuration: .init(prefix: "tw"), logger: logger)
/// demand.record(target: "/api/v1/sessions?teacher=42", tags: ["teacher:42"])
/// await demand.flush()   // on shutdown; otherwise it flushes by itself
/// ```
public final class DemandRecorder: Sendable {
    /// How it counts and forgets.
    public let configuration: DemandConfiguration
    private let redis: any RedisCommanding
    private let logger: Logger
    private let keys: CacheKeys
    private let state = Mutex(Pending())

    private struct Pending {
        var counts: [String: [String: Int]] = [:]
        var pairs = 0
        var flushScheduled = false
        var dropped = 0
        var recorded = 0
    }

    /// A recorder writing to `redis` (the cache's Redis) under `configuration.prefix`.
    public init(redis: any RedisCommanding, configuration: DemandConfiguration = .init(), logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
        self.keys = CacheKeys(prefix: configuration.prefix)
    }

    /// Counts one request for `target` under each of `tags`; returns at once. A flush follows
    /// within ``DemandConfiguration/flushInterval``. Tags the cache refuses are skipped.
    public func record(target: String, tags: [String]) {
        guard !tags.isEmpty, !target.isEmpty else { return }
        let schedule = state.withLock { pending -> Bool in
            for tag in tags where TaggedCache.problem(withTag: tag) == nil {
                if pending.counts[tag]?[target] != nil {
                    pending.counts[tag]![target]! += 1
                } else if pending.pairs < configuration.maxPendingPairs {
                    pending.counts[tag, default: [:]][target] = 1
                    pending.pairs += 1
                } else {
                    pending.dropped += 1
                    continue
                }
                pending.recorded += 1
            }
            guard !pending.flushScheduled, pending.pairs > 0 else { return false }
            pending.flushScheduled = true
            return true
        }
        if schedule {
            let interval = configuration.flushInterval
            Task { [self] in
                try? await Task.sleep(for: interval)
                await flush()
            }
        }
    }

    /// Requests counted since the recorder was made (each tag of a request counts once).
    public var recorded: Int { state.withLock { $0.recorded } }

    /// Requests not counted: beyond ``DemandConfiguration/maxPendingPairs``, or lost with a flush
    /// Redis refused.
    public var dropped: Int { state.withLock { $0.dropped } }

    /// Sends the counts gathered so far to Redis, one `DEMAND_RECORD` call per tag in one pipeline.
    /// Failures are logged and the counts dropped.
    public func flush() async {
        let counts = state.withLock { pending in
            defer {
                pending.counts.removeAll(keepingCapacity: true)
                pending.pairs = 0
                pending.flushScheduled = false
            }
            return pending.counts
        }
        guard !counts.isEmpty else { return }
        let fixed: [RedisArgument] = [
            RedisArgument(String(configuration.timeConstantSeconds)),
            RedisArgument(configuration.maxTargetsPerTag),
            RedisArgument(Self.keyLifetimeMilliseconds(configuration)),
        ]
        let commands = counts.map { tag, targets in
            var arguments = fixed
            arguments.reserveCapacity(fixed.count + 2 * targets.count)
            for (target, count) in targets {
                arguments.append(RedisArgument(target))
                arguments.append(RedisArgument(count))
            }
            return RedisCommand.evalsha(Self.recordScript, keys: [RedisArgument(keys.demand(tag))], arguments: arguments)
        }
        let lost: Int
        do {
            let replies = try await redis.pipeline(commands)
            if let refused = replies.lazy.compactMap(\.errorMessage).first {
                logger.warning("demand not recorded: Redis refused \(refused)")
                lost = zip(counts, replies).filter { $0.1.errorMessage != nil }.reduce(0) { $0 + $1.0.value.values.reduce(0, +) }
            } else {
                lost = 0
            }
        } catch {
            logger.warning("demand not recorded: \(error)", metadata: ["tagwave.demand.tags": "\(counts.count)"])
            lost = counts.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        }
        if lost > 0 { state.withLock { $0.dropped += lost } }
    }

    static let ln2 = 0.693_147_180_559_945_3

    /// A tag's demand outlives its last request by ten half-lives (its weight is then below 1/1000),
    /// at least a minute.
    static func keyLifetimeMilliseconds(_ configuration: DemandConfiguration) -> Int64 {
        max(60_000, Int64(configuration.halfLife.fractionalSeconds * 10_000))
    }

    /// `DEMAND_RECORD`, verbatim as in docs/cache-protocol.md. KEYS: the tag's demand key. ARGV: the
    /// decay's time constant τ in seconds, targets kept, key lifetime (ms), then pairs of target and
    /// request count. Each target's score is `ln Σ exp(tᵢ/τ)` over its requests' times tᵢ (Redis's
    /// clock, seconds), summed in log space so it never overflows; the member `""` holds `-τ` for
    /// the forecast. Returns the number of targets kept.
    static let recordScript = RedisScript(
        """
        local t = redis.call('TIME')
        local tau = tonumber(ARGV[1])
        local now = (tonumber(t[1]) + tonumber(t[2]) / 1000000) / tau
        for i = 4, #ARGV, 2 do
          local add = now + math.log(tonumber(ARGV[i + 1]))
          local old = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
          if old then
            local high, low = math.max(old, add), math.min(old, add)
            add = high + math.log(1 + math.exp(low - high))
          end
          redis.call('ZADD', KEYS[1], string.format('%.17g', add), ARGV[i])
        end
        redis.call('ZADD', KEYS[1], string.format('%.17g', -tau), '')
        redis.call('ZREMRANGEBYRANK', KEYS[1], 1, -(tonumber(ARGV[2]) + 1))
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return redis.call('ZCARD', KEYS[1]) - 1
        """)
}

/// A target and how often it is predicted to be requested.
public struct PredictedTarget: Sendable, Hashable, Codable {
    /// What was recorded: a request path with its query, say.
    public var target: String
    /// Requests per minute expected: the decayed request count divided by the decay's time constant.
    public var perMinute: Double

    /// A prediction.
    public init(target: String, perMinute: Double) {
        self.target = target
        self.perMinute = perMinute
    }
}

/// Reads the demand ``DemandRecorder``s wrote: for a tag, the targets expected to be requested at
/// least at a given rate, most requested first.
public struct DemandForecaster: Sendable {
    private let redis: any RedisCommanding
    private let keys: CacheKeys

    /// A forecaster reading `redis` under the cache prefix `prefix`.
    public init(redis: any RedisCommanding, prefix: String = "tw") {
        self.redis = redis
        self.keys = CacheKeys(prefix: prefix)
    }

    /// For each of `tags`, in order, the targets expected at least `minimumPerMinute` times a
    /// minute, most requested first, at most `limit`; one pipeline for all tags.
    /// - Throws: ``CacheError`` when Redis fails.
    public func forecast(tags: [String], minimumPerMinute: Double, limit: Int) async throws -> [[PredictedTarget]] {
        guard !tags.isEmpty else { return [] }
        precondition(minimumPerMinute > 0 && limit > 0, "a forecast needs a positive rate and limit")
        let arguments = [RedisArgument(String(minimumPerMinute)), RedisArgument(limit)]
        let commands = tags.map {
            RedisCommand.evalsha(Self.forecastScript, keys: [RedisArgument(keys.demand($0))], arguments: arguments)
        }
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline(commands)
        } catch let error as RedisError {
            throw CacheError(.redis, "reading demand failed: \(error)", underlying: error)
        }
        return try replies.map { reply in
            if let message = reply.errorMessage {
                throw CacheError(.redis, "reading demand failed: Redis refused the forecast: \(message)")
            }
            let flat = reply.array ?? []
            return stride(from: 0, to: flat.count - 1, by: 2).compactMap { index in
                guard let target = flat[index].string, let rate = flat[index + 1].string.flatMap(Double.init) else { return nil }
                return PredictedTarget(target: target, perMinute: rate)
            }
        }
    }

    /// `DEMAND_FORECAST`, verbatim as in docs/cache-protocol.md. KEYS: the tag's demand key. ARGV:
    /// minimum requests per minute, limit. A target's expected rate is `exp(score − now/τ) / τ`;
    /// the score floor follows from the minimum. Returns target, rate per minute (as text) pairs.
    static let forecastScript = RedisScript(
        """
        local tau = tonumber(redis.call('ZSCORE', KEYS[1], ''))
        if not tau then return {} end
        tau = -tau
        local t = redis.call('TIME')
        local now = (tonumber(t[1]) + tonumber(t[2]) / 1000000) / tau
        local floor = now + math.log(tonumber(ARGV[1]) * tau / 60)
        local found = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', string.format('%.17g', floor),
          'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
        local out = {}
        for i = 1, #found, 2 do
          if found[i] ~= '' then
            out[#out + 1] = found[i]
            out[#out + 1] = string.format('%.6g', math.exp(tonumber(found[i + 1]) - now) / tau * 60)
          end
        end
        return out
        """)
}

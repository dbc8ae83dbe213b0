import Foundation
import Logging
import TagwaveCache
import TagwaveLedger
import TagwaveRedis

/// Gathers a ``HealthSample`` from Redis, the ledger and, when given, a cache's own counters.
///
/// It never throws: what it cannot read is nil in the sample, with the reason (an unreachable
/// Redis is `redisConnected == false` and ``HealthSample/redisError``). Redis is read with two
/// `PING`s (the first may connect; the second is timed alone, for the latency) and one pipeline (`INFO memory`, `INFO stats`, `DBSIZE`,
/// `XINFO STREAM`, `XINFO GROUPS`).
///
/// ```swift
/// let probe = HealthProbe(redis: redis, ledger: ledger, stream: "events", group: "invalidators",
///                         cacheStatistics: cache.statistics, logger: logger)
/// let report = HealthEvaluator().evaluate(await probe.sample())
/// ```
public struct HealthProbe: Sendable {
    let redis: (any RedisCommanding)?
    let ledger: Ledger?
    let stream: String?
    let group: String
    let cacheStatistics: CacheStatistics?
    let logger: Logger

    /// A probe.
    ///
    /// - Parameters:
    ///   - redis: the Redis holding the stream and the cache; nil skips Redis (reported unreachable).
    ///   - ledger: the ledger; nil skips the dead-letter and throughput figures.
    ///   - stream: the stream the workers read; nil skips the stream's figures (a process that
    ///     publishes none).
    ///   - group: their consumer group.
    ///   - cacheStatistics: a cache instance's counters (in a process that caches); nil uses Redis's
    ///     keyspace hits and misses for the hit rate and the ledger's dead-letter rate for the error rate.
    ///   - logger: where failures to read a figure are logged (debug).
    public init(
        redis: (any RedisCommanding)?, ledger: Ledger?, stream: String? = "events", group: String = "invalidators",
        cacheStatistics: CacheStatistics? = nil, logger: Logger
    ) {
        self.redis = redis
        self.ledger = ledger
        self.stream = stream
        self.group = group
        self.cacheStatistics = cacheStatistics
        self.logger = logger
    }

    /// Takes a sample now.
    public func sample() async -> HealthSample {
        var sample = HealthSample(takenAt: Date(), stream: stream ?? "events", group: group)
        if let redis {
            await sampleRedis(redis, into: &sample)
        } else {
            sample.redisError = "no Redis configured"
        }
        if let statistics = cacheStatistics?.snapshot { sample.takeRates(of: statistics) }
        if let ledger {
            do {
                let statistics = try await ledger.statistics()
                sample.deadLetters = statistics.deadLetters.open
                sample.eventsPerSecond = statistics.eventsPerSecondLastMinute
                sample.eventsLastMinute = statistics.eventsLastMinute
                sample.latestSeq = statistics.latestSeq
                if sample.errorRate == nil {
                    sample.errorRate = statistics.deadLetterRateLastHour
                    sample.errorRateSource = .ledger
                    sample.errorRateBasis = statistics.eventsLastHour + statistics.deadLetteredLastHour
                }
            } catch {
                sample.ledgerError = "\(error)"
                logger.debug("health: cannot read the ledger", metadata: ["tagwave.error": "\(error)"])
            }
        }
        return sample
    }

    private func sampleRedis(_ redis: any RedisCommanding, into sample: inout HealthSample) async {
        // On a cluster, each primary keeps its own figures: keys and hits are summed, and memory is
        // that of the primary closest to its maxmemory (the first to evict).
        sample.redisAddress = redis.address
        do {
            // The first PING may (re)connect; the second one times a round trip alone.
            try await redis.send(RedisCommand("PING"))
            let started = ContinuousClock.now
            try await redis.send(RedisCommand("PING"))
            sample.redisLatency = ContinuousClock.now - started
            sample.redisConnected = true
            var nodes: [NodeFigures] = []
            for node in try await redis.primaries() {
                let replies = try await node.pipeline([
                    RedisCommand("INFO", "memory"), RedisCommand("INFO", "stats"), RedisCommand("DBSIZE"),
                ])
                nodes.append(
                    NodeFigures(
                        memory: Self.info(replies[0].string ?? ""), stats: Self.info(replies[1].string ?? ""),
                        keys: replies[2].int))
            }
            if let fullest = nodes.max(by: { $0.fullness < $1.fullness }) {
                sample.usedMemory = fullest.used
                sample.maxMemory = fullest.maximum
            }
            let keyCounts = nodes.compactMap(\.keys)
            sample.keyCount = keyCounts.isEmpty ? nil : Int(keyCounts.reduce(0, +))
            let hits = nodes.compactMap { $0.stats["keyspace_hits"].flatMap { Int($0) } }
            let misses = nodes.compactMap { $0.stats["keyspace_misses"].flatMap { Int($0) } }
            if sample.hitRateSource == nil, !hits.isEmpty, hits.count == misses.count {
                let (hits, misses) = (hits.reduce(0, +), misses.reduce(0, +))
                sample.hits = hits
                sample.misses = misses
                sample.hitRate = hits + misses == 0 ? 100 : Double(hits) * 100 / Double(hits + misses)
                sample.hitRateSource = .redis
            }
            guard let stream else { return }
            let replies = try await redis.pipeline([
                RedisCommand("XINFO", "STREAM", RedisArgument(stream)),
                RedisCommand("XINFO", "GROUPS", RedisArgument(stream)),
            ])
            if let error = replies[0].errorMessage {
                sample.streamProblem =
                    error.contains("no such key")
                    ? "the stream \(stream) does not exist: no worker has started on it and nothing was published"
                    : "cannot read the stream \(stream): \(error)"
                return
            }
            sample.streamLength = Self.fields(replies[0])["length"]?.int.map(Int.init)
            guard let groups = replies[1].array else {
                sample.streamProblem =
                    "cannot read the groups of \(stream): \(replies[1].errorMessage ?? "unexpected reply")"
                return
            }
            guard let info = groups.map(Self.fields).first(where: { $0["name"]?.string == group }) else {
                sample.streamProblem =
                    "the stream \(stream) has no consumer group \(group): no worker of that group has started"
                return
            }
            sample.pending = info["pending"]?.int.map(Int.init)
            sample.consumers = info["consumers"]?.int.map(Int.init)
            sample.consumerLag = info["lag"]?.int.map(Int.init)
        } catch {
            if !sample.redisConnected {
                sample.redisError = "\(error)"
            } else {
                sample.streamProblem = "cannot read Redis figures: \(error)"
            }
            logger.debug("health: Redis failed", metadata: ["tagwave.error": "\(error)"])
        }
    }

    /// What one primary reports of itself.
    private struct NodeFigures {
        var memory: [String: String]
        var stats: [String: String]
        var keys: Int64?

        var used: Int? { memory["used_memory"].flatMap { Int($0) } }
        var maximum: Int? { memory["maxmemory"].flatMap { Int($0) } }
        /// How close to evicting: the share of `maxmemory` used (none set: 0), then the bytes used.
        var fullness: (Double, Int) {
            let used = used ?? 0
            guard let maximum, maximum > 0 else { return (0, used) }
            return (Double(used) / Double(maximum), used)
        }
    }

    /// `INFO` text as a dictionary.
    static func info(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// A flat `[key, value, …]` reply as a dictionary.
    static func fields(_ reply: RedisReply) -> [String: RedisReply] {
        guard let flat = reply.array else { return [:] }
        var result: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { result[key] = flat[index + 1] }
            index += 2
        }
        return result
    }
}

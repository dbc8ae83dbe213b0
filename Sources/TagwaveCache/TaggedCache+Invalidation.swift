import Foundation
import Logging
import TagwaveRedis

/// What an invalidation did.
public struct InvalidationResult: Sendable, Hashable, Codable {
    /// Per tag: its new version and how many live entries it held.
    public struct Tag: Sendable, Hashable, Codable {
        /// The tag.
        public var tag: String
        /// Its version after the invalidation.
        public var version: Int64
        /// Entries under it that were live (now unreadable; their memory is reclaimed in the background).
        public var entries: Int64
    }

    /// One element per distinct tag, in the order given.
    public var tags: [Tag]

    /// For each tag given, in order, the index of its element in ``tags`` (a repeated tag has one):
    /// a caller that invalidated the tags of many events reads each event's answers by position,
    /// without hashing the tags again.
    public var positions: [Int]

    /// Entries made unreadable, summed over the tags (an entry under two tags counts twice).
    public var entries: Int64 { tags.reduce(0) { $0 + $1.entries } }

    /// A result of distinct tags, each given once.
    public init(tags: [Tag]) {
        self.init(tags: tags, positions: Array(tags.indices))
    }

    /// A result whose given tags map to `tags` by `positions`.
    public init(tags: [Tag], positions: [Int]) {
        self.tags = tags
        self.positions = positions
    }

    private enum CodingKeys: String, CodingKey { case tags }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tags: try container.decode([Tag].self, forKey: .tags))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tags, forKey: .tags)
    }
}

extension TaggedCache {
    /// Invalidates one tag: after this returns, no reader anywhere gets an entry written before it.
    /// - Throws: ``CacheError`` when Redis fails (then nothing is known to be invalidated: retry).
    @discardableResult
    public func invalidate(tag: String) async throws -> InvalidationResult {
        try await invalidate(tags: [tag])
    }

    /// Invalidates tags in one round trip, whatever the number of entries under them.
    ///
    /// Each tag's version is bumped by a script touching only that tag's keys (one Redis Cluster slot
    /// per tag), the tag's member set is queued for background reclamation, and the tags are
    /// published to the memory tiers of every instance.
    /// - Throws: ``CacheError`` when Redis fails.
    @discardableResult
    public func invalidate(tags: [String]) async throws -> InvalidationResult {
        // One hash per tag: its index among the distinct tags, taken at its first appearance.
        var indexOfTag = [String: Int](minimumCapacity: tags.count)
        var distinct: [String] = []
        var positions: [Int] = []
        positions.reserveCapacity(tags.count)
        for tag in tags {
            positions.append(Self.index(of: tag, in: &indexOfTag, appendingNew: &distinct))
        }
        try validate(key: "-", tags: distinct)
        guard !distinct.isEmpty else { return InvalidationResult(tags: []) }
        memory?.evict(tags: distinct)
        let batch = UUID().uuidString
        let publish = RedisCommand("PUBLISH", RedisArgument(keys.invalidationChannel), RedisArgument(distinct.joined(separator: "\n")))
        let perTag = try await bumpVersions(of: distinct, batch: batch, publish: publish)
        // Again, now that the versions are bumped: a read of this process that ran between the first
        // eviction and the INCR saw the old versions and may have refilled the tier.
        memory?.evict(tags: distinct)
        var result = InvalidationResult(tags: [], positions: positions)
        result.tags.reserveCapacity(distinct.count)
        for (tag, answer) in zip(distinct, perTag) {
            result.tags.append(.init(tag: tag, version: answer.version, entries: answer.live))
        }
        if redis.isCluster {
            // The invalidation has taken effect in Redis. Now tell the memory tiers, and queue the sets to
            // reclaim (if that is lost, they still expire with their last entry).
            let garbage = result.tags.filter { $0.entries > 0 }.map { RedisArgument(keys.garbage($0.tag, id: batch)) }
            let after = [publish] + (garbage.isEmpty ? [] : [RedisCommand("LPUSH", [RedisArgument(keys.garbageQueue)] + garbage)])
            let told = try await pipeline(after, failing: "invalidated \(distinct.joined(separator: ", ")) but could not tell the memory tiers")
            if let refusal = told[0].errorMessage {
                throw failure("invalidated \(distinct.joined(separator: ", ")) but Redis refused the PUBLISH to the memory tiers: \(refusal)")
            }
        }
        statistics.count(\.invalidations, by: distinct.count)
        return result
    }

    /// The index of `tag` in `distinct`, appended there (and to `indexOfTag`) if it is new.
    private static func index(of tag: String, in indexOfTag: inout [String: Int], appendingNew distinct: inout [String]) -> Int {
        let next = distinct.count
        let index = Self.settle(&indexOfTag[tag, default: next])
        if index == next { distinct.append(tag) }
        return index
    }

    /// Reads a dictionary slot through its `modify` accessor: the default is inserted, and the key
    /// hashed, once.
    private static func settle(_ slot: inout Int) -> Int { slot }

    /// Runs INVALIDATE for `distinct` and returns its `{version, live}` answer per tag.
    ///
    /// One server takes every tag in one script, the queue last, with the `PUBLISH` behind it on the
    /// same connection. On a cluster each call keeps to one tag's slot, without the queue, and the
    /// `PUBLISH` is left to the caller: the nodes run their part of a pipeline in parallel, so a
    /// `PUBLISH` beside the scripts could reach another instance before a version is bumped, and it
    /// could refill its memory tier from the old version (see docs/cache-protocol.md).
    private func bumpVersions(
        of distinct: [String], batch: String, publish: RedisCommand
    ) async throws -> [(version: Int64, live: Int64)] {
        let retention = Array(String(configuration.versionRetention.wholeMilliseconds).utf8)
        let keys = self.keys
        let garbage = ":gc:" + batch
        let commands = Self.invalidationCommands(
            of: distinct, keys: keys, garbage: garbage, retention: retention, publish: publish, cluster: redis.isCluster)
        let replies = try await pipeline(commands, failing: "invalidation of \(distinct.joined(separator: ", ")) failed")
        let scripts = redis.isCluster ? replies[...] : replies.dropLast()
        if let refusal = scripts.first(where: { $0.errorMessage != nil }) {
            throw failure("Redis refused to invalidate \(distinct.joined(separator: ", ")): \(refusal.errorMessage ?? refusal.shortText)")
        }
        // Each script answers version, live, version, live, … for its tags.
        var answers: [(version: Int64, live: Int64)] = []
        answers.reserveCapacity(distinct.count)
        for script in scripts {
            let flat = script.array ?? []
            guard flat.count % 2 == 0 else {
                throw failure("unexpected reply invalidating \(distinct.joined(separator: ", ")): \(script.shortText)")
            }
            for index in stride(from: 0, to: flat.count, by: 2) {
                guard let version = flat[index].int, let live = flat[index + 1].int else {
                    throw failure("unexpected reply invalidating \(distinct.joined(separator: ", ")): \(script.shortText)")
                }
                answers.append((version, live))
            }
        }
        guard answers.count == distinct.count else {
            throw failure("Redis answered \(answers.count) results invalidating \(distinct.count) tags: \(scripts.first?.shortText ?? "")")
        }
        return answers
    }

    /// `redis.pipeline`, counting a failure and naming what failed; retrying is safe (invalidation is idempotent).
    /// The INVALIDATE scripts of `distinct` (see ``bumpVersions(of:batch:publish:)``), each tag's three
    /// keys written straight into the command.
    private static func invalidationCommands(
        of distinct: [String], keys: CacheKeys, garbage: String, retention: [UInt8], publish: RedisCommand, cluster: Bool
    ) -> [RedisCommand] {
        let closingGarbage = "}" + garbage
        func appendKeys(of tag: String, to arguments: inout RedisArgumentWriter) {
            keys.appendTagKey(tag, closedBy: "}:v", to: &arguments)
            keys.appendTagKey(tag, closedBy: "}:m", to: &arguments)
            keys.appendTagKey(tag, closedBy: closingGarbage, to: &arguments)
        }
        if cluster {
            var commands: [RedisCommand] = []
            for tag in distinct {
                var tagKeys = RedisArgumentWriter()
                appendKeys(of: tag, to: &tagKeys)
                commands.append(RedisCommand.evalsha(CacheScripts.invalidate, keys: tagKeys, arguments: [retention]))
            }
            return commands
        }
        var allKeys = RedisArgumentWriter()
        allKeys.reserveCapacity(distinct.reduce(64) { $0 + 3 * ($1.utf8.count + keys.prefix.utf8.count + 60) })
        for tag in distinct { appendKeys(of: tag, to: &allKeys) }
        allKeys.append(Array(keys.garbageQueue.utf8))
        return [RedisCommand.evalsha(CacheScripts.invalidate, keys: allKeys, arguments: [retention]), publish]
    }

    /// `what` is only built on failure: it names every tag of the batch.
    private func pipeline(_ commands: [RedisCommand], failing what: @autoclosure () -> String) async throws -> [RedisReply] {
        do {
            return try await redis.pipeline(commands)
        } catch {
            statistics.count(\.errors)
            throw CacheError(.redis, "\(what()): \(error); retry it", underlying: error)
        }
    }

    /// A ``CacheError`` for Redis's answer, counted.
    private func failure(_ message: String) -> CacheError {
        statistics.count(\.errors)
        return CacheError(.redis, message)
    }

    /// Reclaims the memory of invalidated entries, a bounded chunk per Redis call, until the queue is
    /// empty or `maxSets` invalidated sets were done. Entries rewritten since the invalidation are kept.
    ///
    /// The worker runs this continuously; an application may call it from a periodic task.
    /// - Parameters:
    ///   - chunk: entries checked per script call (each call stays well under a millisecond or two at 64).
    ///   - maxSets: invalidated tag sets handled by this call, so that a caller that stops between calls
    ///     is never kept busy by a steady flow of invalidations.
    /// - Returns: entries deleted.
    /// - Throws: ``CacheError`` when Redis fails (what is left stays queued or expires with its TTL).
    @discardableResult
    public func reclaim(chunk: Int = 64, maxSets: Int = 1000) async throws -> Int {
        var removed = 0
        var sets = 0
        do {
            while sets < maxSets, let garbageKey = try await redis.send(RedisCommand("RPOP", RedisArgument(keys.garbageQueue))).string {
                sets += 1
                guard let tag = keys.tag(ofGarbage: garbageKey) else { continue }
                let version = try await currentVersions([tag])[0]
                while true {
                    let popped = try await redis.send(RedisCommand("ZPOPMIN", RedisArgument(garbageKey), RedisArgument(chunk)))
                    let flat = popped.array ?? []
                    guard !flat.isEmpty else { break }
                    let members = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].bytes }
                    // A script's keys share a slot on a cluster: one call per slot there, pipelined.
                    let groups = redis.isCluster ? Array(Dictionary(grouping: members, by: ClusterSlot.of).values) : [members]
                    let replies = try await redis.pipeline(groups.map {
                        .evalsha(CacheScripts.reclaim, keys: $0.map(RedisArgument.init), arguments: [RedisArgument(tag), RedisArgument(version)])
                    })
                    if let refused = replies.first(where: { $0.errorMessage != nil }) {
                        throw CacheError(.redis, "Redis refused to reclaim entries of \(tag): \(refused.errorMessage ?? "")")
                    }
                    removed += replies.reduce(0) { $0 + Int($1.int ?? 0) }
                }
            }
        } catch {
            throw CacheError(.redis, "reclaiming invalidated entries failed: \(error)", underlying: error)
        }
        return removed
    }

    /// Follows every instance's (and the worker's) invalidations until the task is cancelled: keeps
    /// the memory tier coherent (evicts entries of the invalidated tags, and clears the tier
    /// whenever the subscription is interrupted, as messages may have been missed) and schedules
    /// auto-warming. Returns at once when there is neither a memory tier nor auto-warming.
    public func run() async {
        guard memory != nil || configuration.autoWarm != nil else { return }
        let subscriber = RedisSubscriber(configurations: redis.subscriptionConfigurations, logger: logger)
        for await event in subscriber.events(channels: [keys.invalidationChannel]) {
            switch event {
            case .message(_, let payload):
                let tags = String(decoding: payload, as: UTF8.self).split(separator: "\n").map(String.init)
                memory?.evict(tags: tags)
                autoWarm(afterInvalidationOf: tags)
            case .disconnected(let reason):
                if let memory {
                    logger.warning("invalidation broadcasts interrupted; memory tier cleared", metadata: ["error": "\(reason)"])
                    memory.removeAll()
                }
            case .subscribed:
                memory?.removeAll()
            }
            if Task.isCancelled { break }
        }
    }

    /// Entries and bytes in the memory tier (zero without one).
    public var memoryTierUsage: (entries: Int, bytes: Int) {
        (memory?.count ?? 0, memory?.bytes ?? 0)
    }
}

extension RedisReply {
    fileprivate var shortText: String {
        switch self {
        case .error(let text): return text
        default: return "unexpected reply"
        }
    }
}

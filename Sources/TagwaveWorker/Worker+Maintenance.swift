import Logging
import ServiceLifecycle
import TagwaveLedger
import TagwaveRedis

extension Worker {
    /// Creates the group if missing and reports Redis settings that endanger the stream.
    func prepare() async throws {
        // A daemon waits for Redis to come up (reported once by the client); other errors stop it.
        while true {
            do {
                let start = try await resumeOffset() ?? "0"
                if try await redis.xgroupCreate(configuration.stream, group: configuration.group, startID: start, makeStream: true) {
                    logger.notice("created consumer group \(configuration.group) on \(configuration.stream) at \(start)")
                }
                break
            } catch let error as RedisError where error.isConnectionProblem {
                if Task.isCancelled || Task.isShuttingDownGracefully { throw CancellationError() }
                try? await Task.sleep(for: .milliseconds(250))
            } catch {
                throw WorkerError(
                    "cannot create or find consumer group \(configuration.group) on stream \(configuration.stream): \(error)")
            }
        }
        do {
            let policy = try await redis.send(RedisCommand("CONFIG", "GET", "maxmemory-policy")).array?.last?.string ?? ""
            if policy.hasPrefix("allkeys-") {
                logger.critical(
                    "Redis maxmemory-policy is \(policy): under memory pressure it can evict the stream and its pending entries, losing events; set maxmemory-policy noeviction (or volatile-lru) — see deploy/redis/redis.conf")
            }
        } catch {
            logger.debug("cannot read maxmemory-policy (the ACL user may lack CONFIG GET): \(error)")
        }
    }

    /// The position to re-create the group at: the newest acknowledged entry the ledger knows for it.
    func resumeOffset() async throws -> String? {
        let offsets = try await ledger.offsets().filter { $0.stream == configuration.stream && $0.group == configuration.group }
        return offsets.compactMap { $0.lastAckedID.flatMap(StreamID.init) }.max()?.description
    }

    /// After `NOGROUP` (a flush, a failover, an eviction), re-creates the group at the ledger's last
    /// acknowledged offset — not at `0` (replaying everything) nor `$` (skipping what arrived since).
    func recoverIfGroupMissing(_ error: any Error) async -> Bool {
        guard let redisError = error as? RedisError, redisError.serverMessage?.hasPrefix("NOGROUP") == true else { return false }
        do {
            let start = try await resumeOffset() ?? "0"
            try await redis.xgroupCreate(configuration.stream, group: configuration.group, startID: start, makeStream: true)
            logger.warning(
                "consumer group \(configuration.group) vanished (Redis flushed, failed over or evicted it); re-created at the ledger's last acknowledged entry \(start)")
            return true
        } catch {
            logger.error("cannot re-create consumer group \(configuration.group): \(error)")
            return false
        }
    }

    /// Takes entries due for a retry back to this consumer (`XCLAIM`, which counts a delivery).
    func claim(ids: [String]) async throws -> [StreamEntry] {
        let reply = try await redis.send(RedisCommand(
            "XCLAIM",
            [RedisArgument(configuration.stream), RedisArgument(configuration.group), RedisArgument(configuration.consumer), 0]
                + ids.map { RedisArgument($0) }))
        let claimed = try (reply.array ?? []).compactMap { element -> StreamEntry? in
            element.isNull ? nil : try StreamEntry.parse(element)
        }
        // An id Redis no longer has (trimmed, or acknowledged by another worker) comes back as nothing.
        let returned = Set(claimed.map(\.id.description))
        let missing = ids.filter { !returned.contains($0) }.compactMap(StreamID.init)
        return claimed + missing.map { StreamEntry(id: $0, fields: nil) }
    }

    /// Takes over entries that other consumers left pending longer than the claim timeout.
    func claimAbandoned(retries: inout RetrySchedule) async throws {
        var start = StreamID.zero
        repeat {
            let result = try await redis.xautoclaim(
                configuration.stream, group: configuration.group, consumer: configuration.consumer, minIdle: configuration.claimIdle,
                start: start, count: configuration.batchSize)
            start = result.nextStart
            var batch = result.entries.map { (entry: $0, attempts: 1) }
            batch += result.deletedIDs.map { (entry: StreamEntry(id: $0, fields: nil), attempts: 1) }
            if !batch.isEmpty {
                logger.notice("claimed \(result.entries.count) abandoned entries (\(result.deletedIDs.count) deleted while pending)")
                let deliveries = try await deliveryCounts(result.entries.map(\.id))
                for index in batch.indices { batch[index].attempts = deliveries[batch[index].entry.id] ?? 1 }
                var commits = CommitPipeline()
                try await handle(batch, retries: &retries, commits: &commits)
            }
        } while start != .zero
    }

    /// How often each entry was delivered, from the group's pending list.
    func deliveryCounts(_ ids: [StreamID]) async throws -> [StreamID: Int] {
        guard let first = ids.min(), let last = ids.max() else { return [:] }
        let pending = try await redis.xpending(
            configuration.stream, group: configuration.group, start: first.description, end: last.description, count: ids.count * 2 + 10,
            consumer: configuration.consumer)
        return Dictionary(pending.map { ($0.id, Int($0.deliveries)) }, uniquingKeysWith: { a, _ in a })
    }

    /// Deletes entries every group has acknowledged (`XTRIM MINID`), never one still pending or not
    /// yet delivered to some group.
    func trim() async {
        do {
            let groups = try await redis.xinfoGroups(configuration.stream)
            var floor: StreamID?
            for group in groups {
                let summary = try await redis.xpendingSummary(configuration.stream, group: group.name)
                let keepFrom = summary.smallest ?? group.lastDeliveredID?.next ?? .zero
                floor = floor.map { min($0, keepFrom) } ?? keepFrom
            }
            guard let floor, floor > .zero else { return }
            let removed = try await redis.xtrim(configuration.stream, .minimumID(floor, approximate: false))
            if removed > 0 { logger.debug("trimmed \(removed) acknowledged entries below \(floor)") }
        } catch {
            logger.debug("trim skipped: \(error)")
        }
    }

    /// Deletes ledger history older than `retention` (the ledger's growth stays bounded).
    func applyRetention(_ retention: Duration) async {
        do {
            let result = try await ledger.applyRetention(olderThan: LedgerTimestamp.now().advanced(by: .zero - retention))
            if result.total > 0 {
                logger.info(
                    "retention: deleted \(result.events) events, \(result.tagRows) tag index entries, \(result.deadLetters) resolved dead letters, \(result.replayRuns) replay runs older than \(retention)")
            }
        } catch {
            logger.warning("retention pass failed; retried at the next interval: \(error)")
        }
    }

    /// Removes consumers idle longer than `idle` that hold nothing pending (never one with pending entries).
    func removeIdleConsumers(olderThan idle: Duration) async {
        do {
            let limit = Int64(idle.components.seconds * 1000)
            for consumer in try await redis.xinfoConsumers(configuration.stream, group: configuration.group)
            where consumer.pending == 0 && consumer.idleMilliseconds > limit && !consumers.contains(consumer.name) {
                try await redis.xgroupDeleteConsumer(configuration.stream, group: configuration.group, consumer: consumer.name)
                logger.info("removed idle consumer \(consumer.name) (nothing pending, idle \(consumer.idleMilliseconds / 1000) s)")
            }
        } catch {
            logger.debug("idle consumer cleanup skipped: \(error)")
        }
    }
}

import Foundation
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// SPEC §7: the tagged cache and the worker on a real Redis Cluster of three nodes, where the tags of
/// one invalidation live in different slots and on different nodes.
@Suite("The cache and the worker on a real Redis Cluster", .serialized)
struct ClusterWorkerTests {
    static let quiet: Logger = {
        var logger = Logger(label: "test.cluster")
        logger.logLevel = .warning
        return logger
    }()

    @Test func tagsOnDifferentNodesAreInvalidatedTogetherAndTheirEntriesReclaimed() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let cache = TaggedCache(redis: client, logger: Self.quiet)
            let teachers = (0..<20).map { "teacher:t\($0)" }
            for index in 0..<60 {
                try await cache.set("old:\(index)", "v\(index)", tags: [teachers[index % 20], "school:s\(index % 3)"], ttl: 600)
            }
            // The tags' keys ({tag} hash tags) are spread over the nodes.
            var owners = Set<String>()
            for tag in teachers { owners.insert(try await client.owner(ofSlot: ClusterSlot.of("{\(tag)}"))) }
            #expect(owners.count == 3)

            let result = try await cache.invalidate(tags: teachers + ["school:s0", "school:s1", "school:s2"])
            #expect(result.tags.count == 23)
            #expect(result.entries == 120)  // each entry counted under its two tags
            for index in 0..<60 {
                #expect(try await cache.get("old:\(index)", as: String.self) == nil, "old:\(index)")
            }
            // New entries under the same tags are readable: the versions moved, nothing else is broken.
            try await cache.set("new:1", "fresh", tags: [teachers[1]], ttl: 600)
            #expect(try await cache.get("new:1", as: String.self) == "fresh")

            // The invalidated entries' memory is reclaimed, slot by slot.
            #expect(try await cache.reclaim() == 60)
            let stillThere = try await client.pipeline((0..<60).map { RedisCommand("EXISTS", RedisArgument("tw:e:old:\($0)")) })
            #expect(stillThere.allSatisfy { $0.int == 0 })
            #expect(try await client.send(RedisCommand("EXISTS", "tw:e:new:1")).int == 1)
        } }
    }

    @Test func demandIsRecordedAndForecastForTagsOnEveryNode() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let demand = DemandRecorder(redis: client, logger: Self.quiet)
            let teachers = (0..<20).map { "teacher:t\($0)" }
            for (index, tag) in teachers.enumerated() {
                for _ in 0...index { demand.record(target: "/sessions?teacher=t\(index)", tags: [tag]) }
            }
            await demand.flush()
            #expect(demand.dropped == 0)
            // One script call per tag, each on the node of the tag's slot.
            var owners = Set<String>()
            for tag in teachers { owners.insert(try await client.owner(ofSlot: ClusterSlot.of("{\(tag)}"))) }
            #expect(owners.count == 3)
            let forecasts = try await DemandForecaster(redis: client).forecast(tags: teachers, minimumPerMinute: 1e-9, limit: 5)
            #expect(forecasts.map { $0.map(\.target) } == teachers.indices.map { ["/sessions?teacher=t\($0)"] })
            #expect(forecasts[19][0].perMinute > forecasts[0][0].perMinute * 19)
        } }
    }

    @Test func memoryTiersStayCoherentWhenTheFirstSeedIsDown() async throws {
        try await RedisCluster.with { cluster in
            let down = try ClosedPort()
            defer { withExtendedLifetime(down) {} }
            let seeds = [RedisConfiguration(host: "127.0.0.1", port: down.port), cluster.nodes[1].configuration()]
            var configuration = CacheConfiguration()
            configuration.memoryTier = MemoryTierConfiguration(maxEntries: 100, maxBytes: 1 << 20)
            let clientA = RedisClusterClient(seeds: seeds, logger: Self.quiet)
            let clientB = RedisClusterClient(seeds: seeds, logger: Self.quiet)
            let a = TaggedCache(redis: clientA, configuration: configuration, logger: Self.quiet)
            let b = TaggedCache(redis: clientB, configuration: configuration, logger: Self.quiet)
            let coherence = Task { await a.run() }
            try await Task.sleep(for: .milliseconds(500))  // subscribed, on the second seed
            _ = try await a.getOrSet("k", tags: ["teacher:1"], ttl: 60) { "v1" }
            _ = try await a.get("k", as: String.self, tags: ["teacher:1"])
            #expect(a.memoryTierUsage.entries == 1)

            try await b.invalidate(tag: "teacher:1")
            let deadline = ContinuousClock.now + .seconds(2)
            while a.memoryTierUsage.entries > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            #expect(a.memoryTierUsage.entries == 0)
            #expect(try await a.get("k", as: String.self, tags: ["teacher:1"]) == nil)
            coherence.cancel()
            await clientA.shutdown()
            await clientB.shutdown()
        }
    }

    @Test func aWorkerOnAHashTaggedStreamInvalidatesTagsOnEveryNode() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-cluster-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let ledger = try await Ledger.open(path: directory.appendingPathComponent("ledger.sqlite").path, logger: Self.quiet)
            let cache = TaggedCache(redis: client, logger: Self.quiet)
            for teacher in 0..<10 {
                try await cache.set("sessions:teacher:t\(teacher)", ["s1"], tags: ["teacher:t\(teacher)"], ttl: 600)
            }
            // One partition of a partitioned stream: its name's hash tag puts it, and its group, in one slot.
            let stream = "{events}:0"
            _ = try await client.pipeline((0..<200).map { index in
                .xadd(stream, fields: [
                    StreamField("type", "session.created"), StreamField("id", "evt-\(index)"),
                    StreamField("payload", #"{"teacherId":"t\#(index % 10)","schoolId":"s\#(index % 3)"}"#),
                ])
            })
            var configuration = WorkerConfiguration(consumer: "w1")
            configuration.stream = stream
            configuration.block = .milliseconds(50)
            configuration.trimInterval = nil
            let worker = Worker(
                redis: client, ledger: ledger, cache: cache, configuration: configuration, rules: WorkerHarness.rules, logger: Self.quiet)
            let running = Task { try await worker.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while worker.progress.processed < 200, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            running.cancel()
            _ = try? await running.value

            #expect(worker.progress.processed == 200)
            #expect(try await ledger.countEvents(matching: LedgerEventSelection(statuses: [.processed])) == 200)
            #expect(try await client.xpendingSummary(stream, group: "invalidators").count == 0)  // acknowledged after the commit
            for teacher in 0..<10 {
                #expect(try await cache.get("sessions:teacher:t\(teacher)", as: [String].self) == nil, "teacher t\(teacher)")
            }
            await ledger.close()
        } }
    }
}

import Logging
import TagwaveCache
@testable import TagwaveHealth
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// On a Redis Cluster each primary keeps its own keys, memory and hit counts: the probe and the
/// cache's inspection must read every one of them, not the one node a keyless command reaches.
@Suite("Health and cache figures of a real three-node Redis Cluster")
struct ClusterHealthTests {
    let logger = Logger(label: "test.health.cluster")

    @Test func everyPrimaryIsListedOnceInAddressOrder() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let primaries = try await client.primaries().map(\.address)
            #expect(primaries == cluster.nodes.map { "127.0.0.1:\($0.port)" }.sorted())
        } }
    }

    @Test func keysAreCountedOnEveryNodeAndMemoryIsTheFullestNodes() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            // Keys and cache entries in slots all over the cluster.
            _ = try await client.pipeline((0..<60).map { RedisCommand("SET", RedisArgument("key:\($0)"), "v") })
            let cache = TaggedCache(redis: client, logger: logger)
            for teacher in 0..<24 { try await cache.set("sessions:t\(teacher)", ["s"], tags: ["teacher:t\(teacher)"]) }
            let inspection = try await cache.inspect()
            #expect(inspection.entries == 24)
            #expect(inspection.maxMemory == 0)  // no node has a limit

            var perNode: [Int] = []
            for index in cluster.nodes.indices {
                perNode.append(try await cluster.withNode(index) { Int(try await $0.send(RedisCommand("DBSIZE")).int ?? 0) })
            }
            #expect(perNode.allSatisfy { $0 > 0 }, "\(perNode)")
            // One node with a memory limit, nearly reached: it is the one to report.
            let used = try await cluster.withNode(2) { node in
                let info = try await node.send(RedisCommand("INFO", "memory")).string ?? ""
                return Int(HealthProbe.info(info)["used_memory"] ?? "") ?? 0
            }
            try await cluster.withNode(2) { _ = try await $0.send(RedisCommand("CONFIG", "SET", "maxmemory", RedisArgument(used * 11 / 10))) }
            let sample = await HealthProbe(redis: client, ledger: nil, logger: logger).sample()
            try await cluster.withNode(2) { _ = try await $0.send(RedisCommand("CONFIG", "SET", "maxmemory", "0")) }
            #expect(sample.keyCount == perNode.reduce(0, +))
            #expect(sample.maxMemory == used * 11 / 10)
            #expect((sample.memoryUsage ?? 0) > 80, "\(String(describing: sample.usedMemory)) of \(String(describing: sample.maxMemory))")
        } }
    }
}

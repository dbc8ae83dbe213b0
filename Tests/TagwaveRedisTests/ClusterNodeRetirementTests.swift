import Foundation
import Logging
@testable import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("A node that leaves a cluster's slot map")
struct ClusterNodeRetirementTests {
    /// Connected clients of `node` (INFO clients), this test's own connection included.
    private func connectedClients(_ cluster: RedisCluster, node: Int) async throws -> Int {
        try await cluster.withNode(node) { client in
            let info = try await client.send(RedisCommand("INFO", "clients")).string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("connected_clients:") }
            return Int(line?.split(separator: ":").last ?? "") ?? -1
        }
    }

    @Test func aNodeReshardedEmptyHasItsConnectionsClosed() async throws {
        try await RedisCluster.with { cluster in
            let client = RedisClusterClient(
                seeds: [cluster.nodes[0].configuration()], logger: Logger(label: "test.redis.cluster"),
                retiringNodesAfter: .milliseconds(200))
            defer { Task { await client.shutdown() } }
            let leaving = 2
            // Some key of the leaving node's slots, so the client opens a pool to it.
            var probe = 0
            while try await cluster.nodeIndex(servingSlot: ClusterSlot.of("k\(probe)")) != leaving { probe += 1 }
            try await client.send(RedisCommand("SET", RedisArgument("k\(probe)"), "v"))
            try await client.send(RedisCommand("DEL", RedisArgument("k\(probe)")))
            #expect(client.nodeAddresses.contains("127.0.0.1:\(cluster.nodes[leaving].port)"))
            let before = try await connectedClients(cluster, node: leaving)
            #expect(before >= 2, "the client's connection and this test's")

            // Every slot of the leaving node (all empty) goes to node 0, on every node.
            let slots = try await cluster.withNode(leaving) { node -> [Int] in
                let owners = try RedisClusterClient.owners(from: try await node.send(RedisCommand("CLUSTER", "SLOTS")))
                return owners.indices.filter { owners[$0] == "127.0.0.1:\(cluster.nodes[leaving].port)" }
            }
            let destination = try await cluster.id(ofNode: 0)
            for index in [0, leaving, 1] {
                try await cluster.withNode(index) { node in
                    _ = try await node.pipeline(slots.map {
                        RedisCommand("CLUSTER", "SETSLOT", RedisArgument($0), "NODE", RedisArgument(destination))
                    })
                }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                var agreeing = 0
                for index in cluster.nodes.indices
                where try await cluster.nodeIndex(servingSlot: slots[0], asking: index) == 0 { agreeing += 1 }
                if agreeing == cluster.nodes.count { break }
                try await Task.sleep(for: .milliseconds(50))
            }

            // The next command for such a slot is redirected: the client reads the map again and
            // closes the leaving node's pool once its commands have had their time.
            try await client.send(RedisCommand("SET", RedisArgument("k\(probe)"), "moved"))
            #expect(!client.nodeAddresses.contains("127.0.0.1:\(cluster.nodes[leaving].port)"))
            var after = before
            let closing = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < closing, after >= before {
                try await Task.sleep(for: .milliseconds(100))
                after = try await connectedClients(cluster, node: leaving)
            }
            #expect(after < before, "\(before) connected before, \(after) after")
            #expect(try await client.send(RedisCommand("GET", RedisArgument("k\(probe)"))).string == "moved")
        }
    }
}

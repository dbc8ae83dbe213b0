import Foundation
import Logging
import TagwaveRedis

/// A real Redis Cluster for tests: several `redis-server` processes in cluster mode on free loopback
/// ports (client and bus port each), the 16,384 slots split evenly between them, no replicas.
///
/// ```swift
/// try await RedisCluster.with(nodes: 3) { cluster in
///     try await cluster.withClient { try await $0.send(RedisCommand("SET", "k", "v")) }
/// }
/// ```
/// The cluster is formed with `CLUSTER ADDSLOTSRANGE` and `CLUSTER MEET` (no `redis-cli --cluster`
/// prompts), and is ready when every node reports `cluster_state:ok` and knows every other.
public final class RedisCluster: Sendable {
    /// The nodes, in slot order: node 0 serves the first slots.
    public let nodes: [RedisServer]

    private init(nodes: [RedisServer]) {
        self.nodes = nodes
    }

    /// Starts a cluster, runs `body`, and stops every node whatever happens.
    public static func with<T>(nodes count: Int = 3, _ body: (RedisCluster) async throws -> T) async throws -> T {
        var nodes: [RedisServer] = []
        do {
            for _ in 0..<count { nodes.append(try await startNode()) }
            let cluster = RedisCluster(nodes: nodes)
            try await cluster.form()
            let result = try await body(cluster)
            for node in nodes { node.stop() }
            return result
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    /// Starts one node in cluster mode. Its bus port is chosen like its client port, free on loopback now
    /// (`cluster-port`, Redis 7); another test may take it first, so a few are tried.
    private static func startNode() async throws -> RedisServer {
        var attempt = 0
        while true {
            do {
                return try await RedisServer.start(arguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                    "--cluster-port", "\(try RedisServer.freePort())",
                ])
            } catch let error as RedisServerError where attempt < 3 {
                attempt += 1
                if attempt == 3 { throw error }
            }
        }
    }

    /// Runs `body` with a plain client of node `index`, which sees only that node's keys.
    @discardableResult
    public func withNode<T>(_ index: Int, _ body: (RedisClient) async throws -> T) async throws -> T {
        let client = nodes[index].client()
        return try await Self.using(client, body, then: { await $0.shutdown() })
    }

    /// Runs `body` with a cluster client seeded with the first node, and shuts the client down after.
    public func withClient<T>(_ body: (RedisClusterClient) async throws -> T) async throws -> T {
        let client = RedisClusterClient(seeds: [nodes[0].configuration()], logger: Logger(label: "test.redis.cluster"))
        return try await Self.using(client, body, then: { await $0.shutdown() })
    }

    /// Runs `body` with `client`, then `shutdown`, whether `body` returns or throws.
    private static func using<Client, T>(
        _ client: Client, _ body: (Client) async throws -> T, then shutdown: (Client) async -> Void
    ) async throws -> T {
        do {
            let result = try await body(client)
            await shutdown(client)
            return result
        } catch {
            await shutdown(client)
            throw error
        }
    }

    /// The node id of node `index` (`CLUSTER MYID`).
    public func id(ofNode index: Int) async throws -> String {
        try await withNode(index) { try await $0.send(RedisCommand("CLUSTER", "MYID")).string ?? "" }
    }

    /// Which node serves `slot` now, as node 0 sees the cluster (`CLUSTER SLOTS`).
    public func nodeIndex(servingSlot slot: Int, asking node: Int = 0) async throws -> Int {
        let ranges = try await withNode(node) { try await $0.send(RedisCommand("CLUSTER", "SLOTS")).array ?? [] }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let first = parts[0].int, let last = parts[1].int,
                let port = parts[2].array?[1].int, first...last ~= Int64(slot)
            else { continue }
            if let index = nodes.firstIndex(where: { $0.port == Int(port) }) { return index }
        }
        throw RedisServerError("no node of the test cluster serves slot \(slot)")
    }

    private func form() async throws {
        let clients = nodes.map { $0.client() }
        do {
            try await form(with: clients)
            for client in clients { await client.shutdown() }
        } catch {
            for client in clients { await client.shutdown() }
            throw error
        }
    }

    private func form(with clients: [RedisClient]) async throws {
        let share = ClusterSlot.count / nodes.count
        for (index, client) in clients.enumerated() {
            let first = index * share
            let last = index == nodes.count - 1 ? ClusterSlot.count - 1 : first + share - 1
            try await client.send(RedisCommand("CLUSTER", "ADDSLOTSRANGE", RedisArgument(first), RedisArgument(last)))
        }
        for node in nodes.dropFirst() {
            // The bus port is not the default port + 10000: MEET names it.
            let bus = node.arguments.firstIndex(of: "--cluster-port").map { node.arguments[$0 + 1] } ?? "\(node.port + 10000)"
            try await clients[0].send(RedisCommand("CLUSTER", "MEET", "127.0.0.1", RedisArgument(node.port), RedisArgument(bus)))
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            var ready = true
            for client in clients {
                let info = try await client.send(RedisCommand("CLUSTER", "INFO")).string ?? ""
                if !info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:\(nodes.count)") {
                    ready = false
                    break
                }
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisServerError("the test cluster of \(nodes.count) nodes did not reach cluster_state:ok within 20 s")
    }
}

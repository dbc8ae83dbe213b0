import Logging
import Synchronization

/// A client for a Redis Cluster: routes each command to the node serving its key's slot, follows
/// `MOVED` and `ASK` redirections, and keeps one ``RedisClient`` pool per node.
///
/// The slot map is read with `CLUSTER SLOTS` from the seeds at the first command and again after a
/// `MOVED` (the cluster's slots moved: a resharding or a failover) or a node that cannot be reached.
/// `ASK` (a slot being migrated) is followed for that one command, with `ASKING` first, and does not
/// change the map. A node that no longer serves any slot (a failover's old primary, a node resharded
/// empty) has its pool closed a minute later, when the commands still using it have had their time.
///
/// ```swift
/// let cluster = RedisClusterClient(seeds: [try RedisConfiguration(url: "redis://10.0.0.1:7000")], logger: logger)
/// try await cluster.send(RedisCommand("SET", "{teacher:1}:version", "3"))
/// ```
/// Commands of one ``pipeline(_:)`` may name keys of different slots: they are grouped per node, sent
/// as one pipeline per node, and their replies returned in the order given. A single command must keep
/// its own keys in one slot (use hash tags), as Redis Cluster requires.
public final class RedisClusterClient: Sendable {
    /// How many redirections one command follows before it fails. A cluster in the middle of a
    /// resharding redirects once or twice; right after a slot moved, two nodes may name each other
    /// until the cluster bus has told every node, so from the third redirection on each one waits a
    /// little longer (10 ms more each time, about a second in all) before it is followed.
    public static let maximumRedirections = 16

    /// How many `TRYAGAIN` answers (a multi-key command during a slot's migration) one command waits
    /// out, 25 ms apart, before it fails.
    public static let maximumTryAgains = 40

    let seeds: [RedisConfiguration]
    private let logger: Logger
    private let state = Mutex(State())
    private let redirectionCount = Atomic<Int>(0)
    /// How long the pool of a node that left the slot map stays open for the commands still using it
    /// (a blocking read waits its block time, any command its timeout) before it is closed.
    let retirementDelay: Duration

    private struct State {
        /// Per slot, the address (`host:port`) of the primary serving it; empty until the map is read.
        var owners: [String] = []
        var nodes: [String: RedisClient] = [:]
        /// Pools of nodes that left the map, closed after ``retirementDelay``.
        var retired: [ObjectIdentifier: RedisClient] = [:]
        var shutDown = false
    }

    /// `MOVED` and `ASK` redirections followed so far (for metrics, and for tests that reshard).
    public var redirections: Int { redirectionCount.load(ordering: .relaxed) }

    /// A client for the cluster that `seeds` belong to. Nothing connects until the first command.
    ///
    /// - Parameters:
    ///   - seeds: one or more nodes of the cluster; their other settings (credentials, timeouts, pool
    ///     size) are used for every node. Cluster nodes have only database 0.
    ///   - logger: where topology changes and node failures are reported.
    public convenience init(seeds: [RedisConfiguration], logger: Logger) {
        self.init(seeds: seeds, logger: logger, retiringNodesAfter: .seconds(60))
    }

    init(seeds: [RedisConfiguration], logger: Logger, retiringNodesAfter retirementDelay: Duration) {
        precondition(!seeds.isEmpty, "a cluster client needs at least one seed node")
        self.seeds = seeds
        self.logger = logger
        self.retirementDelay = retirementDelay
    }

    /// Closes every node's connections. Commands after this throw ``RedisError/Code/shutDown``.
    public func shutdown() async {
        let nodes = state.withLock { state in
            state.shutDown = true
            defer {
                state.nodes.removeAll()
                state.retired.removeAll()
            }
            return Array(state.nodes.values) + Array(state.retired.values)
        }
        for node in nodes { await node.shutdown() }
    }

    /// The nodes this client holds a pool for now (`host:port`), in address order.
    var nodeAddresses: [String] { state.withLock { $0.nodes.keys.sorted() } }

    // MARK: Commands

    /// Sends one command to the node serving its key and returns the reply.
    ///
    /// - Parameter blockingFor: for blocking commands, how long the server may hold the reply.
    /// - Throws: ``RedisError``: the server's error text, a connection problem, or
    ///   ``RedisError/Code/unavailable`` when the cluster keeps redirecting.
    @discardableResult
    public func send(_ command: RedisCommand, blockingFor: Duration?) async throws -> RedisReply {
        let slot = command.routingKey.map(ClusterSlot.of)
        var target = try await address(forSlot: slot)
        var asking = false
        var redirections = 0
        var tryAgains = 0
        while true {
            do {
                let node = try client(for: target)
                return try await node.withConnection { [asking] connection in
                    guard asking else { return try connection.send(command, blockingFor: blockingFor) }
                    // ASKING holds for one command only: an EVALSHA the node does not know would fall back
                    // to EVAL without it (and be sent back by MOVED), so a script goes as EVAL at once.
                    try connection.send(RedisCommand("ASKING"))
                    return try connection.send(command.evalFallback ?? command, blockingFor: blockingFor)
                }
            } catch let error as RedisError {
                if let redirection = Redirection(error.serverMessage, from: target) {
                    redirections += 1
                    guard redirections <= Self.maximumRedirections else {
                        throw RedisError(
                            .unavailable,
                            "the cluster redirected \(command.name) more than \(Self.maximumRedirections) times: "
                                + "it may be resharding; retry, and check `redis-cli --cluster check`")
                    }
                    redirectionCount.add(1, ordering: .relaxed)
                    if redirections > 2 { try await Task.sleep(for: .milliseconds(10 * (redirections - 2))) }
                    if redirection.moved { await learn(redirection) }
                    target = redirection.address
                    asking = !redirection.moved
                    continue
                }
                if error.serverMessage?.hasPrefix("TRYAGAIN") == true, tryAgains < Self.maximumTryAgains {
                    // A multi-key command during a slot's migration, its keys split between the two nodes:
                    // the migration moves them within moments.
                    tryAgains += 1
                    try await Task.sleep(for: .milliseconds(25))
                    continue
                }
                if error.isConnectionProblem, error.code != .timeout {
                    // The node may be gone (failover): read the map again so the next call goes to its successor.
                    try? await refreshSlots(after: "\(target) failed: \(error)")
                }
                throw error
            }
        }
    }

    /// Notes a `MOVED` slot's new owner at once and reads the whole map again (a failover or a
    /// resharding moved more than one slot); a failed read leaves the noted owner in place.
    private func learn(_ redirection: Redirection) async {
        state.withLock { state in
            if state.owners.indices.contains(redirection.slot) { state.owners[redirection.slot] = redirection.address }
        }
        try? await refreshSlots(after: "MOVED \(redirection.slot) \(redirection.address)")
    }

    /// Sends commands, grouped into one pipeline per node, and returns their replies in the order given.
    ///
    /// Error replies are returned in their place, as ``RedisClient/pipeline(_:)`` does; a command the
    /// cluster redirects is sent again where it belongs.
    /// - Throws: ``RedisError`` for connection problems only.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        var byNode: [String: [Int]] = [:]
        for (index, command) in commands.enumerated() {
            let address = try await address(forSlot: command.routingKey.map(ClusterSlot.of))
            byNode[address, default: []].append(index)
        }
        var replies = [RedisReply](repeating: .null, count: commands.count)
        try await withThrowingTaskGroup(of: [(Int, RedisReply)].self) { group in
            for (address, indices) in byNode {
                let node = try client(for: address)
                group.addTask {
                    do {
                        let answers = try await node.pipeline(indices.map { commands[$0] })
                        return Array(zip(indices, answers))
                    } catch let error as RedisError where error.isConnectionProblem && error.code != .timeout {
                        // As in send(): the node may be gone; the next call should find its successor.
                        try? await self.refreshSlots(after: "\(address) failed: \(error)")
                        throw error
                    }
                }
            }
            for try await answered in group {
                for (index, reply) in answered { replies[index] = reply }
            }
        }
        // What send() would have redirected or waited out is sent again through it.
        for index in replies.indices where Redirection.isRetried(replies[index].errorMessage) {
            do {
                replies[index] = try await send(commands[index])
            } catch let error as RedisError where error.code == .server {
                replies[index] = .error(error.serverMessage ?? error.message)
            }
        }
        return replies
    }

    /// Sends `command` to the node of its key without waiting (``RedisClient/sendDetached(_:)``):
    /// false when the map does not name that node yet, or it has no idle connection. A redirection
    /// in reply is not followed.
    public func sendDetached(_ command: RedisCommand) -> Bool {
        guard let address = try? knownAddress(forSlot: command.routingKey.map(ClusterSlot.of)),
            let node = try? client(for: address)
        else { return false }
        return node.sendDetached(command)
    }

    /// A client of each primary serving slots now, per the client's map (read first when needed), in
    /// address order: for what each node keeps of its own (`INFO`, `DBSIZE`, `SCAN`).
    /// - Throws: ``RedisError`` when the slot map cannot be read.
    public func primaries() async throws -> [any RedisCommanding] {
        _ = try await address(forSlot: nil)
        let addresses = state.withLock { Set($0.owners.filter { !$0.isEmpty }) }.sorted()
        return try addresses.map { try client(for: $0) }
    }

    /// The address (`host:port`) of the primary serving `slot` now, per the client's map.
    public func owner(ofSlot slot: Int) async throws -> String {
        try await address(forSlot: slot)
    }

    // MARK: Topology

    private func address(forSlot slot: Int?) async throws -> String {
        if let known = try knownAddress(forSlot: slot) { return known }
        try await refreshSlots(after: nil)
        if let known = try knownAddress(forSlot: slot) { return known }
        throw RedisError(
            .unavailable,
            "no node of the cluster serves slot \(slot ?? 0): the cluster is incomplete; run `redis-cli --cluster check`"
                + " on \(seeds[0].address) and fix the uncovered slots")
    }

    private func knownAddress(forSlot slot: Int?) throws -> String? {
        try state.withLock { state in
            if state.shutDown { throw RedisError(.shutDown, "the Redis client was shut down") }
            guard !state.owners.isEmpty else { return nil }
            if let slot { return state.owners[slot].isEmpty ? nil : state.owners[slot] }
            return state.owners.first { !$0.isEmpty }
        }
    }

    /// Reads the slot map (`CLUSTER SLOTS`) from a node already known, else from the seeds.
    private func refreshSlots(after reason: String?) async throws {
        let candidates = Set(state.withLock { $0.owners.filter { !$0.isEmpty } }).sorted() + seeds.map(\.address)
        var failures: [String] = []
        for address in candidates {
            do {
                let reply = try await client(for: address).send(RedisCommand("CLUSTER", "SLOTS"))
                let owners = try Self.owners(from: reply)
                let (changed, retired) = state.withLock { state in
                    defer { state.owners = owners }
                    guard state.owners != owners else { return (false, [(String, RedisClient)]()) }
                    return (true, Self.retireNodes(notIn: owners, keeping: seeds, from: &state))
                }
                if changed, let reason {
                    logger.notice("cluster slot map read again", metadata: ["redis.cluster.reason": "\(reason)"])
                }
                for (address, node) in retired { close(node, at: address) }
                return
            } catch let error as RedisError {
                failures.append("\(address): \(error)")
            }
        }
        throw RedisError(
            .unavailable,
            "cannot read the cluster's slot map from any node (\(failures.joined(separator: "; "))): "
                + "is the cluster up? set the seeds to reachable nodes")
    }

    /// Takes the pools of nodes that serve no slot any more (a failover's old primary, a node
    /// resharded empty or removed) out of use; the seeds keep theirs, to read the map from.
    private static func retireNodes(
        notIn owners: [String], keeping seeds: [RedisConfiguration], from state: inout State
    ) -> [(String, RedisClient)] {
        let kept = Set(owners).union(seeds.map(\.address))
        let gone = state.nodes.filter { !kept.contains($0.key) }
        for (address, node) in gone {
            state.nodes[address] = nil
            state.retired[ObjectIdentifier(node)] = node
        }
        return gone.map { ($0.key, $0.value) }
    }

    /// Closes a retired node's pool once the commands still using it have had their time.
    private func close(_ node: RedisClient, at address: String) {
        logger.info(
            "cluster node left the slot map: its connections close in \(retirementDelay)",
            metadata: ["redis.cluster.node": "\(address)"])
        Task { [retirementDelay] in
            try? await Task.sleep(for: retirementDelay)
            guard let node = state.withLock({ $0.retired.removeValue(forKey: ObjectIdentifier(node)) }) else { return }
            await node.shutdown()
        }
    }

    /// Per slot the `host:port` of its primary, from a `CLUSTER SLOTS` reply.
    static func owners(from reply: RedisReply) throws -> [String] {
        guard let ranges = reply.array else { throw RedisError.unexpected(reply, expected: "CLUSTER SLOTS ranges") }
        var owners = [String](repeating: "", count: ClusterSlot.count)
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let first = parts[0].int, let last = parts[1].int,
                let primary = parts[2].array, primary.count >= 2, let host = primary[0].string, let port = primary[1].int,
                first >= 0, last < ClusterSlot.count, first <= last
            else { throw RedisError.unexpected(range, expected: "[first slot, last slot, [host, port, id], …]") }
            let address = "\(host):\(port)"
            for slot in Int(first)...Int(last) { owners[slot] = address }
        }
        return owners
    }

    private func client(for address: String) throws -> RedisClient {
        try state.withLock { state in
            if state.shutDown { throw RedisError(.shutDown, "the Redis client was shut down") }
            if let client = state.nodes[address] { return client }
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                throw RedisError(.unexpectedReply, "the cluster named a node address \(address) that is not host:port")
            }
            var configuration = seeds[0]
            configuration.host = String(address[..<colon])
            configuration.port = port
            configuration.database = 0
            var logger = logger
            logger[metadataKey: "redis.cluster.node"] = "\(address)"
            let client = RedisClient(configuration: configuration, logger: logger)
            state.nodes[address] = client
            return client
        }
    }
}

/// A `MOVED slot host:port` or `ASK slot host:port` error reply.
struct Redirection: Equatable {
    var moved: Bool
    var slot: Int
    var address: String

    /// True for the error replies ``RedisClusterClient/send(_:blockingFor:)`` follows or waits out:
    /// `MOVED`, `ASK` and `TRYAGAIN`.
    static func isRetried(_ serverMessage: String?) -> Bool {
        Redirection(serverMessage, from: "") != nil || serverMessage?.hasPrefix("TRYAGAIN") == true
    }

    /// Parses the reply of the node at `replier` (`host:port`): a redirection without a host
    /// (`MOVED 3999 :6381`, when the cluster announces no endpoint) names that node's host.
    init?(_ serverMessage: String?, from replier: String) {
        guard let serverMessage else { return nil }
        let parts = serverMessage.split(separator: " ")
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK", let slot = Int(parts[1]) else { return nil }
        moved = parts[0] == "MOVED"
        self.slot = slot
        let address = String(parts[2])
        if address.hasPrefix(":"), let colon = replier.lastIndex(of: ":") {
            self.address = String(replier[..<colon]) + address
        } else {
            self.address = address
        }
    }
}

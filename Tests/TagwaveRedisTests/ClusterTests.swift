import Foundation
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Slots and routing keys")
struct ClusterSlotTests {
    @Test func slotsAreComputedAsTheClusterSpecificationSays() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        #expect(ClusterSlot.of("123456789") == 12739)  // CRC16/XMODEM check value 0x31C3
        #expect(ClusterSlot.of("foo") == 12182)
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("user1000"))
        #expect(ClusterSlot.of("foo{}{bar}") == ClusterSlot.of("foo{}{bar}"))  // an empty tag hashes the whole key
        #expect(ClusterSlot.of("foo{{bar}}zap") == ClusterSlot.of("{bar"))
        #expect(ClusterSlot.of("foo{bar}{zap}") == ClusterSlot.of("bar"))
    }

    @Test func commandsAreRoutedByTheirFirstKey() {
        #expect(RedisCommand("GET", "k").routingKey == Array("k".utf8))
        #expect(RedisCommand("PING").routingKey == nil)
        #expect(RedisCommand("EVALSHA", "abc", "2", "{t}:a", "{t}:b", "x").routingKey == Array("{t}:a".utf8))
        #expect(RedisCommand("EVALSHA", "abc", "0", "x").routingKey == nil)
        #expect(
            RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "{events}:1", ">").routingKey
                == Array("{events}:1".utf8))
        #expect(RedisCommand("XGROUP", "CREATE", "s", "g", "$").routingKey == Array("s".utf8))
        #expect(RedisCommand("MEMORY", "USAGE", "k").routingKey == Array("k".utf8))
        #expect(RedisCommand("SCAN", "17", "MATCH", "tw:*").routingKey == nil)  // a cursor is not a key
        #expect(
            RedisCommand("XREADGROUP", "GROUP", "g", "streams", "STREAMS", "{events}:1", ">").routingKey
                == Array("{events}:1".utf8))  // a consumer named "streams"
        // Keys and ids written straight into the request bytes route like any other.
        var keys = RedisArgumentWriter()
        keys.append(concatenating: "{".utf8, "t".utf8, "}:a".utf8)
        keys.append(Array("{t}:b".utf8))
        #expect(RedisCommand.evalsha(RedisScript("return 1"), keys: keys, arguments: [Array("x".utf8)]).routingKey == Array("{t}:a".utf8))
        #expect(RedisCommand.xack("{events}:1", group: "g", ids: [StreamID(milliseconds: 1, sequence: 2)]).routingKey == Array("{events}:1".utf8))
    }
}

@Suite("A real Redis Cluster of three nodes", .serialized)
struct ClusterTests {
    @Test func slotsMatchTheServersOwnKeyslot() async throws {
        try await RedisCluster.with { cluster in
            try await cluster.withNode(0) { node in
                for key in ["a", "teacher:123", "{teacher:123}:members", "tagwave:v:{school:7}", "é ünïcode", "x{}y", ""] {
                    let server = try await node.send(RedisCommand("CLUSTER", "KEYSLOT", RedisArgument(key))).int
                    #expect(server == Int64(ClusterSlot.of(key)), "\(key)")
                }
            }
        }
    }

    @Test func eachKeyIsWrittenOnTheNodeServingItsSlotAndReadBack() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let keys = (0..<300).map { "key:\($0)" }
            for key in keys { try await client.send(RedisCommand("SET", RedisArgument(key), RedisArgument("v-\(key)"))) }
            for key in keys { #expect(try await client.send(RedisCommand("GET", RedisArgument(key))).string == "v-\(key)") }
            // Every node holds some of them, and exactly the ones of its slots.
            var total: Int64 = 0
            for index in cluster.nodes.indices {
                let count = try await cluster.withNode(index) { try await $0.send(RedisCommand("DBSIZE")).int ?? 0 }
                #expect(count > 0, "node \(index) got no key")
                total += count
            }
            #expect(total == 300)
            let key = "key:7"
            let owner = try await cluster.nodeIndex(servingSlot: ClusterSlot.of(key))
            #expect(try await cluster.withNode(owner) { try await $0.send(RedisCommand("GET", RedisArgument(key))).string } == "v-\(key)")
            #expect(client.redirections == 0)
        } }
    }

    @Test func aPipelineAcrossSlotsAnswersInTheOrderGiven() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let writes = (0..<500).map { RedisCommand("SET", RedisArgument("p:\($0)"), RedisArgument($0)) }
            #expect(try await client.pipeline(writes).allSatisfy { $0.string == "OK" })
            let reads = (0..<500).map { RedisCommand("GET", RedisArgument("p:\($0)")) } + [RedisCommand("LPUSH", "p:0", "x")]
            let replies = try await client.pipeline(reads)
            #expect(replies.prefix(500).map(\.int) == (0..<500).map { Int64($0) })
            #expect(replies.last?.errorMessage?.hasPrefix("WRONGTYPE") == true)  // an error reply stays in its place
        } }
    }

    @Test func askDuringAMigrationAndMovedAfterItAreFollowed() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let key = "migrating:{teacher:1}"
            let slot = ClusterSlot.of(key)
            try await client.send(RedisCommand("SET", RedisArgument(key), "before"))
            let source = try await cluster.nodeIndex(servingSlot: slot)
            let destination = (source + 1) % cluster.nodes.count
            let sourceID = try await cluster.id(ofNode: source)
            let destinationID = try await cluster.id(ofNode: destination)

            // Migrate the slot the way `redis-cli --cluster reshard` does, key by key.
            try await cluster.withNode(destination) {
                try await $0.send(RedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "IMPORTING", RedisArgument(sourceID)))
            }
            try await cluster.withNode(source) {
                try await $0.send(RedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "MIGRATING", RedisArgument(destinationID)))
                try await $0.send(RedisCommand(
                    "MIGRATE", "127.0.0.1", RedisArgument(cluster.nodes[destination].port), RedisArgument(key), "0", "5000"))
            }
            // The client's map still names the source, which answers ASK: the key is already at the destination.
            #expect(try await client.send(RedisCommand("GET", RedisArgument(key))).string == "before")
            #expect(client.redirections == 1)
            #expect(try await client.owner(ofSlot: slot) == "127.0.0.1:\(cluster.nodes[source].port)")  // ASK moves nothing
            // A script the destination has never seen follows the ASK too (as EVAL, which ASKING covers).
            let read = RedisScript("return redis.call('GET', KEYS[1]) .. ' (by script)'")
            #expect(try await client.eval(read, keys: [RedisArgument(key)]).string == "before (by script)")
            #expect(client.redirections == 2)

            // The migration ends: every node learns the new owner, the destination first and then the
            // source, as CLUSTER SETSLOT's documentation says (the other order can leave the two
            // nodes naming each other for a moment); the source answers MOVED.
            let others = cluster.nodes.indices.filter { $0 != destination && $0 != source }
            for index in [destination, source] + others {
                try await cluster.withNode(index) {
                    try await $0.send(RedisCommand("CLUSTER", "SETSLOT", RedisArgument(slot), "NODE", RedisArgument(destinationID)))
                }
            }
            // As `redis-cli --cluster` does after a reshard, wait until every node names the new owner:
            // until the cluster bus has spread the news, two nodes can redirect to each other. The
            // destination's claim must win wherever the bus still carries the source's: an epoch above
            // every other node's. A loaded host (the whole suite on two cores) takes seconds.
            try await cluster.withNode(destination) { _ = try await $0.send(RedisCommand("CLUSTER", "BUMPEPOCH")) }
            let deadline = ContinuousClock.now + .seconds(60)
            var converged = false
            while !converged, ContinuousClock.now < deadline {
                var agreeing = 0
                for index in cluster.nodes.indices
                where (try? await cluster.nodeIndex(servingSlot: slot, asking: index)) == destination { agreeing += 1 }
                converged = agreeing == cluster.nodes.count
                if !converged { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(converged, "the cluster did not agree on the slot's new owner within a minute")
            try await client.send(RedisCommand("SET", RedisArgument(key), "after"))
            // At least the source's MOVED (more if two nodes named each other while the news spread).
            let afterMove = client.redirections
            #expect(afterMove >= 3)
            #expect(try await client.owner(ofSlot: slot) == "127.0.0.1:\(cluster.nodes[destination].port)")
            #expect(try await cluster.withNode(destination) { try await $0.send(RedisCommand("GET", RedisArgument(key))).string } == "after")
            #expect(try await client.send(RedisCommand("GET", RedisArgument(key))).string == "after")
            #expect(client.redirections == afterMove)  // the map is right now: no more redirections
        } }
    }

    @Test func aScriptRunsOnTheNodeOfItsKeysAndAStreamLivesOnTheNodeOfItsHashTag() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) + redis.call('INCRBY', KEYS[2], ARGV[1])")
            for tag in ["teacher:1", "teacher:2", "school:7"] {
                let reply = try await client.eval(script, keys: [RedisArgument("{\(tag)}:a"), RedisArgument("{\(tag)}:b")], arguments: [5])
                #expect(reply.int == 10, "\(tag)")  // NOSCRIPT on each node the first time: loaded there
            }
            let stream = "{events:0}"
            let id = try await client.send(RedisCommand.xadd(stream, fields: [StreamField("type", "session.created")])).string
            #expect(id != nil)
            try await client.send(RedisCommand("XGROUP", "CREATE", RedisArgument(stream), "invalidators", "0"))
            let read = try await client.send(
                RedisCommand("XREADGROUP", "GROUP", "invalidators", "w1", "COUNT", "10", "STREAMS", RedisArgument(stream), ">"))
            #expect(read.array?.count == 1)
            #expect(client.redirections == 0)
        } }
    }
}

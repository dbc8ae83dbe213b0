import Foundation
@testable import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Stream commands the worker needs")
struct StreamCommandTests {
    @Test func readAcknowledgeAndInspectAConsumerGroup() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            #expect(try await redis.xgroupCreate("events", group: "g", startID: "0"))
            #expect(try await redis.xgroupCreate("events", group: "g", startID: "0") == false)
            var ids: [StreamID] = []
            for index in 0..<5 {
                ids.append(try await redis.xadd("events", fields: [StreamField("type", "t.\(index)"), StreamField("payload", "{}")]))
            }
            let read = try await redis.xreadgroup(group: "g", consumer: "c1", stream: "events", count: 3, block: .milliseconds(10))
            #expect(read.map(\.id) == Array(ids.prefix(3)))
            #expect(read[0].value("type") == Array("t.0".utf8))
            let summary = try await redis.xpendingSummary("events", group: "g")
            #expect(summary.count == 3)
            #expect(summary.consumers == ["c1": 3])
            #expect(try await redis.xack("events", group: "g", ids: [ids[0]]) == 1)
            let pending = try await redis.xpending("events", group: "g", count: 10)
            #expect(pending.map(\.id) == [ids[1], ids[2]])
            #expect(pending.allSatisfy { $0.consumer == "c1" && $0.deliveries == 1 })

            let info = try await redis.xinfoStream("events")
            #expect(info.length == 5 && info.groups == 1 && info.lastGeneratedID == ids[4])
            let groups = try await redis.xinfoGroups("events")
            #expect(groups.first?.name == "g" && groups.first?.pending == 2 && groups.first?.lag == 2)
            let consumers = try await redis.xinfoConsumers("events", group: "g")
            #expect(consumers.map(\.name) == ["c1"] && consumers.first?.pending == 2)
            await redis.shutdown()
        }
    }

    @Test func autoclaimTakesOverIdleEntriesAndReportsDeletedOnes() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.xgroupCreate("events", group: "g", startID: "0")
            let first = try await redis.xadd("events", fields: [StreamField("type", "a")])
            let second = try await redis.xadd("events", fields: [StreamField("type", "b")])
            _ = try await redis.xreadgroup(group: "g", consumer: "dead", stream: "events", count: 10)
            try await redis.send(RedisCommand("XDEL", "events", RedisArgument(first.description)))
            try await Task.sleep(for: .milliseconds(30))
            let claimed = try await redis.xautoclaim("events", group: "g", consumer: "alive", minIdle: .milliseconds(20))
            #expect(claimed.entries.map(\.id) == [second])
            #expect(claimed.deletedIDs == [first])
            #expect(claimed.nextStart == .zero)

            // Re-reading the history of a pending entry that was deleted gives nil fields.
            try await redis.send(RedisCommand("XDEL", "events", RedisArgument(second.description)))
            let history = try await redis.xreadgroup(group: "g", consumer: "alive", stream: "events", id: "0", count: 10)
            #expect(history.map(\.id) == [second])
            #expect(history.first?.fields == nil)
            await redis.shutdown()
        }
    }

    @Test func trimmingByMinimumIDKeepsNewerEntries() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            var ids: [StreamID] = []
            for _ in 0..<10 { ids.append(try await redis.xadd("events", fields: [StreamField("type", "x")])) }
            #expect(try await redis.xtrim("events", .minimumID(ids[6], approximate: false)) == 6)
            #expect(try await redis.xinfoStream("events").firstEntryID == ids[6])
            await redis.shutdown()
        }
    }

    @Test func entriesReadStraightFromTheReplyEqualThoseParsedFromAReplyTree() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.xgroupCreate("events", group: "g", startID: "0")
            var ids: [StreamID] = []
            for index in 0..<4 {
                ids.append(try await redis.xadd("events", fields: [
                    StreamField("type", "t.\(index)"), StreamField("payload", #"{"n":\#(index)}"#), StreamField("empty", ""),
                ]))
            }
            let delivered = try await redis.xreadgroup(group: "g", consumer: "c1", stream: "events", count: 10)
            #expect(delivered.map(\.id) == ids)
            #expect(delivered[2].fields?.map(\.name) == [Array("type".utf8), Array("payload".utf8), Array("empty".utf8)])
            #expect(delivered[2].value("empty") == [])
            // Deleted while pending: its history entry comes back without fields.
            _ = try await redis.send(RedisCommand("XDEL", "events", RedisArgument(ids[1].description)))
            let history = try await redis.xreadgroup(group: "g", consumer: "c1", stream: "events", id: "0", count: 10)
            // The generic path of RedisCommanding: send, a RedisReply tree, then parsing.
            let tree = try StreamEntry.parseRead(
                try await redis.send(RedisCommand.xreadgroup(group: "g", consumer: "c1", streams: [("events", "0")], count: 10)))
            #expect(history == tree.first?.entries)
            #expect(history[1].id == ids[1] && history[1].fields == nil)
            #expect(history[0] == delivered[0])
            // Nothing new: the BLOCK runs out and the read is empty.
            #expect(try await redis.xreadgroup(group: "g", consumer: "c1", stream: "events", count: 10, block: .milliseconds(20)).isEmpty)
            await redis.shutdown()
        }
    }

    @Test func aMissingGroupIsReportedAsNOGROUP() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let error = await #expect(throws: RedisError.self) {
                _ = try await redis.xreadgroup(group: "nope", consumer: "c", stream: "nostream", count: 1)
            }
            #expect(error?.serverMessage?.hasPrefix("NOGROUP") == true)
            await redis.shutdown()
        }
    }
}

import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// The worker keeps the stream bounded by deleting only what every group is done with
/// (`XTRIM MINID`), never an entry pending in a group or not yet delivered to one.
@Suite("Trimming the stream")
struct WorkerTrimTests {
    @Test func aTrimKeepsEveryEntryAGroupStillHoldsOrHasNotReadAndDeletesTheRest() async throws {
        try await WorkerHarness.with { h in
            var ids: [StreamID] = []
            for n in 0..<100 {
                ids.append(try await h.publish(type: "session.created", payload: #"{"teacherId":"t\#(n)","schoolId":"s1"}"#, id: "e\(n)"))
            }
            // A consumer of the worker's own group that read five entries and died: they stay
            // pending (the claim timeout is a minute).
            try await h.redis.xgroupCreate("events", group: "invalidators", startID: "0")
            #expect(try await h.redis.xreadgroup(group: "invalidators", consumer: "dead", stream: "events", count: 5).count == 5)
            // A second group, behind: it read thirty entries and acknowledged ten.
            try await h.redis.xgroupCreate("events", group: "audit", startID: "0")
            #expect(try await h.redis.xreadgroup(group: "audit", consumer: "a1", stream: "events", count: 30).count == 30)
            try await h.redis.xack("events", group: "audit", ids: Array(ids[0..<10]))

            let worker = h.worker(trimInterval: .milliseconds(50))
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            func length() async throws -> Int64 { try await h.redis.send(RedisCommand("XLEN", "events")).int ?? -1 }

            try await h.eventually { try await h.processedCount() == 95 }
            // The dead consumer's first entry is the floor: nothing can go.
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await length() == 100)

            // Those five are handled elsewhere and acknowledged: the audit group's oldest pending
            // entry (the eleventh) is the floor now.
            try await h.redis.xack("events", group: "invalidators", ids: Array(ids[0..<5]))
            try await h.eventually { try await length() == 90 }
            let first = try await h.redis.send(RedisCommand("XRANGE", "events", "-", "+", "COUNT", "1"))
            #expect(first.array?.first?.array?.first?.string == ids[10].description)

            // The audit group catches up: every group is done with every entry.
            try await h.redis.xack("events", group: "audit", ids: Array(ids[10..<30]))
            try await h.eventually { try await length() == 70 }  // the audit group has not read the rest
            let rest = try await h.redis.xreadgroup(group: "audit", consumer: "a1", stream: "events", count: 100)
            #expect(rest.count == 70)
            try await h.redis.xack("events", group: "audit", ids: rest.map(\.id))
            try await h.eventually { try await length() == 0 }
        }
    }
}

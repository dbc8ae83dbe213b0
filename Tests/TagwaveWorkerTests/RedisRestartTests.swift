import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// The durability contract across a Redis crash: Redis with its AOF (as deploy/redis configures
/// it, fsynced at every write here so the test is exact) dies with SIGKILL in the middle of a
/// steady flow and comes back on the same port and data.
@Suite("A Redis crash under a running worker")
struct RedisRestartTests {
    @Test func aRedisKilledMidFlowAndRestartedLosesNoEventAndRecordsNoneTwice() async throws {
        try await WorkerHarness.with(arguments: ["--appendonly", "yes", "--appendfsync", "always"]) { h in
            let worker = h.worker(batchSize: 50)
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            func publish(_ range: Range<Int>) async throws {
                for n in range {
                    try await h.publish(type: "session.created", payload: #"{"teacherId":"t\#(n % 7)","schoolId":"s1"}"#, id: "e\(n)")
                }
            }
            try await publish(0..<300)
            // Mid-flow: some batches committed and acknowledged, others in hand.
            try await h.eventually { try await h.processedCount() >= 50 }
            try await h.server.restart()
            let before = try await h.processedCount()
            // Publishing waits for the server like any producer would.
            try await h.eventually { (try? await h.redis.send(RedisCommand("PING")).string) == "PONG" }
            try await publish(300..<400)

            // Within seconds, not at the next claim pass (every claim_idle / 2, 30 s here): a batch whose
            // XACK was lost with the connection is retried as soon as the stream is quiet.
            let recovering = ContinuousClock.now
            try await h.eventually(timeout: .seconds(60)) { try await h.processedCount() == 400 }
            try await h.eventually { try await h.pending() == 0 }
            #expect(ContinuousClock.now - recovering < .seconds(20), "recovered after \(ContinuousClock.now - recovering)")
            #expect(try await h.redis.send(RedisCommand("XLEN", "events")).int == 400, "the AOF kept every entry")
            let ids = try await h.ledger.events(filter: .init(limit: 1000)).map(\.eventID)
            #expect(Set(ids).count == 400 && ids.count == 400)
            print(
                "aRedisKilledMidFlowAndRestartedLosesNoEventAndRecordsNoneTwice: \(before) of 300 recorded at the kill; "
                    + "\(worker.progress.duplicates) redelivered entries found already recorded")
        }
    }
}

import Foundation
import Logging
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `tagwave worker` daemon, as separate processes killed at chosen moments.
@Suite("Worker daemons as real processes")
struct WorkerProcessTests {
    /// The `tagwave` binary built next to the test bundle.
    static var tagwave: String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return directory.appendingPathComponent("tagwave").path
    }

    func writeConfig(_ server: RedisServer, directory: URL, claimIdleMilliseconds: Int = 60_000, concurrency: Int = 1) throws -> String {
        let path = directory.appendingPathComponent("worker.yaml").path
        try """
        redis: { url: "\(server.url)" }
        stream: { name: "events", group: "invalidators", batch_size: 200, concurrency: \(concurrency), block_ms: 100, claim_idle_ms: \(claimIdleMilliseconds) }
        ledger: { path: "\(directory.appendingPathComponent("ledger.sqlite").path)" }
        rules:
          - event: session.created
            invalidate: ["teacher:{teacherId}", "school:{schoolId}:sessions"]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startWorker(config: String, consumer: String, directory: URL) throws -> ChildProcess {
        #expect(FileManager.default.isExecutableFile(atPath: Self.tagwave), "build the CLI first: swift build --build-tests")
        return try ChildProcess(
            Self.tagwave, ["worker", "--config", config, "--consumer", consumer, "--drain-seconds", "10"],
            outputPath: directory.appendingPathComponent("\(consumer).log").path)
    }

    func publish(_ redis: RedisClient, count: Int, offset: Int = 0) async throws {
        for start in stride(from: 0, to: count, by: 500) {
            let commands = (start..<min(start + 500, count)).map { index in
                RedisCommand.xadd("events", fields: [
                    StreamField("type", "session.created"), StreamField("id", "e\(offset + index)"),
                    StreamField("payload", #"{"teacherId":"t\#(index % 97)","schoolId":"s\#(index % 5)"}"#),
                ])
            }
            _ = try await redis.pipeline(commands)
        }
    }

    func processed(_ ledgerPath: String) async throws -> Int {
        let ledger = try await Ledger.open(path: ledgerPath, logger: Logger(label: "t"), options: LedgerOptions(createIfMissing: false))
        defer { Task { await ledger.close() } }
        return try await ledger.events(filter: LedgerEventFilter(status: .processed, limit: 1_000_000)).count
    }

    func waitFor(timeout: Duration = .seconds(60), _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func aWorkerKilledMidBatchLosesNothingAndNothingIsRecordedTwice() async throws {
        try await RedisServer.with { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-kill-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(server, directory: directory, claimIdleMilliseconds: 500)
            let ledgerPath = directory.appendingPathComponent("ledger.sqlite").path
            let redis = server.client()
            try await publish(redis, count: 20_000)

            let first = try startWorker(config: config, consumer: "first", directory: directory)
            defer { first.send(SIGKILL) }
            try await waitFor("the first worker to process some events") { try await processed(ledgerPath) >= 1_000 }
            first.send(SIGKILL)
            #expect(try await first.wait() == 128 + SIGKILL)
            let pendingOnDead = try await redis.xpendingSummary("events", group: "invalidators").consumers["first"] ?? 0

            let second = try startWorker(config: config, consumer: "second", directory: directory)
            defer { second.send(SIGKILL) }
            try await waitFor(timeout: .seconds(120), "every event processed") { try await processed(ledgerPath) == 20_000 }
            try await waitFor("no pending entry") { try await redis.xpendingSummary("events", group: "invalidators").count == 0 }
            second.send(SIGTERM)
            #expect(try await second.wait() == 0)
            #expect(try await processed(ledgerPath) == 20_000)
            print("killed a worker holding \(pendingOnDead) pending entries; the second claimed them; 20,000 recorded once")
            await redis.shutdown()
        }
    }

    @Test(arguments: [1, 3])
    func sigtermDuringASteadyFlowExitsZeroAndLeavesNothingPending(concurrency: Int) async throws {
        try await RedisServer.with { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-term-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(server, directory: directory, concurrency: concurrency)
            let redis = server.client()
            let worker = try startWorker(config: config, consumer: "steady", directory: directory)
            defer { worker.send(SIGKILL) }
            let producer = Task {
                var sent = 0
                while !Task.isCancelled {
                    try await publish(redis, count: 50, offset: sent)
                    sent += 50
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            try await Task.sleep(for: .seconds(2))
            worker.send(SIGTERM)
            let status = try await worker.wait(timeout: .seconds(15))
            producer.cancel()
            _ = try? await producer.value
            #expect(status == 0, "\(worker.output.suffix(3000))")
            let pending = try await redis.xpendingSummary("events", group: "invalidators")
            let lanes = ["steady"] + (1..<concurrency).map { "steady/\($0 + 1)" }
            #expect(lanes.allSatisfy { pending.consumers[$0] == nil }, "entries left pending on the stopped worker: \(pending)")
            #expect(try await redis.xinfoConsumers("events", group: "invalidators").map(\.name).sorted() == lanes.sorted())
            #expect(worker.output.contains("worker stopped"))
            await redis.shutdown()
        }
    }
}

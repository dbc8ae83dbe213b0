import Foundation
import Logging
import TagwaveCache
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `tagwave worker` daemon with `redis.cluster` in its configuration, against a real three-node cluster.
@Suite("tagwave on a Redis Cluster: the worker daemon, and the cache and publish verbs")
struct ClusterDaemonTests {
    @Test func theDaemonConsumesAHashTaggedStreamAndInvalidatesTagsOnEveryNode() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-cluster-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let ledgerPath = directory.appendingPathComponent("ledger.sqlite").path
            let config = directory.appendingPathComponent("worker.yaml").path
            let seeds = cluster.nodes.prefix(2).map { "\"redis://127.0.0.1:\($0.port)\"" }.joined(separator: ", ")
            try """
                redis: { cluster: [\(seeds)] }
                stream: { name: "{events}:0", group: "invalidators", block_ms: 50, trim_interval_s: 0 }
                ledger: { path: "\(ledgerPath)" }
                admin: { bind: "off" }
                rules:
                  - event: session.created
                    invalidate: ["teacher:{teacherId}"]
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let check = try ChildProcess(CLIFixture.tagwave, ["config", "check", config], environment: CLIFixture.environment)
            #expect(try await check.wait(timeout: .seconds(30)) == 0, "\(check.output)")

            let cache = TaggedCache(redis: client, logger: Logger(label: "test.cache"))
            for teacher in 0..<12 { try await cache.set("sessions:t\(teacher)", ["s"], tags: ["teacher:t\(teacher)"], ttl: 600) }
            let worker = try ChildProcess(
                CLIFixture.tagwave, ["worker", "--config", config, "--consumer", "c1"],
                environment: CLIFixture.environment, outputPath: directory.appendingPathComponent("worker.out").path)
            defer { worker.terminate() }
            _ = try await client.pipeline((0..<120).map { index in
                .xadd("{events}:0", fields: [
                    StreamField("type", "session.created"), StreamField("id", "evt-\(index)"),
                    StreamField("payload", #"{"teacherId":"t\#(index % 12)"}"#),
                ])
            })
            let deadline = ContinuousClock.now + .seconds(60)
            var recorded = 0
            while ContinuousClock.now < deadline, worker.isRunning {
                if FileManager.default.fileExists(atPath: ledgerPath) {
                    let ledger = try await Ledger.open(
                        path: ledgerPath, logger: Logger(label: "test.ledger"), options: LedgerOptions(createIfMissing: false))
                    recorded = try await ledger.countEvents(matching: LedgerEventSelection(statuses: [.processed]))
                    await ledger.close()
                    if recorded == 120 { break }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(recorded == 120, "\(worker.output.suffix(3000))")
            worker.send(SIGTERM)
            #expect(try await worker.wait(timeout: .seconds(20)) == 0, "\(worker.output.suffix(3000))")
            #expect(worker.output.contains("Redis cluster redis://127.0.0.1:"), "\(worker.output.prefix(2000))")
            #expect(try await client.xpendingSummary("{events}:0", group: "invalidators").count == 0)
            for teacher in 0..<12 {
                #expect(try await cache.get("sessions:t\(teacher)", as: [String].self) == nil, "teacher t\(teacher)")
            }
        } }
    }

    @Test func cacheAndPublishVerbsReachEveryNodeThroughRedisCluster() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            var environment = CLIFixture.environment
            environment["REDIS_CLUSTER"] = cluster.nodes.prefix(2).map { "redis://127.0.0.1:\($0.port)" }.joined(separator: ",")
            func tagwave(_ arguments: String...) async throws -> (status: Int32, output: String) {
                let process = try ChildProcess(CLIFixture.tagwave, arguments, environment: environment)
                defer { process.terminate() }
                let status = try await process.wait(timeout: .seconds(30))
                return (status, process.output)
            }
            // Keys and tags in slots all over the cluster: a single-server client would get MOVED for most.
            for teacher in 0..<8 {
                let set = try await tagwave("cache", "set", "sessions:t\(teacher)", #"["s"]"#, "--tag", "teacher:t\(teacher)", "--tag", "all")
                #expect(set.status == 0, "\(set.output)")
            }
            #expect(try await tagwave("cache", "get", "sessions:t5").output.contains(#"["s"]"#))
            let invalidated = try await tagwave("cache", "invalidate", "all")
            #expect(invalidated.status == 0, "\(invalidated.output)")
            for teacher in 0..<8 {
                #expect(try await tagwave("cache", "get", "sessions:t\(teacher)").status == 1, "teacher t\(teacher)")
            }
            let published = try await tagwave(
                "publish", "--type", "session.created", "--payload", #"{"teacherId":"t1"}"#, "--stream", "{events}:0")
            #expect(published.status == 0, "\(published.output)")
            #expect(try await client.send(RedisCommand("XLEN", "{events}:0")).int == 1)
        } }
    }
}

import Foundation
import Logging
import TagwaveCache
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The cache shared by separate processes over one real Redis: `tagwave-test-child` roles
/// `cache-get-or-set` and `memory-tier-listener` (Tests/TagwaveTestChild) are the other processes.
///
/// Timings are printed, and bounded only loosely: these tests are about correctness on a busy
/// two-core machine, not speed.
@Suite("The cache across processes", .serialized)
struct CrossProcessCacheTests {
    @Test func threeProcessesOnAColdKeyRunTheFactoryOnce() async throws {
        try await RedisServer.with { server in
            let marker = Self.temporaryPath("factory-runs")
            defer { try? FileManager.default.removeItem(atPath: marker) }
            // All three connect, then call `getOrSet` at one moment; the factory takes a second, so
            // even a late starter finds the key cold (MISSES 1) while the first one computes.
            let startAt = Self.epochMilliseconds() + 1500
            var children: [ChildProcess] = []
            defer { for child in children { child.terminate() } }
            for _ in 0..<3 {
                children.append(
                    try TestChild.start(
                        "cache-get-or-set",
                        ["\(server.port)", "report:cold", "1000", marker, "--start-at", "\(startAt)"]))
            }
            for child in children {
                let status = try await child.wait(timeout: .seconds(30))
                #expect(status == 0, "cache-get-or-set failed:\n\(child.output)")
            }

            let runs = Self.factoryRuns(marker)
            #expect(runs.count == 1, "the factory ran \(runs.count) times: \(runs)")
            let values = children.map { $0.line(startingWith: "VALUE ") }
            #expect(values.allSatisfy { $0 != nil && $0 == values[0] }, "values: \(values)")
            #expect(values[0] == runs.first.map { "computed by \($0.pid)" })
            let misses = children.map { $0.line(startingWith: "MISSES ") }
            #expect(
                misses.allSatisfy { $0 == "1" }, "every process must find the key cold (a real stampede): \(misses)")
            let late = children.compactMap { $0.line(startingWith: "LATE ") }
            let elapsed = children.map { $0.line(startingWith: "ELAPSED ") ?? "?" }
            print(
                "threeProcessesOnAColdKeyRunTheFactoryOnce: factory runs \(runs.count) (pid \(runs.first?.pid ?? 0)); "
                    + "getOrSet took \(elapsed.joined(separator: ", ")) ms (factory 1000 ms)"
                    + (late.isEmpty ? "" : "; late starters by \(late.joined(separator: ", ")) ms"))
        }
    }

    @Test func aDeadLeaseHolderDelaysOthersOnlyUntilItsLeaseExpires() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let key = "report:orphan"
            let leaseKey = RedisArgument("tw:l:\(key)")
            // Long enough that a test task starved on a loaded two-core machine still kills the
            // holder while its lease lives; there is no renewal, so the lease lasts exactly this.
            let leaseMilliseconds: Int64 = 8000
            let marker = Self.temporaryPath("factory-runs")
            defer { try? FileManager.default.removeItem(atPath: marker) }

            // A takes the lease and starts a factory of 30 s, far longer than the lease. It says
            // FACTORY only once it holds the lease, so its output, not a poll of Redis that a
            // starved task could miss, tells when to kill it.
            let holder = try TestChild.start(
                "cache-get-or-set", ["\(server.port)", key, "30000", marker, "--lease-ms", "\(leaseMilliseconds)"])
            defer { holder.terminate() }
            _ = try await holder.waitForLine(startingWith: "FACTORY at=", timeout: .seconds(30))

            holder.send(SIGKILL)
            #expect(try await holder.wait(timeout: .seconds(10)) == 128 + SIGKILL)
            let killedAt = Self.epochMilliseconds()
            // A dead holder releases nothing: its lease stays until Redis expires it.
            let remaining = try await redis.send(RedisCommand("PTTL", leaseKey)).int ?? -2
            #expect(remaining > 0, "the lease vanished with its holder (PTTL \(remaining)); it must only expire")
            let leaseExpiresAt = killedAt + max(remaining, 0)

            // B, on the same key: waits out the dead lease, then computes the value itself.
            let started = ContinuousClock.now
            let successor = try TestChild.start(
                "cache-get-or-set", ["\(server.port)", key, "50", marker, "--lease-ms", "\(leaseMilliseconds)"])
            defer { successor.terminate() }
            let status = try await successor.wait(timeout: .seconds(30))
            let total = ContinuousClock.now - started
            #expect(status == 0, "the successor failed:\n\(successor.output)")

            #expect(successor.line(startingWith: "VALUE ") == "computed by \(successor.pid)")
            #expect(Self.factoryRuns(marker).map(\.pid) == [holder.pid, successor.pid])
            let factoryAt = successor.line(startingWith: "FACTORY at=").flatMap { Int64($0) }
            #expect(factoryAt != nil, "the successor's factory did not run:\n\(successor.output)")
            if let factoryAt {
                // It took over only once the dead lease had expired (20 ms for clock reading).
                #expect(
                    factoryAt >= leaseExpiresAt - 20,
                    "the successor computed \(leaseExpiresAt - factoryAt) ms before the dead lease expired")
            }
            // Loosely: the rest of the lease, a process start and a 50 ms factory.
            #expect(total < .milliseconds(leaseMilliseconds) + .seconds(10))
            print(
                "aDeadLeaseHolderDelaysOthersOnlyUntilItsLeaseExpires: lease \(leaseMilliseconds) ms, "
                    + "\(remaining) ms left at the kill; successor's getOrSet took \(successor.line(startingWith: "ELAPSED ") ?? "?") ms, "
                    + "its factory started \(factoryAt.map { "\($0 - leaseExpiresAt)" } ?? "?") ms after the lease expired; "
                    + "start to exit \(Self.milliseconds(total)) ms")
        }
    }

    @Test func anInvalidationEvictsTheMemoryTierOfAnotherProcess() async throws {
        try await RedisServer.with { server in
            let listener = try TestChild.start(
                "memory-tier-listener", ["\(server.port)", "sessions:teacher:9", "teacher:9"])
            defer { listener.terminate() }
            _ = try await listener.waitForLine(startingWith: "READY", timeout: .seconds(30))

            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let invalidatedAt = Self.epochMilliseconds()
            let started = ContinuousClock.now
            let result = try await cache.invalidate(tag: "teacher:9")
            #expect(result.entries == 1)
            let evicted = try await listener.waitForLine(
                startingWith: "EVICTED ", timeout: .seconds(2), interval: .milliseconds(1))
            let observed = ContinuousClock.now - started
            #expect(try await listener.wait(timeout: .seconds(10)) == 0, "the listener failed:\n\(listener.output)")

            let evictedAt = evicted.split(separator: " ").first { $0.hasPrefix("at=") }.flatMap {
                Int64($0.dropFirst(3))
            }
            #expect(evictedAt != nil, "unexpected EVICTED line: \(evicted)")
            print(
                "anInvalidationEvictsTheMemoryTierOfAnotherProcess: evicted in the other process "
                    + "\(evictedAt.map { "\($0 - invalidatedAt)" } ?? "?") ms after the invalidation started; "
                    + "seen here after \(Self.milliseconds(observed)) ms")
        }
    }

    // MARK: Helpers

    /// A path under the temporary directory that nothing uses yet.
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-\(name)-\(UUID().uuidString)").path
    }

    static func epochMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The factory runs the children recorded in `marker`: one `<pid> <epoch ms>` line each, in order.
    static func factoryRuns(_ marker: String) -> [(pid: pid_t, at: Int64)] {
        let text = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let pid = pid_t(fields[0]), let at = Int64(fields[1]) else { return nil }
            return (pid, at)
        }
    }
}

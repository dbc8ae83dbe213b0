import Foundation
import Logging
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What one run of the `tagwave` binary printed and how it exited.
struct CLIResult: CustomStringConvertible {
    let status: Int32
    let output: String
    let errors: String

    var lines: [Substring] { output.split(separator: "\n") }

    /// The standard output as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(output.utf8))
    }

    var description: String { "exit \(status)\n--- stdout\n\(output)\n--- stderr\n\(errors)" }
}

/// A real Redis, a worker configuration, a ledger filled by a real `tagwave worker` process, and the
/// built `tagwave` binary to run verbs against them.
struct CLIFixture {
    let server: RedisServer
    let redis: RedisClient
    let directory: URL
    let config: String
    let ledgerPath: String

    /// The `tagwave` binary built next to the test bundle.
    static var tagwave: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tagwave")
            .path
    }

    /// A fixture with Redis, a configuration and an empty directory; `body` fills and inspects it.
    static func with<T>(warmBackend: String? = nil, _ body: (CLIFixture) async throws -> T) async throws -> T {
        try #require(
            FileManager.default.isExecutableFile(atPath: tagwave), "build the CLI first: swift build --build-tests")
        return try await RedisServer.with { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tagwave-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let ledgerPath = directory.appendingPathComponent("ledger.sqlite").path
            let config = directory.appendingPathComponent("worker.yaml").path
            try
                ("""
            redis: { url: "\(server.url)" }
            stream: { name: "events", group: "invalidators", batch_size: 200, block_ms: 50, trim_interval_s: 0 }
            ledger: { path: "\(ledgerPath)" }
            admin: { bind: "off" }
            rules:
              - event: session.created
                invalidate: ["teacher:{teacherId}", "school:{schoolId}:sessions"]
              - event: user.updated
                invalidate: ["user:{userId}"]
            """
                + (warmBackend.map { backend in
                    """

                        warm: ["\(backend)/?user={userId}"]
                    warm: { delay_ms: 10, retries: 0, connect_timeout_ms: 500, timeout_ms: 2000 }
                    """
                } ?? "")).write(toFile: config, atomically: true, encoding: .utf8)
            let redis = server.client()
            let fixture = CLIFixture(
                server: server, redis: redis, directory: directory, config: config, ledgerPath: ledgerPath)
            do {
                let result = try await body(fixture)
                await redis.shutdown()
                return result
            } catch {
                await redis.shutdown()
                throw error
            }
        }
    }

    /// The environment verbs run with: no settings leak in from the test runner's; the operator is `auditor`.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys
        where key.hasPrefix("REDIS_") || key.hasPrefix("TAGWAVE_") || key.hasPrefix("CACHE_") {
            environment[key] = nil
        }
        environment["USER"] = "auditor"
        return environment
    }

    /// Starts `tagwave arguments…` with standard output and error in files of their own; stdin is /dev/null.
    func start(_ arguments: [String], name: String = UUID().uuidString) throws -> (
        process: ChildProcess, errors: String
    ) {
        let errors = directory.appendingPathComponent("\(name).err").path
        let command =
            "exec " + ([Self.tagwave] + arguments).map(Self.quoted).joined(separator: " ") + " 2>" + Self.quoted(errors)
        let process = try ChildProcess(
            "/bin/sh", ["-c", command], environment: Self.environment,
            outputPath: directory.appendingPathComponent("\(name).out").path)
        return (process, errors)
    }

    /// Runs `tagwave arguments…` to its end.
    func run(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> CLIResult {
        let (process, errors) = try start(arguments)
        defer { process.terminate() }
        let status = try await process.wait(timeout: timeout)
        return CLIResult(
            status: status, output: process.output, errors: (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        )
    }

    /// Runs a verb against this fixture's configuration.
    func tagwave(_ arguments: String..., timeout: Duration = .seconds(30)) async throws -> CLIResult {
        try await run(arguments + ["--config", config], timeout: timeout)
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: Filling the ledger

    /// Appends events with plain XADDs, one pipeline.
    func publish(_ events: [(type: String?, payload: String, id: String?)]) async throws {
        _ = try await redis.pipeline(
            events.map { event in
                var fields: [StreamField] = []
                if let type = event.type { fields.append(StreamField("type", type)) }
                fields.append(StreamField("payload", event.payload))
                if let id = event.id { fields.append(StreamField("id", id)) }
                fields.append(StreamField("source", event.type == "user.updated" ? "accounts" : "api"))
                return RedisCommand.xadd("events", fields: fields)
            })
    }

    /// `count` session.created events `evt-<n>` (teachers t0…t9, schools s0…s2), from `first`.
    func publishSessions(_ count: Int, from first: Int = 0) async throws {
        for start in stride(from: first, to: first + count, by: 500) {
            try await publish(
                (start..<min(start + 500, first + count)).map { index in
                    ("session.created", #"{"teacherId":"t\#(index % 10)","schoolId":"s\#(index % 3)"}"#, "evt-\(index)")
                })
        }
    }

    /// The standard history: 12 sessions, 2 user updates, and a poison event whose payload is an array.
    func publishHistory() async throws {
        try await publishSessions(12)
        try await publish([
            ("user.updated", #"{"userId":"u1"}"#, "usr-1"),
            ("user.updated", #"{"userId":"u2"}"#, "usr-2"),
            ("session.created", #"["teacherId","t7"]"#, "evt-bad"),
        ])
    }

    /// Starts `tagwave worker` as a child process.
    func startWorker(consumer: String = "w1") throws -> ChildProcess {
        try start(
            ["worker", "--config", config, "--consumer", consumer, "--drain-seconds", "5"], name: "worker-\(consumer)"
        ).process
    }

    /// Runs a worker until the ledger holds `processed` processed events and `deadLetters` open dead letters, then stops it (SIGTERM).
    func fillLedger(processed: Int, deadLetters: Int = 0) async throws {
        let worker = try startWorker()
        defer { worker.terminate() }
        try await waitUntilRecorded(processed: processed, deadLetters: deadLetters, worker: worker)
        worker.send(SIGTERM)
        #expect(
            try await worker.wait(timeout: .seconds(15)) == 0, "the worker did not drain: \(worker.output.suffix(2000))"
        )
    }

    /// What the worker `w1` wrote to standard error (its log).
    var workerLog: String {
        (try? String(contentsOfFile: directory.appendingPathComponent("worker-w1.err").path, encoding: .utf8)) ?? ""
    }

    /// Waits until the ledger holds `processed` processed events and `deadLetters` open dead letters.
    func waitUntilRecorded(
        processed: Int, deadLetters: Int = 0, worker: ChildProcess? = nil, timeout: Duration = .seconds(60)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var seen = "nothing read yet"
        while ContinuousClock.now < deadline {
            do {
                let counts = try await withLedger { ledger in
                    (
                        try await ledger.countEvents(matching: LedgerEventSelection(statuses: [.processed])),
                        try await ledger.deadLetters(matching: LedgerDeadLetterFilter(limit: 10_000)).count
                    )
                }
                if counts.0 >= processed, counts.1 >= deadLetters { return }
                seen = "\(counts.0) processed, \(counts.1) dead letters"
            } catch {
                seen = "\(error)"  // the worker may not have created the ledger yet
            }
            if let worker, !worker.isRunning {
                Issue.record("the worker exited: \(worker.output.suffix(2000))\n\(String(workerLog.suffix(4000)))")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = String(workerLog.suffix(4000))
        Issue.record("the ledger did not get \(processed) processed events and \(deadLetters) dead letters in time; last seen: \(seen)\nworker log:\n\(log)")
    }

    /// Runs `body` with the fixture's ledger, opened read-only style (never created).
    func withLedger<T: Sendable>(_ body: (Ledger) async throws -> T) async throws -> T {
        let ledger = try await Ledger.open(
            path: ledgerPath, logger: Logger(label: "test.ledger"), options: LedgerOptions(createIfMissing: false))
        do {
            let result = try await body(ledger)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }

    /// Everything in Redis, to compare before and after.
    func snapshot() async throws -> [String: String] {
        try await redis.keyspaceSnapshot()
    }

    /// The current version of `tag` in the cache protocol (absent reads 0).
    func version(of tag: String) async throws -> Int64 {
        try await redis.cacheTagVersion(tag)
    }
}

/// Waits until `condition` holds, polling every 20 ms.
func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
}

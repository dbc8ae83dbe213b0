import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import TagwaveAdmin
import TagwaveCache
import TagwaveEvents
import TagwaveHealth
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker

/// A worker and its admin server in this process, against a real Redis and a real ledger file.
struct AdminHarness {
    let server: RedisServer
    let redis: RedisClient
    let ledger: Ledger
    let cache: TaggedCache

    static let rules: [InvalidationRule] = [
        InvalidationRule(eventType: "session.created", invalidate: [try! TagTemplate("teacher:{teacherId}")])
    ]

    /// Starts Redis and opens a ledger, runs `body`, cleans up.
    static func with<T>(_ body: (AdminHarness) async throws -> T) async throws -> T {
        try await RedisServer.with { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tagwave-admin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var configuration = server.configuration()
            configuration.poolSize = 4
            let redis = RedisClient(configuration: configuration, logger: quietLogger("test.redis"))
            let ledger = try await Ledger.open(
                path: directory.appendingPathComponent("ledger.sqlite").path, logger: quietLogger("test.ledger"))
            let harness = AdminHarness(
                server: server, redis: redis, ledger: ledger,
                cache: TaggedCache(redis: redis, logger: quietLogger("test.cache")))
            do {
                let result = try await body(harness)
                await ledger.close()
                await redis.shutdown()
                return result
            } catch {
                await ledger.close()
                await redis.shutdown()
                throw error
            }
        }
    }

    func worker(consumer: String = "w1") -> Worker {
        var configuration = WorkerConfiguration(consumer: consumer)
        configuration.block = .milliseconds(50)
        configuration.trimInterval = nil
        return Worker(
            redis: redis, ledger: ledger, cache: cache, configuration: configuration, rules: Self.rules,
            logger: quietLogger("test.worker"))
    }

    func admin(_ configuration: AdminConfiguration? = nil, worker: Worker?) throws -> AdminServer {
        var configuration = try configuration ?? AdminConfiguration(bind: "127.0.0.1:0")
        configuration.sampleInterval = .milliseconds(200)
        // A loaded test machine answers PING slowly at times: these tests are about status codes, not latency.
        configuration.thresholds.redisLatencyMilliseconds = .init(warning: 5_000, critical: 10_000)
        return try AdminServer(
            configuration: configuration, redis: redis, ledger: ledger, worker: worker, cache: cache,
            logger: quietLogger("test.admin"))
    }

    /// Appends an event as any producer would: a plain XADD.
    @discardableResult
    func publish(type: String?, payload: String, id: String? = nil) async throws -> StreamID {
        var fields: [StreamField] = []
        if let type { fields.append(StreamField("type", type)) }
        fields.append(StreamField("payload", payload))
        if let id { fields.append(StreamField("id", id)) }
        return try await redis.xadd("events", fields: fields)
    }
}

/// Runs `services` (an admin server among them) in a service group while `body` talks to the admin
/// server over HTTP, then shuts the group down gracefully.
func running<T: Sendable>(
    _ services: [any Service], admin: AdminServer, _ body: @Sendable (HTTPClient) async throws -> T
) async throws -> T {
    let group = ServiceGroup(
        configuration: .init(services: services.map { .init(service: $0) }, logger: quietLogger("test.group")))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        do {
            var port: Int?
            let deadline = ContinuousClock.now + .seconds(20)
            while port == nil {
                port = admin.boundPort
                if port == nil {
                    if ContinuousClock.now > deadline {
                        throw HarnessError("the admin server did not start listening in 20 s")
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let client = HTTPClient(port: port!)
            let result = try await body(client)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// One request at a time to a server on loopback (a new connection each, so one test can hold several).
struct HTTPClient: Sendable {
    let port: Int

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var json: JSONValue? { try? JSONValue.parse(body) }
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20))) {
            client in
            let response = try await client.get(path, headers: headers)
            return Reply(
                status: response.head.status, headers: response.head.headerFields,
                body: response.body.map { String(buffer: $0) } ?? "")
        }
    }
}

/// Polls `condition` until it holds; throws after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw HarnessError("timed out waiting for \(what)")
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

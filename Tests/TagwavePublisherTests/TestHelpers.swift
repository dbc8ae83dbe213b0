import Foundation
import Logging
import TagwaveEvents
import TagwavePublisher
import TagwaveRedis
import TagwaveTestSupport

/// A logger that drops everything, so test output stays readable.
let quietLogger = Logger(label: "tagwave-publisher-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` with a fresh directory under the system's temporary directory, removed after.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("tagwave-publisher-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// A small valid event; `n` tells events apart and tells their order.
func numbered(_ n: Int, type: String = "session.created") -> Event {
    Event(type: type, payload: .object([("n", .integer(n))]))
}

/// The entries of `stream`, oldest first.
func entries(in redis: RedisClient, stream: String = "events") async throws -> [StreamEntry] {
    let reply = try await redis.send(RedisCommand("XRANGE", RedisArgument(stream), "-", "+"))
    return try (reply.array ?? []).map(StreamEntry.parse)
}

/// The events of `stream`, decoded as a worker decodes them, oldest first.
func events(in redis: RedisClient, stream: String = "events") async throws -> [Event] {
    try await entries(in: redis, stream: stream).map { entry in
        try Event.decode(fields: (entry.fields ?? []).map { (name: $0.name, value: $0.value) })
    }
}

/// The `n` of each event's payload `{"n": …}`.
func numbers(_ events: [Event]) throws -> [Int] {
    try events.map { event in
        guard case .number(let text)? = try JSONValue.parse(event.payload)["n"], let n = Int(text) else {
            throw TestFailure("event \(event) has no payload field n")
        }
        return n
    }
}

/// A publisher of `server`'s stream, with a spool file in `directory` unless `spooled` is false.
func makePublisher(
    _ redis: RedisClient, spoolIn directory: URL?, drainInterval: Duration = .seconds(1)
) throws -> Publisher {
    try Publisher(
        redis: redis,
        configuration: PublisherConfiguration(
            spoolPath: directory?.appendingPathComponent("publisher-spool.sqlite").path, drainInterval: drainInterval),
        logger: quietLogger)
}

/// Waits until the server's client can reach it again after a restart (past the test
/// configuration's capped reconnect backoff of 200 ms).
func waitForReconnect(_ redis: RedisClient) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
        do {
            try await redis.send(RedisCommand("PING"))
            return
        } catch let error as RedisError where error.isConnectionProblem && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A failed expectation that is not an `#expect`.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

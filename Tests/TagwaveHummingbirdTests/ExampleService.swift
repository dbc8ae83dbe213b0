import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TagwaveEvents
import TagwaveTestSupport

/// The `tagwave-example` executable (Examples/ClassroomSessions), started on a free port against a
/// test's Redis, with a database file of its own.
struct ExampleService: Sendable {
    let process: ChildProcess
    let port: Int
    let directory: URL

    static func start(redisURL: String, _ arguments: [String] = []) async throws -> ExampleService {
        let executable = try TestChild.executable().deletingLastPathComponent().appendingPathComponent(
            "tagwave-example")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceError("tagwave-example is not built next to the tests: run `swift build --build-tests` first")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tagwave-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = try ChildProcess(
            executable.path,
            [
                "--port", "0", "--database", directory.appendingPathComponent("sessions.sqlite").path, "--redis-url",
                redisURL,
            ]
                + arguments)
        let line = try await process.waitForLine(startingWith: "listening on http://127.0.0.1:", timeout: .seconds(30))
        guard let port = Int(line) else { throw ServiceError("unexpected line: \(line)") }
        return ExampleService(process: process, port: port, directory: directory)
    }

    func stop() {
        process.send(SIGTERM)
        process.waitBlocking()
        try? FileManager.default.removeItem(at: directory)
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var json: JSONValue? { try? JSONValue.parse(body) }
        var cache: String? { headers[HTTPField.Name("X-Cache")!] }
    }

    func request(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil)
        async throws -> Reply
    {
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20))) {
            client in
            var headers = headers
            if body != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(
                TestClient.Request(
                    path, method: method, authority: "127.0.0.1:\(port)", headers: headers,
                    body: body.map { ByteBuffer(string: $0) }))
            return Reply(
                status: response.head.status, headers: response.head.headerFields,
                body: response.body.map { String(buffer: $0) } ?? "")
        }
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await request(.get, path, headers: headers)
    }

    /// Database reads the service made so far (a hit makes none).
    func databaseReads() async throws -> Int {
        guard case .number(let text)? = try await get("/stats").json?["databaseReads"], let reads = Int(text) else {
            throw ServiceError("GET /stats did not answer databaseReads")
        }
        return reads
    }
}

struct ServiceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import Logging
import TagwaveCache
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// docs/cache-protocol.md, proven against a second implementation: Tests/protocol/protocol_peer.py.
@Suite("The cache protocol, shared with a Python service")
struct CrossLanguageProtocolTests {
    static let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/protocol_peer.py").path

    func python(_ server: RedisServer, _ arguments: String...) async throws -> String {
        let process = try ChildProcess(ChildProcess.which("python3"), [Self.peer, "\(server.port)"] + arguments)
        let status = try await process.wait(timeout: .seconds(30))
        let output = process.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == 0, "protocol_peer.py failed (is redis-py installed? `pip install redis`): \(output)")
        return output
    }

    @Test func anEntryWrittenByPythonIsReadAndInvalidatedBySwift() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            _ = try await python(server, "write", "sessions:teacher:7", #"[{"id":"s1","title":"Algebra"}]"#, "60", "teacher:7", "sessions")
            let read = try await cache.get("sessions:teacher:7", as: [Session].self, tags: ["teacher:7"])
            #expect(read == [Session(id: "s1", title: "Algebra")])
            try await cache.invalidate(tag: "teacher:7")
            #expect(try await python(server, "read", "sessions:teacher:7", "teacher:7", "sessions") == "MISS")
        }
    }

    @Test func anEntryWrittenBySwiftIsReadAndInvalidatedByPython() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let big = (0..<100).map { Session(id: "s\($0)", title: "a title long enough to be compressed") }
            try await cache.set("sessions:teacher:8", big, tags: ["teacher:8"], ttl: 60)
            let seen = try await python(server, "read", "sessions:teacher:8", "teacher:8")
            #expect(try JSONDecoder().decode([Session].self, from: Data(seen.utf8)) == big)
            #expect(try await python(server, "invalidate", "teacher:8") == "teacher:8 1")
            #expect(try await cache.get("sessions:teacher:8", as: [Session].self, tags: ["teacher:8"]) == nil)
        }
    }
}

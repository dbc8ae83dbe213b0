import Foundation
import Logging
import TagwaveRedis

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port with a data folder of its own, for tests.
///
/// ```swift
/// try await RedisServer.with { server in
///     let redis = server.client()
///     try await redis.send(RedisCommand("PING"))
/// }
/// ```
/// Nothing is mocked and nothing is skipped: when `redis-server` is not installed the test fails with
/// the command that installs it.
public final class RedisServer: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by restart(), which tests call from one task.

    /// The port it listens on (kept across ``restart()``).
    public let port: Int
    /// Its data folder (removed by ``stop()``).
    public let directory: URL
    /// Extra `redis-server` arguments it was started with (`--user`, `--maxmemory-policy`, …).
    public let arguments: [String]
    private var process: ChildProcess?

    /// Where the tests expect the binary; `REDIS_SERVER` overrides.
    public static var executable: String {
        ProcessInfo.processInfo.environment["REDIS_SERVER"] ?? findInPath("redis-server") ?? "redis-server"
    }

    private init(port: Int, directory: URL, arguments: [String]) {
        self.port = port
        self.directory = directory
        self.arguments = arguments
    }

    /// Starts a server, runs `body`, and stops the server whatever happens.
    public static func with<T>(
        arguments: [String] = [], _ body: (RedisServer) async throws -> T
    ) async throws -> T {
        let server = try await start(arguments: arguments)
        do {
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    /// Starts a server on a free loopback port and waits until it answers `PING`.
    /// - Throws: ``RedisServerError`` when `redis-server` is missing or does not come up.
    public static func start(arguments: [String] = []) async throws -> RedisServer {
        guard findInPath("redis-server") != nil || ProcessInfo.processInfo.environment["REDIS_SERVER"] != nil else {
            throw RedisServerError(
                "redis-server is not installed: run `apt-get install -y redis-server` (or `bash .ci/run`, which installs it)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Another test may take the port between freePort() and redis-server's bind: try a few.
        var attempt = 0
        while true {
            let server = RedisServer(port: try freePort(), directory: directory, arguments: arguments)
            do {
                try await server.launch()
                return server
            } catch let error as RedisServerError where error.portTaken && attempt < 3 {
                attempt += 1
            }
        }
    }

    /// A configuration pointing at this server.
    public func configuration(username: String? = nil, password: String? = nil) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port, username: username, password: password)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(5)
        configuration.initialReconnectDelay = .milliseconds(20)
        configuration.maxReconnectDelay = .milliseconds(200)
        return configuration
    }

    /// A client for this server.
    public func client(username: String? = nil, password: String? = nil, logger: Logger = Logger(label: "test.redis")) -> RedisClient {
        RedisClient(configuration: configuration(username: username, password: password), logger: logger)
    }

    /// `redis://127.0.0.1:PORT/0`.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Kills the server with SIGKILL (no shutdown save), as a crash would.
    public func kill() {
        guard let process, process.isRunning else { return }
        process.send(SIGKILL)
        process.waitBlocking()
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel, nothing is answered.
    public func pause() {
        process?.send(SIGSTOP)
    }

    /// Lets a paused server run again (SIGCONT).
    public func resume() {
        process?.send(SIGCONT)
    }

    /// Starts the server again on the same port and data folder.
    public func restart() async throws {
        kill()
        try await launch()
    }

    /// Stops the server and removes its data folder.
    public func stop() {
        if let process, process.isRunning {
            process.send(SIGKILL)  // its data folder is thrown away: no shutdown save to wait for
            process.waitBlocking()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func launch() async throws {
        let process = try ChildProcess(
            Self.executable,
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
            ] + arguments)
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !process.isRunning {
                let log = ((try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? "") + process.output
                var error = RedisServerError("redis-server exited at start (arguments \(arguments)); its log:\n\(log.suffix(2000))")
                error.portTaken = log.contains("Address already in use")
                throw error
            }
            // Only our own process counts: another test's server may have taken the port first
            // (then ours exits with "Address already in use", which the branch above reports).
            switch Self.serverProcessID(port: port) {
            case .some(process.pid), .some(-1): return  // -1: it asks for a password, so it is up (and was started with one)
            case .some: if !process.isRunning { continue }
            case .none: break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RedisServerError("redis-server on port \(port) did not answer PING within 10 s")
    }

    /// The `process_id` of the server answering on `port` (`INFO server`); -1 when it asks for a
    /// password first; nil when nothing answers yet.
    private static func serverProcessID(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("INFO server\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while reply.count < 65_536 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            reply += buffer[0..<count]
            let text = String(decoding: reply, as: UTF8.self)
            if text.hasPrefix("-NOAUTH") || text.hasPrefix("-NOPERM") { return -1 }
            if text.hasPrefix("-LOADING") { return nil }
            if let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("process_id:") }), let pid = Int32(line.dropFirst("process_id:".count)) {
                return pid
            }
        }
        return nil
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port nothing listens on now: bind port 0, read what the kernel chose, let it go.
    public static func freePort() throws -> Int {
        try ClosedPort().port
    }

    public static func findInPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Why the test harness could not provide a Redis server.
public struct RedisServerError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public let description: String
    /// The server could not bind its port (another process took it first).
    var portTaken = false
    init(_ description: String) { self.description = description }
}

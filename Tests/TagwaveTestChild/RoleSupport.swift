import Foundation
import Logging
import TagwaveRedis

#if canImport(Glibc)
    import Glibc
#endif

/// What the cache roles share: their arguments, their output and their Redis.
enum RoleSupport {
    /// Prints `line` at once with one `write(2)`, so a test polling the output file sees it even
    /// when the process is killed right after.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Milliseconds since the epoch: comparable across processes on one machine.
    static func epochMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Whole milliseconds of `duration`.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Logs warnings and errors to standard error (the test shows the output when it fails).
    static func logger(_ role: String) -> Logger {
        var logger = Logger(label: "tagwave-test-child.\(role)", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        return logger
    }

    /// A client of the test's `redis-server` on `port` (loopback), with the test harness's timeouts.
    static func redis(port: Int, logger: Logger) -> RedisClient {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(5)
        configuration.initialReconnectDelay = .milliseconds(20)
        configuration.maxReconnectDelay = .milliseconds(200)
        return RedisClient(configuration: configuration, logger: logger)
    }

    /// Splits `arguments` into positional ones and `--name value` options; only `allowed` names pass.
    static func parse(_ arguments: [String], options allowed: Set<String>, usage: String) throws -> (
        positional: [String], options: [String: String]
    ) {
        var positional: [String] = []
        var options: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                guard allowed.contains(name), index + 1 < arguments.count else { throw UsageError(usage: usage) }
                options[name] = arguments[index + 1]
                index += 2
            } else {
                positional.append(argument)
                index += 1
            }
        }
        return (positional, options)
    }

    /// Appends `line` to `path` with one `O_APPEND` write: lines from several processes never interleave.
    static func append(_ line: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw RoleFailure("cannot open \(path): errno \(errno)") }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else {
            throw RoleFailure("cannot append to \(path): errno \(errno)")
        }
    }
}

/// A role could not do its job; the message says why.
struct RoleFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

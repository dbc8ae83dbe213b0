/// A Lua script run with `EVALSHA`, loaded on demand when the server does not know it yet.
///
/// ```swift
/// let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let value = try await client.eval(script, keys: ["counter"], arguments: ["2"])
/// ```
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The hex SHA-1 of the source, as `EVALSHA` and `SCRIPT LOAD` name it.
    public let sha1: String

    /// A script from its source. Computing the SHA-1 happens once, here.
    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}

extension RedisCommand {
    /// `EVALSHA sha numkeys keys… args…`; the client falls back to `EVAL` when the server answers
    /// `NOSCRIPT` (after a restart or `SCRIPT FLUSH`), in single commands and in pipelines alike.
    public static func evalsha(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", [RedisArgument(script.sha1), RedisArgument(keys.count)] + keys + arguments)
        command.script = script
        return command
    }

    /// `EVALSHA` of `script` with keys and arguments already in bytes (a thousand keys are built
    /// without an intermediate `RedisArgument` each).
    public static func evalsha(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) -> RedisCommand {
        var all: [[UInt8]] = []
        all.reserveCapacity(3 + keys.count + arguments.count)
        all.append(Array("EVALSHA".utf8))
        all.append(Array(script.sha1.utf8))
        all.append(Array(String(keys.count).utf8))
        all.append(contentsOf: keys)
        all.append(contentsOf: arguments)
        var command = RedisCommand(arguments: all)
        command.script = script
        return command
    }

    /// The same command as `EVAL` with the script's source: what a `NOSCRIPT` reply is retried with.
    var evalFallback: RedisCommand? {
        guard let script else { return nil }
        var arguments = self.arguments
        arguments[0] = Array("EVAL".utf8)
        arguments[1] = Array(script.source.utf8)
        return RedisCommand(arguments: arguments)
    }
}

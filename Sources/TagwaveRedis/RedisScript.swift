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

    /// `EVALSHA` of `script` with keys written by a ``RedisArgumentWriter`` and arguments in bytes
    /// (a thousand keys are built without an array each).
    public static func evalsha(_ script: RedisScript, keys: RedisArgumentWriter, arguments: [[UInt8]]) -> RedisCommand {
        var command = RedisCommand(arguments: [Array("EVALSHA".utf8), Array(script.sha1.utf8), Array(String(keys.count).utf8)])
        command.tail = keys
        for argument in arguments { command.tail.append(argument) }
        command.script = script
        return command
    }

    /// The same command as `EVAL` with the script's source: what a `NOSCRIPT` reply is retried with.
    var evalFallback: RedisCommand? {
        guard let script else { return nil }
        var fallback = self
        fallback.arguments[0] = Array("EVAL".utf8)
        fallback.arguments[1] = Array(script.source.utf8)
        fallback.script = nil
        return fallback
    }
}

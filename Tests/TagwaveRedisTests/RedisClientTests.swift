import Foundation
import Logging
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Redis client against a real redis-server")
struct RedisClientTests {
    @Test func everyReplyTypeRoundTrips() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            #expect(try await redis.send(RedisCommand("SET", "k", "v")) == .status("OK"))
            #expect(try await redis.send(RedisCommand("GET", "k")) == .bulk(Array("v".utf8)))
            #expect(try await redis.send(RedisCommand("INCRBY", "n", 41)) == .integer(41))
            #expect(try await redis.send(RedisCommand("GET", "missing")) == .null)
            try await redis.send(RedisCommand("RPUSH", "list", "a", "b"))
            #expect(try await redis.send(RedisCommand("LRANGE", "list", 0, -1)) == .array([.bulk([97]), .bulk([98])]))
            #expect(try await redis.send(RedisCommand("LRANGE", "none", 0, -1)) == .array([]))
            let replies = try await redis.pipeline([RedisCommand("SET", "k"), RedisCommand("PING")])
            #expect(replies[0].errorMessage?.hasPrefix("ERR wrong number of arguments") == true)
            #expect(replies[1] == .status("PONG"))
            await redis.shutdown()
        }
    }

    @Test func bulkStringsAreBinarySafeWithNulBytesAndOneMebibyte() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let withNul: [UInt8] = [0, 1, 0, 255, 0x0D, 0x0A, 0]
            try await redis.send(RedisCommand("SET", RedisArgument(withNul), RedisArgument(withNul)))
            #expect(try await redis.send(RedisCommand("GET", RedisArgument(withNul))) == .bulk(withNul))
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await redis.send(RedisCommand("SET", "big", RedisArgument(big)))
            #expect(try await redis.send(RedisCommand("GET", "big")).bytes == big)
            #expect(try await redis.send(RedisCommand("SET", "empty", "")) == .status("OK"))
            #expect(try await redis.send(RedisCommand("GET", "empty")) == .bulk([]))
            await redis.shutdown()
        }
    }

    @Test func tenThousandPipelinedCommandsReturnTenThousandRepliesInOrder() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let commands = (0..<10_000).map { _ in RedisCommand("INCR", "counter") }
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 10_000)
            #expect(replies == (1...10_000).map { .integer(Int64($0)) })
            await redis.shutdown()
        }
    }

    @Test func serverErrorsCarryTheServersOwnText() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.send(RedisCommand("SET", "s", "text"))
            let error = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("LPUSH", "s", "x")) }
            #expect(error?.code == .server)
            #expect(error?.serverMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(error?.description.contains("WRONGTYPE Operation against a key holding the wrong kind of value") == true)
            await redis.shutdown()
        }
    }

    @Test func scriptsRunByShaAndLoadThemselvesAfterScriptFlush() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let sha = try await redis.send(RedisCommand("SCRIPT", "LOAD", RedisArgument(script.source))).string
            #expect(sha == script.sha1)
            #expect(try await redis.eval(script, keys: ["n"], arguments: ["2"]) == .integer(2))
            try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await redis.eval(script, keys: ["n"], arguments: ["3"]) == .integer(5))
            try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
            let replies = try await redis.pipeline([
                .evalsha(script, keys: ["n"], arguments: ["1"]), RedisCommand("GET", "n"), .evalsha(script, keys: ["m"], arguments: ["1"]),
            ])
            #expect(replies[0] == .integer(6))
            #expect(replies[2] == .integer(1))
            await redis.shutdown()
        }
    }

    @Test func authenticatesAsAnACLUserAndRejectsAWrongPassword() async throws {
        let acl = ["--user", "worker", "on", ">s3cret", "~*", "&*", "+@all", "--user", "default", "off"]
        try await RedisServer.with(arguments: acl) { server in
            let redis = server.client(username: "worker", password: "s3cret")
            let whoami = try await redis.send(RedisCommand("ACL", "WHOAMI")).string
            #expect(whoami == "worker")
            await redis.shutdown()

            let wrong = server.client(username: "worker", password: "nope")
            let error = await #expect(throws: RedisError.self) { try await wrong.send(RedisCommand("PING")) }
            #expect(error?.code == .authenticationFailed)
            #expect(error?.description.contains("authentication failed for user 'worker'") == true)
            #expect(error?.description.contains("nope") == false)
            await wrong.shutdown()
        }
    }

    @Test func authenticatesWithAPasswordAloneAsTheSeedsRedisPasswordDoes() async throws {
        try await RedisServer.with(arguments: ["--requirepass", "s3cret"]) { server in
            let redis = server.client(password: "s3cret")
            let whoami = try await redis.send(RedisCommand("ACL", "WHOAMI")).string
            #expect(whoami == "default")
            await redis.shutdown()
            let wrong = server.client(password: "nope")
            let error = await #expect(throws: RedisError.self) { try await wrong.send(RedisCommand("PING")) }
            #expect(error?.code == .authenticationFailed)
            #expect(error?.description.contains("nope") == false)
            await wrong.shutdown()
        }
    }

    @Test func aServerThatStopsAnsweringTimesOutAndItsLateReplyIsNeverTakenForTheNextOne() async throws {
        try await RedisServer.with { server in
            var configuration = server.configuration()
            configuration.commandTimeout = .milliseconds(300)
            configuration.poolSize = 2
            let redis = RedisClient(configuration: configuration, logger: Logger(label: "test.redis"))
            #expect(try await redis.send(RedisCommand("PING")).string == "PONG")
            server.pause()
            let started = ContinuousClock.now
            let error = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("ECHO", "first")) }
            let waited = ContinuousClock.now - started
            server.resume()
            #expect(error?.code == .timeout, "\(String(describing: error))")
            #expect(waited < .seconds(5), "a 300 ms command timeout took \(waited)")
            // The frozen server answers "first" late; no later command may take it for its own reply.
            let deadline = ContinuousClock.now + .seconds(20)
            var answered: String?
            while answered == nil, ContinuousClock.now < deadline {
                answered = try? await redis.send(RedisCommand("ECHO", "second")).string
                if answered == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(answered == "second")
            for round in 0..<10 {
                let echoed = try await redis.send(RedisCommand("ECHO", RedisArgument("r\(round)"))).string
                #expect(echoed == "r\(round)")
            }
            await redis.shutdown()
        }
    }

    @Test func selectsTheDatabaseOfTheURL() async throws {
        try await RedisServer.with { server in
            let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/3"), logger: Logger(label: "t"))
            try await redis.send(RedisCommand("SET", "where", "db3"))
            let db0 = server.client()
            #expect(try await db0.send(RedisCommand("GET", "where")) == .null)
            #expect(try await db0.pipeline([RedisCommand("SELECT", 3), RedisCommand("GET", "where")])[1] == .bulk(Array("db3".utf8)))
            await redis.shutdown()
            await db0.shutdown()
        }
    }

    @Test func reconnectsAfterTheServerIsKilledAndRestartedOnTheSamePort() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.send(RedisCommand("SET", "before", "1"))
            server.kill()
            let down = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("PING")) }
            #expect(down?.isConnectionProblem == true)
            try await server.restart()
            try await Task.sleep(for: .milliseconds(300))  // past the capped backoff of the test configuration
            #expect(try await redis.send(RedisCommand("PING")) == .status("PONG"))
            await redis.shutdown()
        }
    }

    @Test func anIdleConnectionSurvivesAServerRestartWithoutAFailedCommand() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.send(RedisCommand("PING"))
            try await server.restart()
            try await Task.sleep(for: .milliseconds(1100))  // idle long enough to be checked before use
            #expect(try await redis.send(RedisCommand("PING")) == .status("PONG"))
            await redis.shutdown()
        }
    }

    @Test func aRefusedConnectionSaysWhatToDo() async throws {
        let closed = try ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
        let port = closed.port
        let configuration = RedisConfiguration(host: "127.0.0.1", port: port, initialReconnectDelay: .seconds(5))
        let redis = RedisClient(configuration: configuration, logger: Logger(label: "t"))
        let error = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("PING")) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description == "cannot connect to 127.0.0.1:\(port): connection refused — is redis-server running? set REDIS_URL (redis://host:port/db) or REDIS_HOST/REDIS_PORT")
        let again = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("PING")) }
        #expect(again?.code == .unavailable)  // backing off: not another connect, not another log line
        #expect(again?.description.contains("connection refused") == true)
        await redis.shutdown()
    }

    @Test func aBlockingReadDoesNotHoldUpOtherCommands() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await redis.xgroupCreate("s", group: "g")
            let blocked = Task { try await redis.xreadgroup(group: "g", consumer: "c", stream: "s", count: 10, block: .seconds(30)) }
            for _ in 0..<20 { try await redis.send(RedisCommand("PING")) }
            // Twenty commands went through while the read is still blocked on its own connection…
            let clients = try await redis.send(RedisCommand("CLIENT", "LIST")).string ?? ""
            #expect(clients.contains("cmd=xreadgroup"))
            // …which an entry then wakes.
            try await redis.xadd("s", fields: [StreamField("type", "wake")])
            #expect(try await blocked.value.count == 1)
            await redis.shutdown()
        }
    }
}

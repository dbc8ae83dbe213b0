import Foundation
import TagwaveEvents
import TagwavePublisher
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("The durable spool, through real Redis outages")
struct SpoolTests {
    @Test func eventsPublishedWhileRedisIsDownAreSpooledAndDrainedInOrderWhenItReturns() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                let publisher = try makePublisher(redis, spoolIn: directory)
                #expect(try await publisher.publish(numbered(0)).streamID != nil)

                server.kill()
                var receipts = [try await publisher.publish(numbered(1))]
                receipts += try await publisher.publish([numbered(2), numbered(3), numbered(4)])
                receipts.append(
                    try await publisher.publish(
                        Event(
                            type: "user.updated", payload: Array(#"{"n":5,"name":"Zoë \u0000"}"#.utf8), source: "api",
                            metadata: [(name: "tenant", value: "north")])))

                #expect(receipts.allSatisfy { $0.spoolSequence != nil })
                #expect(receipts.map { $0.spoolSequence! } == receipts.map { $0.spoolSequence! }.sorted())
                #expect(try await publisher.spooledCount() == 5)

                try await server.restart()  // its data is gone (no persistence): only the spool's events come back
                try await waitForReconnect(redis)
                #expect(try await publisher.drain() == 5)

                let delivered = try await events(in: redis)
                #expect(try numbers(delivered) == [1, 2, 3, 4, 5])
                #expect(delivered.map(\.id) == receipts.map(\.eventID))
                #expect(delivered[4].source == "api")
                #expect(delivered[4].metadata.first?.value == "north")
                #expect(delivered[4].payload == Array(#"{"n":5,"name":"Zoë \u0000"}"#.utf8))
                #expect(try await publisher.spooledCount() == 0)
                #expect(try await publisher.drain() == 0)
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func eventsPublishedWhileTheSpoolIsNonEmptyQueueBehindItEvenWithRedisBack() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                let publisher = try makePublisher(redis, spoolIn: directory)
                server.kill()
                #expect(try await publisher.publish(numbered(0)).spoolSequence != nil)
                try await server.restart()
                try await waitForReconnect(redis)

                let behind = try await publisher.publish([numbered(1), numbered(2)])

                #expect(behind.allSatisfy { $0.spoolSequence != nil })
                #expect(try await entries(in: redis).isEmpty)
                #expect(try await publisher.drain() == 3)
                #expect(try await publisher.publish(numbered(3)).streamID != nil)
                #expect(try numbers(try await events(in: redis)) == [0, 1, 2, 3])
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func theSpoolSurvivesThePublisherAndTheNextOneDeliversItFirst() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                server.kill()
                let first = try makePublisher(redis, spoolIn: directory)
                _ = try await first.publish([numbered(0), numbered(1)])
                await first.shutdown()
                try await server.restart()
                try await waitForReconnect(redis)

                let second = try makePublisher(redis, spoolIn: directory)
                #expect(try await second.spooledCount() == 2)
                #expect(try await second.publish(numbered(2)).spoolSequence == 3)
                #expect(try await second.drain() == 3)

                #expect(try numbers(try await events(in: redis)) == [0, 1, 2])
                await second.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func runDeliversSpooledEventsOnItsOwnWhenRedisReturnsAndStopsWhenCancelled() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                let publisher = try makePublisher(redis, spoolIn: directory, drainInterval: .milliseconds(50))
                let running = Task { await publisher.run() }
                server.kill()
                _ = try await publisher.publish((0..<10).map { numbered($0) })
                try await Task.sleep(for: .milliseconds(200))  // a few failed drains while Redis is down
                #expect(try await publisher.spooledCount() == 10)

                try await server.restart()
                let deadline = ContinuousClock.now + .seconds(10)
                while try await publisher.spooledCount() > 0 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }

                #expect(try await publisher.spooledCount() == 0)
                #expect(try numbers(try await events(in: redis)) == Array(0..<10))
                running.cancel()
                await running.value
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func withoutASpoolARedisOutageThrowsRedisUnavailablePromptly() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)
            _ = try await publisher.publish(numbered(0))
            server.kill()

            for _ in 0..<3 {
                let started = ContinuousClock.now
                let error = await #expect(throws: PublisherError.self) { try await publisher.publish(numbered(1)) }
                let elapsed = ContinuousClock.now - started
                #expect(error?.code == .redisUnavailable)
                #expect(error?.description.contains("spool") == true)
                #expect(error?.underlying is RedisError)
                #expect(elapsed < redis.configuration.commandTimeout)
            }
            #expect(try await publisher.spooledCount() == 0)
            #expect(try await publisher.drain() == 0)
            await redis.shutdown()
        }
    }

    @Test func writesRedisRefusesForLackOfMemoryAreSpooledAndDeliveredWhenItHasRoom() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                let publisher = try makePublisher(redis, spoolIn: directory)
                try await redis.send(RedisCommand("CONFIG", "SET", "maxmemory", "1"))

                let receipt = try await publisher.publish(numbered(0))

                #expect(receipt.spoolSequence != nil)
                let refused = await #expect(throws: PublisherError.self) { try await publisher.drain() }
                #expect(refused?.code == .redisUnavailable)
                #expect(refused?.description.contains("OOM") == true)
                try await redis.send(RedisCommand("CONFIG", "SET", "maxmemory", "0"))
                #expect(try await publisher.drain() == 1)
                #expect(try numbers(try await events(in: redis)) == [0])
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func aSpooledEventRedisRefusesForGoodStaysSpooledAndHoldsNothingElseBack() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                let spoolPath = directory.appendingPathComponent("publisher-spool.sqlite").path
                server.kill()
                let earlier = try Publisher(
                    redis: redis, configuration: PublisherConfiguration(stream: "old-events", spoolPath: spoolPath),
                    logger: quietLogger)
                _ = try await earlier.publish(numbered(0))
                await earlier.shutdown()
                try await server.restart()
                try await waitForReconnect(redis)
                try await redis.send(RedisCommand("SET", "old-events", "not a stream"))

                let publisher = try makePublisher(redis, spoolIn: directory)
                #expect(try await publisher.publish(numbered(1)).spoolSequence == 2)
                let error = await #expect(throws: PublisherError.self) { try await publisher.drain() }

                #expect(error?.code == .redisRefused)
                #expect(error?.description.contains("WRONGTYPE") == true)
                #expect(error?.description.contains("seq 1") == true)
                #expect(try numbers(try await events(in: redis)) == [1])
                #expect(try await publisher.spooledCount() == 1)
                try await redis.send(RedisCommand("DEL", "old-events"))
                #expect(try await publisher.drain() == 1)
                #expect(try numbers(try await events(in: redis, stream: "old-events")) == [0])
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }

    @Test func aSecondPublisherOnTheSameSpoolFileIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let closed = try ClosedPort()
            defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
            let redis = RedisClient(configuration: RedisConfiguration(port: closed.port), logger: quietLogger)
            let first = try makePublisher(redis, spoolIn: directory)
            #expect(try await first.spooledCount() == 0)

            let second = try makePublisher(redis, spoolIn: directory)
            let error = await #expect(throws: PublisherError.self) { try await second.spooledCount() }

            #expect(error?.code == .spool)
            #expect(error?.spoolPath == directory.appendingPathComponent("publisher-spool.sqlite").path)
            #expect(error?.description.contains("give each publishing process its own spool file") == true)
            await second.shutdown()
            await first.shutdown()
            await redis.shutdown()
        }
    }

    @Test func aSpoolInAMissingDirectoryOrOnAnotherDatabaseIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let closed = try ClosedPort()
            defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
            let redis = RedisClient(configuration: RedisConfiguration(port: closed.port), logger: quietLogger)
            let missing = directory.appendingPathComponent("nowhere/publisher-spool.sqlite").path
            let error = #expect(throws: PublisherError.self) {
                try Publisher(
                    redis: redis, configuration: PublisherConfiguration(spoolPath: missing), logger: quietLogger)
            }
            #expect(error?.code == .spool)
            #expect(error?.description.contains("mkdir -p") == true)

            let other = directory.appendingPathComponent("publisher-spool.sqlite").path
            try Data("not a database, just text that is long enough to be a header of one".utf8)
                .write(to: URL(fileURLWithPath: other))
            let publisher = try makePublisher(redis, spoolIn: directory)
            let notSQLite = await #expect(throws: PublisherError.self) { try await publisher.spooledCount() }
            #expect(notSQLite?.code == .spool)
            #expect(notSQLite?.description.contains(other) == true)
            await publisher.shutdown()
            await redis.shutdown()
        }
    }
}

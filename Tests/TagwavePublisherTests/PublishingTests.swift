import Foundation
import TagwaveEvents
import TagwavePublisher
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Publishing to a real redis-server")
struct PublishingTests {
    @Test func aPublishedEventIsOneStreamEntryWithTheEnvelopeFieldsInOrder() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)
            let event = Event(
                type: "session.created",
                payload: .object([("teacherId", .string("t1")), ("schoolId", .string("s1"))]),
                id: "evt-1",
                occurredAt: EventTime(millisecondsSinceEpoch: 1_714_564_800_250),
                source: "api",
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                metadata: [(name: "tenant", value: "north")])

            let receipt = try await publisher.publish(event)

            let stored = try await entries(in: redis)
            #expect(stored.count == 1)
            #expect(receipt == PublishReceipt(eventID: "evt-1", outcome: .delivered(stored[0].id)))
            let names = (stored[0].fields ?? []).map { String(decoding: $0.name, as: UTF8.self) }
            #expect(names == ["type", "payload", "id", "occurred_at", "source", "traceparent", "tenant"])
            #expect(stored[0].value("occurred_at") == Array("2024-05-01T12:00:00.250Z".utf8))
            #expect(try await events(in: redis) == [event])
            await redis.shutdown()
        }
    }

    @Test func aBatchIsOneRoundTripAndReachesTheStreamInOrder() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)
            let before = redis.roundTrips

            let receipts = try await publisher.publish((0..<50).map { numbered($0) })

            #expect(redis.roundTrips == before + 1)
            let stored = try await entries(in: redis)
            #expect(receipts.map(\.streamID) == stored.map(\.id))
            #expect(try numbers(try await events(in: redis)) == Array(0..<50))
            #expect(try await events(in: redis).map(\.id) == receipts.map(\.eventID))
            #expect(try await publisher.publish([]).isEmpty)
            await redis.shutdown()
        }
    }

    @Test func anEventWhosePayloadIsNotAnObjectIsRefusedBeforeSendingWithTheFieldNamed() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)
            let before = redis.roundTrips

            let error = await #expect(throws: PublisherError.self) {
                try await publisher.publish(Event(type: "session.created", payload: Array("[1,2]".utf8)))
            }

            #expect(error?.code == .invalidEvent)
            #expect(error?.field == "payload")
            #expect(error?.description.contains("field `payload` is not a JSON object (it is an array)") == true)
            #expect(error?.description.contains("was not published") == true)
            #expect(redis.roundTrips == before)
            await redis.shutdown()
        }
    }

    @Test func anEventWithoutATypeIsRefusedBeforeSendingWithTheFieldNamed() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)

            let error = await #expect(throws: PublisherError.self) {
                try await publisher.publish(Event(type: "", payload: .object([])))
            }

            #expect(error?.code == .invalidEvent)
            #expect(error?.field == "type")
            #expect(error?.description.contains("field `type`") == true)
            #expect((error?.underlying as? EventDecodingError)?.code == "invalid_type")
            await redis.shutdown()
        }
    }

    @Test func oneInvalidEventInABatchRefusesTheWholeBatchAndSaysWhichOne() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)
            let batch = [numbered(0), Event(type: "session.created", payload: Array("{\"n\":".utf8)), numbered(2)]

            let error = await #expect(throws: PublisherError.self) { try await publisher.publish(batch) }

            #expect(error?.code == .invalidEvent)
            #expect(error?.field == "payload")
            #expect(error?.eventIndex == 1)
            #expect(error?.description.contains("event 1 (0-based) of the batch of 3") == true)
            #expect(error?.description.contains("nothing of the batch was published") == true)
            #expect(try await entries(in: redis).isEmpty)
            await redis.shutdown()
        }
    }

    @Test func aPayloadOverTheLimitIsRefusedBeforeSending() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try Publisher(
                redis: redis, configuration: PublisherConfiguration(maxPayloadBytes: 16), logger: quietLogger)

            let error = await #expect(throws: PublisherError.self) {
                try await publisher.publish(
                    Event(type: "a.b", payload: .object([("text", .string(String(repeating: "x", count: 32)))])))
            }

            #expect(error?.code == .invalidEvent)
            #expect(error?.field == "payload")
            #expect(error?.description.contains("over the limit of 16") == true)
            await redis.shutdown()
        }
    }

    @Test func generatedIDsAreTimeOrderedUniqueUUIDv7Text() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let ids = (0..<20_000).map { _ in Publisher.makeEventID() }
        let after = UInt64(Date().timeIntervalSince1970 * 1000) + 1

        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let shape = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        #expect(ids.allSatisfy { $0.wholeMatch(of: shape) != nil })
        for id in [ids.first!, ids.last!] {
            let hex = id.replacingOccurrences(of: "-", with: "").prefix(12)
            let milliseconds = try #require(UInt64(hex, radix: 16))
            #expect(milliseconds >= before && milliseconds <= after + 20_000)
        }
    }

    @Test func anEventWithoutAnIDGetsAGeneratedOneAndAnEventWithAnIDKeepsIt() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let publisher = try makePublisher(redis, spoolIn: nil)

            let receipts = try await publisher.publish([
                numbered(0), numbered(1), Event(type: "a.b", payload: .object([]), id: "mine"),
            ])

            let stored = try await events(in: redis)
            #expect(stored.map(\.id) == receipts.map(\.eventID))
            #expect(receipts[2].eventID == "mine")
            #expect(receipts[0].eventID < receipts[1].eventID)
            #expect(receipts[0].eventID.count == 36)
            await redis.shutdown()
        }
    }

    @Test func approximateMaxLengthIsRefusedWithoutTheExplicitOptIn() async throws {
        try await RedisServer.with(arguments: ["--stream-node-max-entries", "10"]) { server in
            let redis = server.client()
            let error = #expect(throws: PublisherError.self) {
                try Publisher(
                    redis: redis, configuration: PublisherConfiguration(trim: .approximateMaxLength(20)),
                    logger: quietLogger)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.description.contains("allowDroppingUnprocessed: true") == true)
            #expect(error?.description.contains("XTRIM MINID") == true)

            // With the opt-in, the cap applies: about 20 entries of 100 remain (whole nodes of 10).
            let trimming = try Publisher(
                redis: redis,
                configuration: PublisherConfiguration(trim: .approximateMaxLength(20, allowDroppingUnprocessed: true)),
                logger: quietLogger)
            for n in 0..<100 { _ = try await trimming.publish(numbered(n)) }
            let length = try await redis.send(RedisCommand("XLEN", "events")).int ?? 0
            #expect(length >= 20 && length < 40)
            await redis.shutdown()
        }
    }

    @Test func anUnusableConfigurationIsRefusedAtInit() async throws {
        let closed = try ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
        let redis = RedisClient(configuration: RedisConfiguration(port: closed.port), logger: quietLogger)
        for configuration in [
            PublisherConfiguration(stream: ""),
            PublisherConfiguration(trim: .approximateMaxLength(0, allowDroppingUnprocessed: true)),
            PublisherConfiguration(drainInterval: .zero), PublisherConfiguration(drainBatchSize: 0),
        ] {
            let error = #expect(throws: PublisherError.self) {
                try Publisher(redis: redis, configuration: configuration, logger: quietLogger)
            }
            #expect(error?.code == .invalidConfiguration)
        }
        await redis.shutdown()
    }

    @Test func aWriteRedisRefusesForGoodIsReportedAndNotSpooled() async throws {
        try await withTemporaryDirectory { directory in
            try await RedisServer.with { server in
                let redis = server.client()
                try await redis.send(RedisCommand("SET", "events", "not a stream"))
                let publisher = try makePublisher(redis, spoolIn: directory)

                let error = await #expect(throws: PublisherError.self) { try await publisher.publish(numbered(0)) }

                #expect(error?.code == .redisRefused)
                #expect(error?.description.contains("WRONGTYPE") == true)
                #expect(try await publisher.spooledCount() == 0)
                await publisher.shutdown()
                await redis.shutdown()
            }
        }
    }
}

@Suite("Publishing to a real Redis Cluster")
struct ClusterPublishingTests {
    @Test func aBatchReachesAHashTaggedStreamOnItsNodeInOrder() async throws {
        try await RedisCluster.with { cluster in try await cluster.withClient { client in
            let publisher = try Publisher(
                redis: client, configuration: PublisherConfiguration(stream: "events:{0}"), logger: quietLogger)
            let events = (0..<20).map { Event(type: "session.created", payload: .object([("teacherId", .string("t\($0)"))]), id: "evt-\($0)") }
            let receipts = try await publisher.publish(events)
            #expect(receipts.map(\.eventID) == events.map { $0.id ?? "" })
            let stored = try await client.send(RedisCommand("XRANGE", "events:{0}", "-", "+")).array ?? []
            #expect(stored.count == 20)
            // All on the node of the stream's slot, which may not be the seed's.
            let owner = try await cluster.nodeIndex(servingSlot: ClusterSlot.of("events:{0}"))
            #expect(try await cluster.withNode(owner) { try await $0.send(RedisCommand("XLEN", "events:{0}")).int } == 20)
            await publisher.shutdown()
        } }
    }
}

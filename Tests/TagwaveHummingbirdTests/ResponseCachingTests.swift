import Foundation
import HTTPTypes
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// The middleware's paths over real HTTP, against the running example service and a real Redis.
@Suite("Response caching against the example service")
struct ResponseCachingTests {
    @Test func missThenHitThenNotModifiedThenInvalidatedByAWrite() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url, ["--invalidate-on-write"])
            defer { service.stop() }

            let first = try await service.get("/sessions?teacher=t1")
            #expect(first.status == .ok)
            #expect(first.cache == "MISS")
            #expect(first.json?["success"] == .bool(true))
            let etag = try #require(first.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""), "a strong ETag: \(etag)")
            #expect(first.headers[.cacheControl] == "no-cache")
            #expect(try await service.databaseReads() == 1)

            let second = try await service.get("/sessions?teacher=t1")
            #expect(second.status == .ok)
            #expect(second.cache == "HIT")
            #expect(second.body == first.body)
            #expect(second.headers[.eTag] == etag)
            #expect(second.headers[.age] != nil)
            #expect(second.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try await service.databaseReads() == 1, "a hit does not read the database")

            let revalidated = try await service.get("/sessions?teacher=t1", headers: [.ifNoneMatch: etag])
            #expect(revalidated.status == .notModified)
            #expect(revalidated.body.isEmpty)
            #expect(revalidated.headers[.eTag] == etag)
            let otherTag = try await service.get("/sessions?teacher=t1", headers: [.ifNoneMatch: #""0-0", W/\#(etag)"#])
            #expect(otherTag.status == .notModified, "a weak match in a list revalidates")
            #expect(try await service.get("/sessions?teacher=t1", headers: [.ifNoneMatch: #""stale""#]).status == .ok)

            // A write: the row, the event, and (directly, in this service) the teacher's tag.
            let created = try await service.request(
                .post, "/sessions", body: #"{"teacherId":"t1","schoolId":"s9","title":"Algebra"}"#)
            #expect(created.status == .created)
            let eventID = try #require(created.headers[HTTPField.Name("Tagwave-Event")!])
            let sessionID = try #require(created.json?["data"]?["id"]?.stringValue)
            let redis = server.client(logger: quietLogger())
            let entries = try await redis.send(RedisCommand("XRANGE", "events", "-", "+"))
            await redis.shutdown()
            let entry = try #require(entries.array?.first?.array?.last?.array)
            let fields = entry.compactMap { $0.string }
            #expect(fields.contains("session.created"))
            #expect(fields.contains(eventID))
            let payload = try #require(fields.first { $0.hasPrefix("{") })
            #expect(try JSONValue.parse(payload)["teacherId"] == .string("t1"))
            #expect(try JSONValue.parse(payload)["sessionId"] == .string(sessionID))

            let afterWrite = try await service.get("/sessions?teacher=t1", headers: [.ifNoneMatch: etag])
            #expect(afterWrite.status == .ok, "the old ETag no longer matches")
            #expect(afterWrite.cache == "MISS")
            #expect(afterWrite.body.contains(sessionID))
            #expect(afterWrite.headers[.eTag] != etag)
            #expect(try await service.get("/sessions?teacher=t1").cache == "HIT")
        }
    }

    @Test func aWorkersInvalidationOfTheTagMakesTheNextRequestMiss() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url)
            defer { service.stop() }
            #expect(try await service.get("/sessions?teacher=t7").cache == "MISS")
            #expect(try await service.get("/sessions?teacher=t8").cache == "MISS")
            #expect(try await service.get("/sessions?teacher=t7").cache == "HIT")

            // The controller holds no invalidation code: the write only publishes its event.
            let created = try await service.request(.post, "/sessions", body: #"{"teacherId":"t7","title":"Biology"}"#)
            #expect(created.status == .created)
            #expect(try await service.get("/sessions?teacher=t7").cache == "HIT", "until a worker handles the event")

            // What a worker does for `session.created` with teacherId t7: the cache protocol's invalidation.
            let redis = server.client(logger: quietLogger())
            let cache = TaggedCache(redis: redis, logger: quietLogger())
            let result = try await cache.invalidate(tag: "teacher:t7")
            #expect(result.entries == 1)
            await redis.shutdown()

            let refreshed = try await service.get("/sessions?teacher=t7")
            #expect(refreshed.cache == "MISS")
            #expect(refreshed.body.contains("Biology"))
            #expect(
                try await service.get("/sessions?teacher=t8").cache == "HIT", "another teacher's entry is untouched")
            #expect(try await service.databaseReads() == 3)
        }
    }

    @Test func queryOrderSharesAnEntryAndOnlySuccessfulGetsAreStored() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url)
            defer { service.stop() }
            #expect(try await service.get("/sessions?teacher=t2&page=1").cache == "MISS")
            #expect(try await service.get("/sessions?page=1&teacher=t2").cache == "HIT")

            let invalid = try await service.get("/sessions?teacher=")
            #expect(invalid.status == .badRequest)
            #expect(invalid.cache == nil)
            #expect(try await service.get("/sessions?teacher=").status == .badRequest)
            #expect(try await service.databaseReads() == 1, "errors are not cached and read nothing")

            let refused = try await service.request(.post, "/sessions", body: #"{"teacherId":"","title":""}"#)
            #expect(refused.status == .badRequest)
            #expect(refused.headers[HTTPField.Name("Tagwave-Event")!] == nil, "a failed write publishes nothing")
            let redis = server.client(logger: quietLogger())
            #expect(try await redis.send(RedisCommand("XLEN", "events")).int == 0)
            await redis.shutdown()
        }
    }

    @Test func theServicesCacheHealthJudgesItsOwnReads() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url)
            defer { service.stop() }
            _ = try await service.get("/sessions?teacher=t1")
            _ = try await service.get("/sessions?teacher=t1")
            let health = try await service.get("/health/cache")
            let json = try #require(health.json)
            #expect(health.status == .ok, "\(health.body)")
            #expect(json["cache"]?["hitRateSource"] == .string("cache"), "the service's own counters: \(health.body)")
            #expect(json["cache"]?["hits"] == .number("1") && json["cache"]?["misses"] == .number("1"), "\(health.body)")
            #expect(json["redis"]?["connected"] == .bool(true))
            if case .number? = json["cache"]?["avgResponseTime"] {} else { Issue.record("no avgResponseTime: \(health.body)") }
        }
    }

    @Test func redisDownAnswersUncached() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url)
            defer { service.stop() }
            #expect(try await service.get("/sessions?teacher=t3").cache == "MISS")
            server.kill()
            let reply = try await service.get("/sessions?teacher=t3")
            #expect(reply.status == .ok)
            #expect(reply.cache == "BYPASS")
            #expect(reply.json?["success"] == .bool(true))
        }
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TagwaveCache
import TagwaveHummingbird
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// The middleware's concurrency and header rules, on an in-process Hummingbird app served over a
/// real socket (`.live`) with a real Redis.
@Suite("Response cache middleware over a live socket")
struct MiddlewareSemanticsTests {
    final class Calls: Sendable {
        let count = Atomic<Int>(0)
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
        var value: Int { count.load(ordering: .relaxed) }
    }

    func withApp(
        policy: ResponseCachePolicy<BasicRequestContext> = .init(),
        route: @escaping @Sendable (Request, Int) async throws -> Response,
        test: @escaping @Sendable (any TestClientProtocol, Calls) async throws -> Void
    ) async throws {
        try await RedisServer.with { server in
            let redis = server.client(logger: quietLogger())
            let cache = TaggedCache(redis: redis, logger: quietLogger())
            let calls = Calls()
            let router = Router()
            router.add(middleware: ResponseCacheMiddleware(cache: cache, policy: policy))
            router.get("item") { request, _ in try await route(request, calls.next()) }
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger())
            try await app.test(.live) { client in try await test(client, calls) }
            await redis.shutdown()
        }
    }

    static func text(_ body: String, headers: HTTPFields = [:]) -> Response {
        Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A request on a connection of its own.
    static func get(port: Int, _ path: String) async throws -> (
        status: HTTPResponse.Status, cache: String?, body: String
    ) {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            let response = try await client.get(path)
            return (
                response.head.status, response.head.headerFields[HTTPField.Name("X-Cache")!],
                response.body.map { String(buffer: $0) } ?? ""
            )
        }
    }

    @Test func requestsTheCacheMayAnswerAreCountedAsDemandButNotTheWarmersOwn() async throws {
        try await RedisServer.with { server in
            let redis = server.client(logger: quietLogger())
            let cache = TaggedCache(redis: redis, logger: quietLogger())
            var configuration = DemandConfiguration()
            configuration.flushInterval = .seconds(3600)  // flushed below
            let demand = DemandRecorder(redis: redis, configuration: configuration, logger: quietLogger())
            var policy = ResponseCachePolicy<BasicRequestContext>()
            policy.tags = { request, _ in ["item:\(request.uri.queryParameters["id"] ?? "-")"] }
            let router = Router()
            router.add(middleware: ResponseCacheMiddleware(cache: cache, policy: policy, demand: demand))
            router.get("item") { _, _ in Self.text("item") }
            router.post("item") { _, _ in Self.text("posted") }
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger())
            try await app.test(.live) { client in
                for _ in 0..<2 { _ = try await client.execute(uri: "/item?id=1", method: .get, headers: [:], body: nil) }
                _ = try await client.execute(uri: "/item?id=2", method: .head, headers: [:], body: nil)
                for _ in 0..<3 {
                    _ = try await client.execute(
                        uri: "/item?id=1", method: .get, headers: [.userAgent: "tagwave-warmer/1"], body: nil)
                }
                _ = try await client.execute(uri: "/item?id=1", method: .post, headers: [:], body: nil)
            }
            await demand.flush()
            #expect(demand.recorded == 3, "two GETs and a HEAD; not the warmer's GETs nor the POST")
            let forecast = try await DemandForecaster(redis: redis).forecast(tags: ["item:1", "item:2"], minimumPerMinute: 1e-9, limit: 5)
            #expect(forecast.map { $0.map(\.target) } == [["/item?id=1"], ["/item?id=2"]])
            let expected = 2 / (600 / 0.693_147_180_559_945_3) * 60
            #expect(abs((forecast[0].first?.perMinute ?? 0) - expected) / expected < 0.01)
            await redis.shutdown()
        }
    }

    @Test func aCustomKeyAndConditionDecideWhatIsSharedAndWhatIsNotCached() async throws {
        // The seed's cacheResponse({ key: (req) => `custom:${req.user.id}:…`, condition: … }).
        var policy = ResponseCachePolicy<BasicRequestContext>()
        policy.key = { request, _ in "custom:\(request.headers[HTTPField.Name("X-User")!] ?? "anonymous")" }
        policy.condition = { request, _ in request.method == .get && request.uri.queryParameters["fresh"] == nil }
        try await withApp(
            policy: policy,
            route: { _, call in Self.text("answer \(call)") },
            test: { client, calls in
                func expect(_ path: String, user: String, _ cache: String?, _ body: String) async throws {
                    let response = try await client.execute(
                        uri: path, method: .get, headers: [HTTPField.Name("X-User")!: user], body: nil)
                    let answer = (response.headers[HTTPField.Name("X-Cache")!], String(buffer: response.body))
                    #expect(answer.0 == cache && answer.1 == body, "\(path) as \(user): \(answer)")
                }
                try await expect("/item?id=1", user: "u1", "MISS", "answer 1")
                // One key per user, whatever the path: u1's answer is shared by its own requests only.
                try await expect("/item?id=2", user: "u1", "HIT", "answer 1")
                try await expect("/item?id=1", user: "u2", "MISS", "answer 2")
                // The condition refuses: the route runs, nothing is read or stored.
                try await expect("/item?id=1&fresh=1", user: "u1", nil, "answer 3")
                try await expect("/item?id=1", user: "u1", "HIT", "answer 1")
                #expect(calls.value == 3)
            })
    }

    @Test func concurrentMissesRunTheRouteOnce() async throws {
        try await withApp(
            route: { _, call in
                try await Task.sleep(for: .milliseconds(200))
                return Self.text("computed \(call)")
            },
            test: { client, calls in
                let port = try #require(client.port)
                let replies = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?, String).self) {
                    group in
                    for _ in 0..<8 { group.addTask { try await Self.get(port: port, "/item?id=1") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(calls.value == 1, "one computation for eight concurrent requests")
                #expect(replies.allSatisfy { $0.0 == .ok && $0.2 == "computed 1" })
                #expect(replies.filter { $0.1 == "MISS" }.count == 1)
            })
    }

    @Test func answersThatAreNotStoredAreNeverSharedBetweenConcurrentRequests() async throws {
        try await withApp(
            route: { _, call in
                try await Task.sleep(for: .milliseconds(200))
                return Self.text("private \(call)", headers: [.setCookie: "session=\(call)"])
            },
            test: { client, calls in
                let port = try #require(client.port)
                let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<5 { group.addTask { try await Self.get(port: port, "/item?id=2").body } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(calls.value == 5, "each request ran the route itself")
                #expect(Set(bodies).count == 5, "no request got another's answer: \(bodies)")
            })
    }

    @Test func staleWhileRevalidateAnswersTheStaleCopyWhileOneRequestRefreshes() async throws {
        var policy = ResponseCachePolicy<BasicRequestContext>()
        policy.ttl = { _, _ in .duration(.seconds(15)) }
        policy.staleWhileRevalidate = .seconds(30)
        policy.clientCaching = .maxAge(.seconds(0), staleWhileRevalidate: .seconds(30))
        /// 1 while the refresh runs, 2 once it has finished.
        let refresh = Atomic<Int>(0)
        /// Set by the test once the stale answer arrived: the refresh waits for it (10 s at most).
        let release = Atomic<Bool>(false)
        try await withApp(
            policy: policy,
            route: { _, call in
                if call == 2 {
                    refresh.store(1, ordering: .relaxed)
                    let deadline = ContinuousClock.now + .seconds(10)
                    while !release.load(ordering: .relaxed) && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    refresh.store(2, ordering: .relaxed)
                }
                return Self.text("version \(call)")
            },
            test: { client, calls in
                let port = try #require(client.port)
                // Entries live per period of the TTL, 15 s: a fresh-clone CI run once took more than
                // 4.7 s over the first request of a 5 s period. The first request starts early in a
                // period, with the app already up, so its entry is stored in that period however long
                // the request takes.
                while Self.millisecondsSince1970() % 15_000 > 300 { try await Task.sleep(for: .milliseconds(20)) }
                let firstPeriod = Self.millisecondsSince1970() / 15_000
                let first = try await client.execute(uri: "/item", method: .get, headers: [:], body: nil)
                #expect(String(buffer: first.body) == "version 1")
                #expect(first.headers[.cacheControl] == "private, max-age=0, stale-while-revalidate=30")
                // Into the next period: past its freshness, within the stale window.
                let nextPeriodStart = (firstPeriod + 1) * 15_000 + 50
                try #require(Self.millisecondsSince1970() < nextPeriodStart, "the first request took over 14.7 s")
                try await Task.sleep(for: .milliseconds(nextPeriodStart - Self.millisecondsSince1970()))

                async let refreshing = Self.get(port: port, "/item")
                while refresh.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                let stale = try await Self.get(port: port, "/item")
                #expect(
                    refresh.load(ordering: .relaxed) == 1, "the stale copy is answered while the refresh still runs")
                release.store(true, ordering: .relaxed)
                #expect(stale.cache == "STALE")
                #expect(stale.body == "version 1")
                let refreshed = try await refreshing
                #expect(refreshed.body == "version 2")
                #expect(refreshed.cache == "MISS")
                let after = try await Self.get(port: port, "/item")
                #expect(after.cache == "HIT")
                #expect(after.body == "version 2")
                #expect(calls.value == 2)
            })
    }

    static func millisecondsSince1970() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test func responsesThatSetCookiesOrForbidStoringAreNeverStored() async throws {
        try await withApp(
            route: { request, call in
                switch request.uri.queryParameters["kind"] {
                case "cookie": return Self.text("c\(call)", headers: [.setCookie: "session=abc"])
                case "nostore": return Self.text("n\(call)", headers: [.cacheControl: "no-store"])
                default: return Self.text("p\(call)")
                }
            },
            test: { client, calls in
                for kind in ["cookie", "nostore"] {
                    for _ in 0..<2 {
                        let reply = try await client.execute(
                            uri: "/item?kind=\(kind)", method: .get, headers: [:], body: nil)
                        #expect(reply.status == .ok)
                    }
                }
                #expect(calls.value == 4, "nothing was answered from the cache")
                let head = try await client.execute(uri: "/item?kind=plain", method: .get, headers: [:], body: nil)
                #expect(head.headers[HTTPField.Name("X-Cache")!] == "MISS")
                let again = try await client.execute(uri: "/item?kind=plain", method: .get, headers: [:], body: nil)
                #expect(again.headers[HTTPField.Name("X-Cache")!] == "HIT")
                #expect(calls.value == 5)
            })
    }
}

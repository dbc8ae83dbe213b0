import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import TagwaveAdmin
import TagwaveEvents
import TagwaveHealth
import TagwaveLedger
import TagwaveMetrics
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

@Suite("Admin server over HTTP: health, metrics, JSON API, bearer token")
struct AdminServerTests {
    @Test func healthIs200WithRedisUpAnd503WhenRedisIsUnreachable() async throws {
        try await AdminHarness.with { harness in
            let worker = harness.worker()
            let admin = try harness.admin(worker: worker)
            try await running([worker, admin], admin: admin) { client in
                try await eventually("the worker's group to exist") {
                    (try? await harness.redis.xinfoGroups("events"))?.isEmpty == false
                }
                let reply = try await client.get("/health")
                #expect(reply.status == .ok)
                let json = try #require(reply.json)
                #expect(json["success"] == .bool(true))
                let health = try #require(json["data"]?["health"])
                #expect(health["overall"]?.stringValue != "unhealthy")
                #expect(health["redis"]?["connected"] == .bool(true))
                #expect(health["redis"]?["latency"]?.kind == .number)
                #expect(health["cache"]?["hitRate"] != nil)
                #expect(health["stream"]?["name"]?.stringValue == "events")
                #expect(json["data"]?["metrics"]?["uptime"]?.kind == .number)
            }
        }
        // Nothing listens on this port: the probe cannot reach Redis.
        try await AdminHarness.with { harness in
            let closed = try ClosedPort()
            defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
            var configuration = RedisConfiguration(host: "127.0.0.1", port: closed.port)
            configuration.connectTimeout = .milliseconds(300)
            configuration.commandTimeout = .milliseconds(300)
            let unreachable = RedisClient(configuration: configuration, logger: quietLogger("test.redis.down"))
            var adminConfiguration = try AdminConfiguration(bind: "127.0.0.1:0")
            adminConfiguration.sampleInterval = .milliseconds(200)
            let admin = try AdminServer(
                configuration: adminConfiguration, redis: unreachable, ledger: harness.ledger,
                logger: quietLogger("test.admin"))
            try await running([admin], admin: admin) { client in
                let reply = try await client.get("/health")
                #expect(reply.status == .serviceUnavailable)
                let json = try #require(reply.json)
                #expect(json["success"] == .bool(false))
                #expect(json["data"]?["health"]?["overall"]?.stringValue == "unhealthy")
                #expect(json["data"]?["health"]?["redis"]?["connected"] == .bool(false))
                let reasons = json["data"]?["health"]?["reasons"]?.elements ?? []
                #expect(
                    reasons.contains {
                        $0["component"]?.stringValue == "redis" && $0["status"]?.stringValue == "unhealthy"
                    })
            }
            await unreachable.shutdown()
        }
    }

    @Test func metricsExposeEveryDocumentedSeriesWithLiveFigures() async throws {
        try await AdminHarness.with { harness in
            let worker = harness.worker()
            let admin = try harness.admin(worker: worker)
            try await running([worker, admin], admin: admin) { client in
                for index in 0..<20 {
                    try await harness.publish(
                        type: "session.created", payload: #"{"teacherId":"t\#(index % 3)"}"#, id: "evt-\(index)")
                }
                try await harness.publish(type: nil, payload: "{}")  // poison: dead-lettered
                try await eventually("20 events processed") {
                    worker.progress.processed == 20 && worker.progress.deadLettered == 1
                }
                var metrics: [String: [(labels: String, value: Double)]] = [:]
                var types: [String: String] = [:]
                var help: Set<String> = []
                try await eventually("the sampler to export the figures") {
                    let reply = try await client.get("/metrics")
                    #expect(reply.status == .ok)
                    #expect(reply.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    (metrics, types, help) = parsePrometheus(reply.body)
                    // The sampler may export between the batch of the 20 and the poison event's.
                    return metrics["tagwave_events_processed_total"]?.first?.value == 20
                        && metrics["tagwave_events_dead_lettered_total"]?.first?.value == 1
                        && (metrics["tagwave_invalidation_lag_seconds_count"]?.first?.value ?? 0) >= 20
                }
                for series in MetricSeries.all {
                    #expect(
                        types[series.name] == series.kind.rawValue,
                        "\(series.name) is exported as a \(series.kind.rawValue)")
                    #expect(help.contains(series.name), "\(series.name) has a HELP line")
                }
                #expect(metrics["tagwave_events_dead_lettered_total"]?.first?.value == 1)
                #expect(metrics["tagwave_tags_invalidated_total"].map { $0[0].value >= 3 } == true)
                #expect(metrics["tagwave_batches_total"].map { $0[0].value >= 1 } == true)
                #expect((metrics["tagwave_batch_size_events_count"]?.first?.value ?? 0) >= 1)
                #expect(metrics["tagwave_batch_size_events_sum"]?.first?.value == 20)
                #expect((metrics["tagwave_handler_duration_seconds_count"]?.first?.value ?? 0) >= 20)
                #expect(
                    metrics["tagwave_handler_duration_seconds_bucket"]?.contains { $0.labels.contains(#"le="+Inf""#) }
                        == true)
                #expect(metrics["tagwave_dead_letters_open"]?.first?.value == 1)
                #expect(metrics["tagwave_consumer_lag_entries"]?.first?.value == 0)
                #expect(metrics["tagwave_stream_length_entries"]?.first?.value == 21)
                #expect(
                    metrics["tagwave_warm_jobs_total"]?.contains { $0.labels.contains(#"outcome="scheduled""#) } == true
                )
                #expect(metrics["tagwave_redis_latency_seconds"].map { $0[0].value > 0 } == true)
            }
        }
    }

    @Test func jsonAPIListsEventsWithOutcomesAndDeadLetters() async throws {
        try await AdminHarness.with { harness in
            let worker = harness.worker()
            let admin = try harness.admin(worker: worker)
            try await running([worker, admin], admin: admin) { client in
                try await harness.publish(type: "session.created", payload: #"{"teacherId":"t42"}"#, id: "evt-api-1")
                let poison = try await harness.publish(
                    type: "session.created", payload: #"["not","an","object"]"#, id: "evt-poison")
                try await eventually("both events handled") {
                    worker.progress.processed == 1 && worker.progress.deadLettered == 1
                }

                let events = try await client.get("/api/events?limit=10")
                #expect(events.status == .ok)
                let listed = try #require(events.json?["events"]?.elements)
                let processed = try #require(listed.first { $0["id"]?.stringValue == "evt-api-1" })
                #expect(processed["status"]?.stringValue == "processed")
                #expect(processed["type"]?.stringValue == "session.created")
                #expect(processed["worker"]?.stringValue == "w1")
                #expect(processed["tags"]?.elements == [.string("teacher:t42")], "the list carries each event's tags")
                #expect(processed["durationMs"]?.kind == .number)

                let detail = try await client.get("/api/events/evt-api-1")
                #expect(detail.status == .ok)
                let outcomes = try #require(detail.json?["event"]?["outcomes"]?.elements)
                #expect(
                    outcomes.contains { outcome in
                        outcome["tags"]?.elements?.contains { $0["tag"]?.stringValue == "teacher:t42" } == true
                    })
                #expect(detail.json?["event"]?["payload"]?["teacherId"] == .string("t42"))
                #expect(detail.json?["warmJobs"]?.elements?.isEmpty == true)
                #expect(try await client.get("/api/events/no-such-event").status == .notFound)
                #expect(try await client.get("/api/events?status=bogus").status == .badRequest)

                let dead = try await client.get("/api/dead-letters")
                let letters = try #require(dead.json?["deadLetters"]?.elements)
                #expect(letters.count == 1)
                // A poison entry is not decoded: it is known by its stream entry id.
                #expect(letters.first?["streamID"]?.stringValue == poison.description)
                #expect(letters.first?["reasonCode"]?.stringValue == "payload_not_object")
                #expect(
                    letters.first?["fields"]?.elements?.contains { $0["value"]?.stringValue == "evt-poison" } == true)

                try await eventually("the stats to count the event") {
                    let stats = try await client.get("/api/stats")
                    return stats.json?["progress"]?["processed"] == .integer(1)
                        && (stats.json?["history"]?.elements?.count ?? 0) >= 2
                }
                let stats = try #require(try await client.get("/api/stats").json)
                #expect(stats["consumer"]?.stringValue == "w1")
                #expect(stats["deadLetters"] == .integer(1))
                let page = try await client.get("/")
                #expect(page.status == .ok)
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(page.body.contains("chart-throughput"))
                #expect(
                    !page.body.contains("src=") && !page.body.contains("<link") && !page.body.contains("https://"),
                    "the page loads nothing from elsewhere")
            }
        }
    }

    @Test func bearerTokenIsRequiredWhenConfigured() async throws {
        try await AdminHarness.with { harness in
            let admin = try harness.admin(AdminConfiguration(bind: "127.0.0.1:0", token: "s3cret-token"), worker: nil)
            try await running([admin], admin: admin) { client in
                for path in ["/health", "/metrics", "/api/stats", "/api/events", "/api/dead-letters"] {
                    let anonymous = try await client.get(path)
                    #expect(anonymous.status == .unauthorized, "\(path) without a token")
                    #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    let wrong = try await client.get(path, headers: [.authorization: "Bearer s3cret-tokem"])
                    #expect(wrong.status == .unauthorized, "\(path) with a wrong token")
                    let shorter = try await client.get(path, headers: [.authorization: "Bearer s3cret"])
                    #expect(shorter.status == .unauthorized, "\(path) with a prefix of the token")
                    let authorized = try await client.get(path, headers: [.authorization: "Bearer s3cret-token"])
                    #expect(authorized.status == .ok, "\(path) with the token")
                }
                // The page itself holds no data: it asks for the token.
                #expect(try await client.get("/").status == .ok)
            }
        }
    }

    @Test func refusesANonLoopbackBindWithoutAToken() throws {
        #expect(throws: AdminError.self) { try AdminConfiguration(bind: "0.0.0.0:9477") }
        do {
            _ = try AdminConfiguration(bind: ":9477")
            Issue.record("an every-interface bind without a token was accepted")
        } catch {
            #expect(error.code == .tokenRequired)
            #expect(error.description.contains("0.0.0.0:9477"))
            #expect(error.description.contains("admin.token"))
        }
        #expect(throws: AdminError.self) { try AdminConfiguration(bind: "[2001:db8::1]:9477", token: "") }
        #expect(try AdminConfiguration(bind: "0.0.0.0:9477", token: "t").host == "0.0.0.0")
        #expect(try AdminConfiguration(bind: "127.0.0.1:9477").isLoopback)
        #expect(try AdminConfiguration(bind: "[::1]:9477").isLoopback)
        #expect(try AdminConfiguration(bind: "localhost:1").isLoopback)
        #expect(try AdminConfiguration(bind: "9477").address == "127.0.0.1:9477")
        do {
            _ = try AdminConfiguration(bind: "127.0.0.1:http")
            Issue.record("a bind without a numeric port was accepted")
        } catch {
            #expect(error.code == .invalidBind)
        }
    }

    @Test func theDaemonRefusesToStartOnANonLoopbackAddressWithoutAToken() async throws {
        try await AdminHarness.with { harness in
            let tagwave = try TestChild.executable().deletingLastPathComponent().appendingPathComponent("tagwave").path
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = harness.server.url
            environment["TAGWAVE_LEDGER"] =
                FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-\(UUID()).sqlite").path
            environment["TAGWAVE_ADMIN_BIND"] = "0.0.0.0:0"
            environment.removeValue(forKey: "TAGWAVE_ADMIN_TOKEN")
            let child = try ChildProcess(tagwave, ["worker", "--consumer", "refused"], environment: environment)
            defer { child.terminate() }
            let status = try await child.wait(timeout: .seconds(30))
            #expect(status == 78, "exit code (config error); output: \(child.output)")
            #expect(child.output.contains("not a loopback address"))
            #expect(child.output.contains("TAGWAVE_ADMIN_TOKEN"))
        }
    }
}

/// Samples by metric name (histogram parts keep their suffix), the `# TYPE` of each family, and
/// the families with a `# HELP` line.
func parsePrometheus(_ text: String) -> ([String: [(labels: String, value: Double)]], [String: String], Set<String>) {
    var samples: [String: [(labels: String, value: Double)]] = [:]
    var types: [String: String] = [:]
    var help: Set<String> = []
    for line in text.split(separator: "\n") {
        if line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
        } else if line.hasPrefix("# HELP ") {
            let parts = line.split(separator: " ", maxSplits: 3)
            if parts.count >= 3 { help.insert(String(parts[2])) }
        } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
            let series = line[..<space]
            guard let value = Double(line[line.index(after: space)...]) else { continue }
            let name = series.prefix { $0 != "{" }
            samples[String(name), default: []].append((String(series.dropFirst(name.count)), value))
        }
    }
    return (samples, types, help)
}

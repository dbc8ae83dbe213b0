import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TagwaveHealth
import TagwaveLedger
import TagwaveMetrics
import TagwaveOperations
import TagwaveWorker

extension AdminServer {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        if let token = configuration.token {
            router.add(middleware: BearerTokenMiddleware(token: token) { $0.uri.path == "/" })
        }
        router.get("/") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("health") { [self] _, _ in try await health() }
        router.get("metrics") { [exporter] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = PrometheusExporter.contentType
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: exporter.render())))
        }
        router.get("api/stats") { [monitor] _, _ in try Self.json(monitor.stats()) }
        router.get("api/events") { [ledger] request, _ in
            let parameters = request.uri.queryParameters
            let query: EventQuery
            do {
                query = try EventQuery(
                    types: parameters["type"].map { [String($0)] } ?? [], status: parameters["status"].map(String.init),
                    tag: parameters["tag"].map(String.init),
                    limit: min(max(Int(parameters["limit"] ?? "") ?? 50, 1), 1000))
            } catch {
                return try Self.problem(.badRequest, "\(error)")
            }
            let events = try await EventBrowser(ledger: ledger).list(query)
            return try Self.json(EventList(events: events.map { EventView($0, withOutcomes: true) }))
        }
        router.get("api/events/:id") { [ledger] _, context in
            let id = try context.parameters.require("id")
            do {
                return try Self.json(EventDetailView(try await EventBrowser(ledger: ledger).show(id: id)))
            } catch let error as OperationsError where error.code == .notFound {
                return try Self.problem(.notFound, error.description)
            }
        }
        router.get("api/dead-letters") { [ledger] request, _ in
            let parameters = request.uri.queryParameters
            let limit = min(max(Int(parameters["limit"] ?? "") ?? 100, 1), 1000)
            var status: LedgerDeadLetter.Status? = .open
            if let text = parameters["status"] {
                if text == "all" {
                    status = nil
                } else if let parsed = LedgerDeadLetter.Status(rawValue: String(text)) {
                    status = parsed
                } else {
                    let known = LedgerDeadLetter.Status.allCases.map(\.rawValue).joined(separator: ", ")
                    return try Self.problem(.badRequest, "unknown status \(text): use all, \(known)")
                }
            }
            let deadLetters = try await ledger.deadLetters(status: status, limit: limit)
            return try Self.json(DeadLetterList(deadLetters: deadLetters.map(DeadLetterView.init)))
        }
        return router
    }

    /// `GET /health`: a fresh sample judged against the previous one (for trends), in the seed's envelope.
    func health() async throws -> Response {
        let sample = await probe.sample()
        let report = evaluator.evaluate(sample, previous: monitor.latestSample)
        let progress = worker?.progress
        let body = HealthEnvelope(
            success: report.overall != .unhealthy,
            data: .init(
                health: report,
                metrics: .init(
                    hits: sample.hits, misses: sample.misses, invalidations: progress?.tagsInvalidated,
                    errors: progress.map { $0.deadLettered + $0.retried }, hitRate: sample.hitRate,
                    uptime: Int64(Date().timeIntervalSince(monitor.started) * 1000))))
        return try Self.json(body, status: report.overall == .unhealthy ? .serviceUnavailable : .ok)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
        try json(["error": message], status: status)
    }
}

/// `GET /api/events`: as `tagwave events list --json`, with outcomes and tags.
struct EventList: Encodable {
    var events: [EventView]
}

/// `GET /api/dead-letters`: as `tagwave dlq list --json`.
struct DeadLetterList: Encodable {
    var deadLetters: [DeadLetterView]
}

/// `GET /health`: the seed's `{ success, data: { health, metrics } }`.
struct HealthEnvelope: Encodable {
    struct Data: Encodable {
        var health: HealthReport
        var metrics: Metrics
    }

    /// The seed's `metrics` block: counters since start, `uptime` in milliseconds.
    struct Metrics: Encodable {
        var hits: Int?
        var misses: Int?
        var invalidations: Int?
        var errors: Int?
        var hitRate: Double?
        var uptime: Int64

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hits, forKey: .hits)
            try container.encode(misses, forKey: .misses)
            try container.encode(invalidations, forKey: .invalidations)
            try container.encode(errors, forKey: .errors)
            try container.encode(hitRate, forKey: .hitRate)
            try container.encode(uptime, forKey: .uptime)
        }

        enum CodingKeys: String, CodingKey {
            case hits, misses, invalidations, errors, hitRate, uptime
        }
    }

    var success: Bool
    var data: Data
}

import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TagwaveCache
import TagwaveHealth
import TagwavePublisher

/// The seed's classroom sessions API: `GET /sessions?teacher=ID` (cached), `POST /sessions`
/// (written to SQLite, then `session.created` is published).
enum SessionsAPI {
    static func router(
        store: SessionStore, cache: TaggedCache, demand: DemandRecorder, health: CacheHealthMonitor, publisher: Publisher,
        invalidateOnWrite: Bool, logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let sessions = router.group("sessions")
        sessions.group()
            .add(middleware: CacheDecorators.sessionList(cache, demand: demand))
            .get { request, _ -> Response in
                guard let teacher = request.uri.queryParameters["teacher"].map(String.init), !teacher.isEmpty else {
                    throw HTTPError(.badRequest, message: "give the teacher: GET /sessions?teacher=ID")
                }
                let list = try await store.sessions(teacher: teacher)
                logger.info("database read: \(list.count) sessions of teacher \(teacher)")
                return try json(Envelope(data: list))
            }
        let writes = sessions.group()
        if invalidateOnWrite { writes.add(middleware: CacheDecorators.invalidateSessionCache(cache)) }
        writes
            .add(middleware: CacheDecorators.sessionCreatedEvent(publisher))
            .post { request, context -> Response in
                let new = try await request.decode(as: NewSession.self, context: context)
                guard !new.teacherId.isEmpty, !new.title.isEmpty else {
                    throw HTTPError(.badRequest, message: "teacherId and title are required")
                }
                let session = try await store.create(new)
                logger.info("database write: session \(session.id) of teacher \(session.teacherId)")
                return try json(Envelope(data: session), status: .created)
            }
        router.get("stats") { _, _ -> Response in
            try json(["databaseReads": store.reads.load(ordering: .relaxed)])
        }
        router.get("health") { _, _ in "ok" }
        // The seed's cacheHealthMonitor.checkHealth(): this service's hit and error rates, Redis, the stream's lag.
        router.get("health/cache") { _, _ -> Response in
            let report = await health.checkHealth()
            return try json(report, status: report.overall == .unhealthy ? .serviceUnavailable : .ok)
        }
        return router
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

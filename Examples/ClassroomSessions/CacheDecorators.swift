import Hummingbird
import TagwaveCache
import TagwaveEvents
import TagwaveHummingbird
import TagwavePublisher

/// The seed's `CacheDecorators`, for this API: one line per route says how it is cached or what
/// its writes announce; the handlers hold no cache code.
///
/// ```swift
/// sessions.group().add(middleware: CacheDecorators.sessionList(cache)).get(use: listSessions)
/// sessions.group()
///     .add(middleware: CacheDecorators.invalidateSessionCache(cache))     // optional: read-your-writes
///     .add(middleware: CacheDecorators.sessionCreatedEvent(publisher))
///     .post(use: createSession)
/// ```
enum CacheDecorators {
    typealias Context = BasicRequestContext

    /// `GET /sessions?teacher=ID`: cached under the method, path and query, tagged `teacher:ID` and
    /// `sessions`, fresh for the TTL policy's `session-list` class (5 minutes). Each request is
    /// counted in `demand` under those tags, for the worker's predictive warming.
    static func sessionList(_ cache: TaggedCache, demand: DemandRecorder) -> ResponseCacheMiddleware<Context> {
        var policy = ResponseCachePolicy<Context>()
        policy.tags = { request, _ in
            guard let teacher = request.uri.queryParameters["teacher"], !teacher.isEmpty else { return [] }
            return ["teacher:\(teacher)", "sessions"]
        }
        policy.ttl = { _, _ in "session-list" }
        return ResponseCacheMiddleware(cache: cache, policy: policy, demand: demand)
    }

    /// After a session is created, invalidates its teacher's tag at once in this service, so the
    /// creator's next list is never the old one (the worker invalidates it again from the event:
    /// idempotent). The seed's `invalidateSessionCache()`.
    static func invalidateSessionCache(_ cache: TaggedCache) -> InvalidateTagsMiddleware<Context> {
        InvalidateTagsMiddleware(cache: cache) { outcome in
            outcome.json?["data"]?["teacherId"]?.stringValue.map { ["teacher:\($0)"] } ?? []
        }
    }

    /// After a session is created, publishes `session.created` with its ids: the worker's rules
    /// invalidate `teacher:{teacherId}` and `school:{schoolId}:sessions` and warm the teacher's list.
    /// The seed's `sessionCreatedEvent()`.
    static func sessionCreatedEvent(_ publisher: Publisher) -> PublishEventMiddleware<Context> {
        PublishEventMiddleware(publisher: publisher) { outcome in
            guard let session = outcome.json?["data"], let teacher = session["teacherId"] else { return nil }
            var payload: [(key: String, value: JSONValue)] = [("teacherId", teacher)]
            if let id = session["id"] { payload.insert(("sessionId", id), at: 0) }
            if let school = session["schoolId"], school != .null { payload.append(("schoolId", school)) }
            return Event(type: "session.created", payload: .object(payload), source: "classroom-sessions")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TagwaveCache

/// Caches whole responses in the tagged cache: the seed's `CacheMiddleware` for Hummingbird.
///
/// For a request the ``ResponseCachePolicy`` accepts (by default a `GET` or `HEAD`):
/// - a fresh entry is answered from the cache (`X-Cache: HIT`, `Age`), without running the route;
/// - otherwise the route runs once, across every process sharing the cache (the cache's
///   `getOrSet`: one computation, others wait for it), and a 2xx response is stored with the
///   policy's tags and TTL (`X-Cache: MISS`). Because the fill goes through `getOrSet`, a response
///   computed from data read before an invalidation of one of its tags is never stored;
/// - every cached answer carries a strong `ETag` (a hash of the body) and `Cache-Control`; a request
///   whose `If-None-Match` matches gets `304 Not Modified` with no body;
/// - with ``ResponseCachePolicy/staleWhileRevalidate``, an expired entry is served (`X-Cache: STALE`)
///   while one request recomputes it;
/// - when Redis fails, the route runs uncached (`X-Cache: BYPASS`): the cache never takes a
///   service down.
///
/// With a ``TagwaveCache/DemandRecorder``, every request the policy accepts is counted under its
/// tags (path and query, whether answered from the cache or not), except those of the warmer
/// itself (`User-Agent: tagwave-warmer/…`): predictive warming then re-requests, after a tag's
/// invalidation, the paths most asked for under it.
///
/// Responses that set cookies or say `Cache-Control: no-store` or `private` are never stored.
/// The route's response is buffered in memory to be stored; keep streaming routes out of the policy.
///
/// ```swift
/// let router = Router()
/// var policy = ResponseCachePolicy<BasicRequestContext>()
/// policy.tags = { request, _ in ["teacher:\(request.uri.queryParameters["teacher"] ?? "")"] }
/// router.group("sessions")
///     .add(middleware: ResponseCacheMiddleware(cache: cache, policy: policy))
///     .get { request, context in try await listSessions(request) }
/// ```
public struct ResponseCacheMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The cache responses are stored in.
    public let cache: TaggedCache
    /// What is cached, and how.
    public let policy: ResponseCachePolicy<Context>
    /// Where requests are counted for predictive warming, if anywhere.
    public let demand: DemandRecorder?
    private let revalidating = RevalidationClaims()

    /// A middleware storing responses in `cache` according to `policy`.
    /// - Parameters:
    ///   - cache: the tagged cache (its Redis, prefix and TTL policy).
    ///   - policy: key, tags, TTL, condition and client caching; the defaults cache 2xx answers to
    ///     `GET` and `HEAD` under method, path and sorted query.
    ///   - demand: counts requests under their tags for predictive warming; nil records nothing.
    public init(cache: TaggedCache, policy: ResponseCachePolicy<Context> = .init(), demand: DemandRecorder? = nil) {
        self.cache = cache
        self.policy = policy
        self.demand = demand
    }

    /// Answers from the cache, or runs `next` and stores its response.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard policy.condition(request, context) else { return try await next(request, context) }
        let key = policy.key(request, context)
        let tags = policy.tags(request, context)
        if let demand, !Self.isWarmer(request) { demand.record(target: Self.demandTarget(request), tags: tags) }
        let fresh = cache.configuration.ttlPolicy.duration(for: policy.ttl(request, context))
        let now = Self.nowMilliseconds()

        guard let staleWindow = policy.staleWhileRevalidate, fresh > .zero else {
            // Fresh for the TTL, then gone: the next request recomputes it.
            let cached: CachedResponse?
            do {
                cached = try await cache.get(key, as: CachedResponse.self, tags: tags, countingMisses: false)
            } catch {
                return try await unavailable(key, error, request: request, context: context, next: next)
            }
            if let cached { return answer(cached, to: request, status: "HIT", now: now) }
            return try await fill(key, tags: tags, ttl: fresh, request: request, context: context, next: next)
        }
        // Stale-while-revalidate: entries live in periods of the TTL (`key#period`). A request in a
        // new period serves the previous period's entry while one request of this process fills the
        // new one, through the same getOrSet as any miss, so no fill can store data read before an
        // invalidation; an invalidated tag makes both periods' entries unreadable, never stale.
        let period = max(fresh.wholeMilliseconds, 1)
        let current = "\(key)#\(now / period)"
        let previous = "\(key)#\(now / period - 1)"
        let found: (current: CachedResponse?, previous: CachedResponse?)
        do {
            let entry = try await cache.get(current, as: CachedResponse.self, tags: tags, countingMisses: false)
            found = (entry, entry == nil ? try await cache.get(previous, as: CachedResponse.self, tags: tags, countingMisses: false) : nil)
        } catch {
            return try await unavailable(key, error, request: request, context: context, next: next)
        }
        if let entry = found.current { return answer(entry, to: request, status: "HIT", now: now) }
        let ttl = Duration.milliseconds(period) + staleWindow
        if let stale = found.previous, now - stale.storedAt <= period + staleWindow.wholeMilliseconds {
            guard revalidating.claim(current) else { return answer(stale, to: request, status: "STALE", now: now) }
            defer { revalidating.release(current) }
            return try await fill(current, tags: tags, ttl: ttl, request: request, context: context, next: next)
        }
        return try await fill(current, tags: tags, ttl: ttl, request: request, context: context, next: next)
    }

    /// Redis failed: the route answers, uncached.
    private func unavailable(
        _ key: String, _ error: any Error, request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        context.logger.warning(
            "response cache unavailable; answering uncached",
            metadata: ["tagwave.cache.key": "\(key)", "error": "\(error)"])
        return try await bypass(request, context: context, next: next)
    }

    // MARK: Filling

    /// Why a response was not stored: thrown out of the cache's factory, carrying the response.
    private struct NotStored: Error {
        var response: Response
    }

    private func fill(
        _ key: String, tags: [String], ttl: Duration, request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let policy = self.policy
        let ran = Mutex(false)
        do {
            // `next` runs only inside getOrSet's factory, which getOrSet awaits before returning:
            // it never outlives this call, as `withoutActuallyEscaping` checks.
            let stored = try await withoutActuallyEscaping(next) { next in
                let route = UncheckedRoute(call: next)
                return try await cache.getOrSet(key, tags: tags, ttl: .duration(ttl)) {
                    () async throws -> CachedResponse in
                    ran.withLock { $0 = true }
                    let response = try await route.call(request, context)
                    guard policy.storesStatus(response.status), Self.mayStore(response.headers),
                        (response.body.contentLength ?? 0) <= policy.maxBodyBytes
                    else { throw NotStored(response: response) }
                    let (collected, body) = try await BodyCollector.collect(response)
                    guard body.readableBytes <= policy.maxBodyBytes else { throw NotStored(response: collected) }
                    return CachedResponse(
                        status: collected.status, headers: collected.headers, body: body,
                        storedAt: Self.nowMilliseconds())
                }
            }
            let status = ran.withLock { $0 } ? "MISS" : "HIT"
            return answer(stored, to: request, status: status, now: Self.nowMilliseconds())
        } catch {
            if ran.withLock({ $0 }) {
                // This request's route ran: its response, or its own error (an HTTPError, say) for the router.
                if let notStored = error as? NotStored { return notStored.response }
                throw error
            }
            if error is CacheError {
                return try await unavailable(key, error, request: request, context: context, next: next)
            }
            // Another request's route ran for this key and its answer was not storable (an error, a
            // cookie): it is never shared, so this request gets its own.
            return try await next(request, context)
        }
    }

    private func bypass(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xCache] = "BYPASS"
        return response
    }

    /// Whether the route allowed its response to be shared: no cookie, no `no-store`, no `private`.
    static func mayStore(_ headers: HTTPFields) -> Bool {
        if headers[.setCookie] != nil { return false }
        let cacheControl = headers[values: .cacheControl].joined(separator: ",").lowercased()
        return !cacheControl.contains("no-store") && !cacheControl.contains("private")
    }

    // MARK: Answering

    /// The cached response, or `304 Not Modified` when the client already has it.
    private func answer(_ cached: CachedResponse, to request: Request, status: String, now: Int64) -> Response {
        var headers = cached.fields
        headers[.eTag] = cached.etag
        if let cacheControl = policy.clientCaching.headerValue { headers[.cacheControl] = cacheControl }
        headers[.xCache] = status
        if status != "MISS" { headers[.age] = String(cached.age(at: now)) }
        if let ifNoneMatch = request.headers[values: .ifNoneMatch].nilIfEmpty?.joined(separator: ","),
            ETag.matches(ifNoneMatch: ifNoneMatch, etag: cached.etag)
        {
            // RFC 9110 §15.4.5: the validators and caching headers a 200 would carry, no body.
            var notModified = HTTPFields()
            for name in [HTTPField.Name.eTag, .cacheControl, .xCache, .age, .vary, .contentLocation, .expires] {
                if let value = headers[name] { notModified[name] = value }
            }
            return Response(status: .notModified, headers: notModified)
        }
        let body = cached.bodyBuffer
        headers[.contentLength] = String(body.readableBytes)
        if request.method == .head { return Response(status: .init(code: cached.status), headers: headers) }
        return Response(status: .init(code: cached.status), headers: headers, body: ResponseBody(byteBuffer: body))
    }

    // MARK: Demand

    /// What the warmer requests again: the path and query as the client sent them.
    static func demandTarget(_ request: Request) -> String {
        let query = request.uri.query ?? ""
        return query.isEmpty ? request.uri.path : request.uri.path + "?" + query
    }

    /// A request of the Tagwave warmer (its User-Agent), never counted as demand.
    static func isWarmer(_ request: Request) -> Bool {
        request.headers[.userAgent]?.hasPrefix("tagwave-warmer/") ?? false
    }

    static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}

/// The route's responder, carried into the cache's `@Sendable` factory.
///
/// `@unchecked Sendable`: the closure is Hummingbird's `next`, called only while the request that
/// received it is being handled (the factory is awaited by that request), as Hummingbird calls it.
private struct UncheckedRoute<Context>: @unchecked Sendable {
    let call: (Request, Context) async throws -> Response
}

/// Keys being revalidated by a request of this process (stale-while-revalidate).
final class RevalidationClaims: Sendable {
    private let keys = Mutex<Set<String>>([])

    /// True when this caller is the one to revalidate `key`.
    func claim(_ key: String) -> Bool { keys.withLock { $0.insert(key).inserted } }

    /// Ends the revalidation of `key`.
    func release(_ key: String) { _ = keys.withLock { $0.remove(key) } }
}

extension Array {
    fileprivate var nilIfEmpty: Self? { isEmpty ? nil : self }
}

extension Duration {
    fileprivate var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

import HTTPTypes
import Hummingbird
import TagwaveCache

/// Which responses ``ResponseCacheMiddleware`` caches, under which key and tags, for how long, and
/// what it tells clients: the seed's `cacheResponse({ key, tags, ttl, condition })`.
///
/// Every part is a closure of the request (and its context) with a sensible default, so a route
/// states only what differs:
///
/// ```swift
/// var policy = ResponseCachePolicy<BasicRequestContext>()
/// policy.tags = { request, _ in request.uri.queryParameters["teacher"].map { ["teacher:\($0)"] } ?? [] }
/// policy.ttl = { _, _ in "session-list" }          // a key class of the cache's TTL policy
/// router.group("sessions").add(middleware: ResponseCacheMiddleware(cache: cache, policy: policy)).get(use: list)
/// ```
public struct ResponseCachePolicy<Context: RequestContext>: Sendable {
    /// What clients are told in `Cache-Control`.
    public enum ClientCaching: Sendable, Hashable {
        /// `Cache-Control: no-cache`: clients may keep the body but revalidate every time with
        /// `If-None-Match`, answered by a `304` while the entry is unchanged. The default: an event
        /// invalidates the server's copy at once, and a client never shows data older than that.
        case revalidate
        /// `Cache-Control: private|public, max-age=N[, stale-while-revalidate=M]`: clients (and, when
        /// `shared`, proxies) reuse the body for `maxAge` without asking: they may show data up to
        /// that old after an invalidation.
        case maxAge(Duration, staleWhileRevalidate: Duration? = nil, shared: Bool = false)
        /// This `Cache-Control` value, verbatim.
        case header(String)
        /// No `Cache-Control` header.
        case none

        /// The header value, or nil for ``none``.
        var headerValue: String? {
            switch self {
            case .revalidate: return "no-cache"
            case .maxAge(let maxAge, let swr, let shared):
                var value = "\(shared ? "public" : "private"), max-age=\(maxAge.components.seconds)"
                if let swr { value += ", stale-while-revalidate=\(swr.components.seconds)" }
                return value
            case .header(let value): return value
            case .none: return nil
            }
        }
    }

    /// The cache key of a request. Default: ``defaultKey(_:)``, the method, path and sorted query.
    public var key: @Sendable (Request, Context) -> String
    /// The tags the response is stored under; an event invalidating any of them removes it.
    /// Default: none (the entry then only expires).
    public var tags: @Sendable (Request, Context) -> [String]
    /// How long a response stays fresh: seconds, a key class of the cache's TTL policy, or its default.
    /// Default: the policy's default (`CACHE_DEFAULT_TTL`, 300 s).
    public var ttl: @Sendable (Request, Context) -> CacheTTL
    /// Whether the request may be answered from the cache at all. Default: `GET` and `HEAD` only.
    public var condition: @Sendable (Request, Context) -> Bool
    /// Whether a response with this status may be stored. Default: 2xx only.
    public var storesStatus: @Sendable (HTTPResponse.Status) -> Bool
    /// What clients are told (`Cache-Control`). Default ``ClientCaching/revalidate``.
    public var clientCaching: ClientCaching
    /// Stale-while-revalidate on the server. Entries are then kept per period of the TTL: a response
    /// is fresh until the end of the period it was stored in (at most the TTL); in the next period,
    /// for up to this long, one request per key (in each process) recomputes it while every other
    /// request is answered at once with the previous period's copy (`X-Cache: STALE`). Invalidated
    /// entries are never served stale: this only covers expiry. Default nil: an expired entry is
    /// recomputed by the next request, which waits for it.
    public var staleWhileRevalidate: Duration?
    /// Responses larger than this are passed through and not stored. Default 1 MiB.
    public var maxBodyBytes: Int

    /// A policy with the defaults: `GET`/`HEAD`, 2xx, key from method, path and sorted query, no
    /// tags, the cache's default TTL, `Cache-Control: no-cache`.
    public init() {
        key = { request, _ in Self.defaultKey(request) }
        tags = { _, _ in [] }
        ttl = { _, _ in .default }
        condition = { request, _ in request.method == .get || request.method == .head }
        storesStatus = { (200..<300).contains($0.code) }
        clientCaching = .revalidate
        staleWhileRevalidate = nil
        maxBodyBytes = 1 << 20
    }

    /// `http:<METHOD> <path>?<query parameters sorted>`: `GET /sessions?b=2&a=1` and
    /// `GET /sessions?a=1&b=2` share one entry.
    public static func defaultKey(_ request: Request) -> String {
        var key = "http:\(request.method.rawValue) \(request.uri.path)"
        if let query = request.uri.query, !query.isEmpty {
            key += "?" + query.split(separator: "&").sorted().joined(separator: "&")
        }
        return key
    }
}

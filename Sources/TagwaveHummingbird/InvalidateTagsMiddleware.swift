import HTTPTypes
import Hummingbird
import Logging
import TagwaveCache

/// Invalidates cache tags directly after a write route succeeded: the seed's
/// `CacheDecorators.invalidateSessionCache()`.
///
/// Use it when this service's own next read must not see the old entry even for the moment before
/// a worker handles the write's event (read-your-writes); the event still reaches every other
/// consumer. Tags are invalidated only for a 2xx answer to a state-changing method. If Redis
/// fails, the response is still returned (the write happened) and the failure is logged; the
/// worker's invalidation of the event's tags follows anyway.
///
/// ```swift
/// router.group("sessions")
///     .add(middleware: InvalidateTagsMiddleware(cache: cache) { outcome in
///         outcome.json?["teacherId"]?.stringValue.map { ["teacher:\($0)"] } ?? []
///     })
///     .post(use: createSession)
/// ```
public struct InvalidateTagsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The cache whose tags are invalidated.
    public let cache: TaggedCache
    /// The tags a write invalidates.
    public let tags: @Sendable (WriteOutcome<Context>) -> [String]

    /// Invalidates the tags `tags` names after each successful write.
    /// - Parameters:
    ///   - cache: the tagged cache.
    ///   - tags: the tags for a write, e.g. `["teacher:\(id)"]`.
    public init(cache: TaggedCache, tags: @escaping @Sendable (WriteOutcome<Context>) -> [String]) {
        self.cache = cache
        self.tags = tags
    }

    /// Runs the route, then invalidates.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let (response, outcome) = try await WriteOutcome.observe(request, context: context, next: next)
        guard let outcome else { return response }
        let tags = tags(outcome)
        guard !tags.isEmpty else { return response }
        do {
            let result = try await cache.invalidate(tags: tags)
            context.logger.debug(
                "invalidated \(tags.joined(separator: ", ")): \(result.entries) entries",
                metadata: ["tagwave.tags": "\(tags.joined(separator: ","))"])
        } catch {
            context.logger.error(
                "the write succeeded but invalidating its tags failed", metadata: ["error": "\(error)"])
        }
        return response
    }
}

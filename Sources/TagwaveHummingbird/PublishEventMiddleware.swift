import HTTPTypes
import Hummingbird
import Logging
import TagwaveEvents
import TagwavePublisher

/// Publishes a domain event after a write route succeeded: the seed's
/// `CacheDecorators.sessionCreatedEvent()`. Workers then invalidate the tags its rules name and warm
/// them again; the route itself holds no cache code.
///
/// The event is published only for a 2xx answer to a state-changing method, after the route
/// returned, so nothing is announced that did not happen. With a spool in the ``Publisher``'s
/// configuration, an event that cannot reach Redis is kept on disk and delivered later; without one,
/// a failure to publish is logged as an error and the response is still returned (the write did
/// happen), with `Tagwave-Event: failed`.
///
/// ```swift
/// router.group("sessions")
///     .add(middleware: PublishEventMiddleware(publisher: publisher) { outcome in
///         outcome.json.map { Event(type: "session.created", payload: $0, source: "sessions-api") }
///     })
///     .post(use: createSession)
/// ```
public struct PublishEventMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where events go.
    public let publisher: Publisher
    /// The events to publish for an outcome (empty: none).
    public let events: @Sendable (WriteOutcome<Context>) throws -> [Event]

    /// Publishes the events `events` makes of each successful write.
    /// - Parameters:
    ///   - publisher: the publisher (its stream, spool and trimming).
    ///   - events: the events for a write; throwing skips publishing and is logged.
    public init(publisher: Publisher, events: @escaping @Sendable (WriteOutcome<Context>) throws -> [Event]) {
        self.publisher = publisher
        self.events = events
    }

    /// Publishes the event `event` makes of each successful write, if any.
    public init(publisher: Publisher, event: @escaping @Sendable (WriteOutcome<Context>) throws -> Event?) {
        self.init(publisher: publisher, events: { outcome in try event(outcome).map { [$0] } ?? [] })
    }

    /// Runs the route, then publishes.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var (response, outcome) = try await WriteOutcome.observe(request, context: context, next: next)
        guard let outcome else { return response }
        do {
            let events = try events(outcome)
            guard !events.isEmpty else { return response }
            let receipts = try await publisher.publish(events)
            response.headers[.tagwaveEvent] = receipts.map(\.eventID).joined(separator: ", ")
            context.logger.info(
                "published \(events.map(\.type).joined(separator: ", "))",
                metadata: ["tagwave.event.id": "\(receipts.map(\.eventID).joined(separator: ","))"])
        } catch {
            response.headers[.tagwaveEvent] = "failed"
            context.logger.error(
                "the write succeeded but its event was not published: configure a publisher spool to keep events through outages",
                metadata: ["error": "\(error)"])
        }
        return response
    }
}

extension HTTPField.Name {
    /// `Tagwave-Event`: the ids of the events a write published, or `failed`.
    static let tagwaveEvent = HTTPField.Name("Tagwave-Event")!
}

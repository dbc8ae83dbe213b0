import Synchronization
import TagwaveEvents

/// What a Swift handler registered with ``Worker/on(_:name:_:)`` can do besides its own work:
/// ask for tags to be invalidated and targets to be warmed. The worker coalesces the requests of a
/// whole batch and applies them after the handlers ran, before the ledger commit.
public final class HandlerContext: Sendable {
    /// The stream entry id of the event.
    public let streamID: String
    /// The delivery attempt, from 1.
    public let attempt: Int
    private let requests = Mutex<(tags: [String], warm: [String])>(([], []))

    init(streamID: String, attempt: Int) {
        self.streamID = streamID
        self.attempt = attempt
    }

    /// Invalidates `tags` (after the handler returns, with the batch's other invalidations).
    public func invalidate(_ tags: [String]) {
        requests.withLock { $0.tags += tags }
    }

    /// Invalidates one tag.
    public func invalidate(_ tag: String) {
        invalidate([tag])
    }

    /// Schedules warming of `target` (a URL, or the name of a registered warmer) after the invalidations.
    public func warm(_ target: String) {
        requests.withLock { $0.warm.append(target) }
    }

    var requested: (tags: [String], warm: [String]) { requests.withLock { $0 } }
}

/// A handler for events of one type.
public typealias EventHandler = @Sendable (Event, HandlerContext) async throws -> Void

/// Throw it from a handler when retrying cannot help (the payload can never be handled): the event
/// goes to the dead letters at once instead of being retried.
public struct PermanentHandlerError: Error, Sendable, CustomStringConvertible {
    /// Why the event cannot be handled.
    public let reason: String
    /// An error that says retrying is pointless.
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Where the worker hands the warm targets of a batch after its invalidations were applied.
public protocol WarmScheduling: Sendable {
    /// Schedules warm targets requested by the event `eventID`.
    func schedule(targets: [String], eventID: String) async

    /// Whether it wants every batch's invalidated tags (``followInvalidations(tags:eventIDs:)``),
    /// for predictive warming. False by default.
    var followsInvalidations: Bool { get }

    /// Hands over the tags a batch invalidated, after they were applied, committed and
    /// acknowledged: `eventIDs[i]` is the event that invalidated `tags[i]` (a tag may repeat).
    func followInvalidations(tags: [String], eventIDs: [String]) async
}

extension WarmScheduling {
    /// False: only the targets rules and handlers name are scheduled.
    public var followsInvalidations: Bool { false }

    /// Does nothing.
    public func followInvalidations(tags: [String], eventIDs: [String]) async {}
}

/// What one handler did with one event: one run of a rule or closure, with its tags.
public struct LedgerHandlerOutcome: Sendable, Hashable {
    /// What kind of handler ran.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Invalidated cache tags (a rule's `invalidate`, or a closure that only invalidates).
        case invalidate
        /// Scheduled cache warming.
        case warm
        /// An embedder's Swift closure.
        case closure
    }

    /// How the handler ended.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// It did its work.
        case succeeded
        /// It failed after ``LedgerHandlerOutcome/attempts`` attempts; ``LedgerHandlerOutcome/error`` says why.
        case failed
        /// It chose not to act (e.g. a replay limited to other handlers).
        case skipped
    }

    /// The handler's name: the rule's event type and index, or the closure's registered name.
    public var handler: String
    /// What kind of handler ran.
    public var kind: Kind
    /// How it ended.
    public var status: Status
    /// How many times it ran for this delivery.
    public var attempts: Int
    /// How many cache entries it removed, when known.
    public var entriesRemoved: Int?
    /// How long it took (stored in microseconds).
    public var duration: Duration?
    /// The consumer that ran it.
    public var worker: String
    /// Why it failed.
    public var error: String?
    /// When it started.
    public var startedAt: LedgerTimestamp
    /// When it finished; its tags are recorded as invalidated at this time.
    public var finishedAt: LedgerTimestamp
    /// The replay run it belongs to; nil for a live delivery.
    public var replayRunID: Int64?
    /// The tags it invalidated. Read back sorted by tag, each tag once.
    public var invalidatedTags: [LedgerTagInvalidation]

    /// An outcome; optional fields default to absent, ``attempts`` to 1.
    public init(
        handler: String,
        kind: Kind,
        status: Status,
        attempts: Int = 1,
        entriesRemoved: Int? = nil,
        duration: Duration? = nil,
        worker: String,
        error: String? = nil,
        startedAt: LedgerTimestamp,
        finishedAt: LedgerTimestamp,
        replayRunID: Int64? = nil,
        invalidatedTags: [LedgerTagInvalidation] = []
    ) {
        self.handler = handler
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.entriesRemoved = entriesRemoved
        self.duration = duration
        self.worker = worker
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.replayRunID = replayRunID
        self.invalidatedTags = invalidatedTags
    }
}

/// One tag a handler invalidated.
///
/// A string literal is a tag without a count: `invalidatedTags: ["teacher:\(id)", "school:7"]`.
public struct LedgerTagInvalidation: Sendable, Hashable, ExpressibleByStringInterpolation {
    /// The tag, e.g. `teacher:123`.
    public var tag: String
    /// How many cache entries invalidating it removed, when the invalidation reported it.
    public var entriesRemoved: Int?

    /// A tag and, when known, how many entries its invalidation removed.
    public init(tag: String, entriesRemoved: Int? = nil) {
        self.tag = tag
        self.entriesRemoved = entriesRemoved
    }

    /// A tag without a count.
    public init(stringLiteral tag: String) {
        self.init(tag: tag)
    }
}

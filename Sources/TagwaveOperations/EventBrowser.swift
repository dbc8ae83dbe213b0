import Logging
import TagwaveLedger

/// Reads the ledger's event history for `tagwave events list|show|tail|export` and `tagwave audit event`.
///
/// ```swift
/// let browser = EventBrowser(ledger: ledger)
/// let detail = try await browser.show(id: "evt-1")      // OperationsError.notFound when unknown
/// for try await event in browser.tail(EventQuery()) { print(event.event.eventID) }
/// ```
public struct EventBrowser: Sendable {
    let ledger: Ledger

    /// A browser over `ledger`.
    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// Events matching `query`, newest first, with their outcomes; at most `query.limit` (default 50).
    ///
    /// - Throws: ``LedgerError``.
    public func list(_ query: EventQuery, now: LedgerTimestamp = .now()) async throws -> [LedgerSequencedEvent] {
        try await ledger.events(
            matching: query.selection(now: now), order: .newestFirst, limit: query.limit ?? 50, withOutcomes: true)
    }

    /// Everything about event `id`: envelope, outcomes (live and replayed), warm jobs, dead-letter history.
    ///
    /// - Throws: ``OperationsError`` (`notFound`) when the ledger has no such event; ``LedgerError``.
    public func show(id: String) async throws -> LedgerEventDetail {
        guard let detail = try await ledger.eventDetail(id: id) else {
            throw OperationsError(
                .notFound,
                "no event \(id) in the ledger \(ledger.path): list recent ones with `tagwave events list`, or look in "
                    + "the dead-letter queue with `tagwave dlq list` (events that never decoded are only there)")
        }
        return detail
    }

    /// Follows the ledger: yields each event matching `query` as it is recorded, with its outcomes,
    /// in recording order, polling the ledger's sequence every `interval`.
    ///
    /// The sequence ends when the task iterating it is cancelled (the CLI cancels it on SIGINT).
    ///
    /// - Parameters:
    ///   - query: which events (`limit` is ignored).
    ///   - backlog: how many already-recorded matching events to yield first (0: only new ones).
    ///   - interval: how often to poll when nothing new was found.
    public func tail(_ query: EventQuery, backlog: Int = 0, interval: Duration = .milliseconds(250)) -> EventTail {
        EventTail(ledger: ledger, query: query, backlog: backlog, interval: interval)
    }
}

/// The events ``EventBrowser/tail(_:backlog:interval:)`` follows: an endless sequence, ended by cancellation.
public struct EventTail: AsyncSequence, Sendable {
    public typealias Element = LedgerSequencedEvent

    let ledger: Ledger
    let query: EventQuery
    let backlog: Int
    let interval: Duration

    public func makeAsyncIterator() -> Iterator {
        Iterator(tail: self)
    }

    /// Polls the ledger.
    public struct Iterator: AsyncIteratorProtocol {
        let tail: EventTail
        var buffer: [LedgerSequencedEvent] = []
        var position: Int64?

        init(tail: EventTail) {
            self.tail = tail
        }

        /// The next recorded event; nil once the iterating task is cancelled.
        /// - Throws: ``LedgerError`` when the ledger cannot be read.
        public mutating func next() async throws -> LedgerSequencedEvent? {
            if position == nil {
                let latest = try await tail.ledger.latestSeq()
                position = latest
                if tail.backlog > 0 {
                    var selection = tail.query.selection()
                    selection.throughSeq = latest
                    buffer = try await tail.ledger.events(
                        matching: selection, order: .newestFirst, limit: tail.backlog, withOutcomes: true
                    ).sorted { $0.seq < $1.seq }
                }
            }
            while buffer.isEmpty {
                if Task.isCancelled { return nil }
                // Everything up to `latest` is committed (SQLite commits in `seq` order), so a page
                // bounded by it misses nothing that is recorded meanwhile.
                let latest = try await tail.ledger.latestSeq()
                if latest > (position ?? 0) {
                    var selection = tail.query.selection()  // relative times move with the clock
                    selection.afterSeq = position
                    selection.throughSeq = latest
                    let page = try await tail.ledger.events(
                        matching: selection, order: .recording, limit: 500, withOutcomes: true)
                    position = page.count == 500 ? page.last?.seq : latest
                    buffer = page
                    continue
                }
                do {
                    try await Task.sleep(for: tail.interval)
                } catch {
                    return nil
                }
            }
            return buffer.removeFirst()
        }
    }
}

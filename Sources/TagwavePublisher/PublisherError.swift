import TagwaveEvents
import TagwaveRedis
import TagwaveSQLite

/// An error from the ``Publisher``: what went wrong, and what to do about it.
///
/// Match on ``code`` (`error.code == .redisUnavailable`); ``description`` is a sentence a person
/// can act on. Passwords never appear in it.
public struct PublisherError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case invalidEvent
            case redisUnavailable
            case redisRefused
            case spool
        }

        fileprivate let base: Base

        /// The ``PublisherConfiguration`` cannot be used (an unsafe trim policy, an empty stream name…).
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// An event breaks the envelope's rules; ``PublisherError/field`` names the field. Nothing of
        /// the call was published.
        public static let invalidEvent = Code(base: .invalidEvent)
        /// Redis is unreachable (or temporarily refusing writes) and there is no spool, or a drain
        /// could not reach it. Events of the failed call were not published (without a spool) or stay
        /// spooled (drain).
        public static let redisUnavailable = Code(base: .redisUnavailable)
        /// Redis answered `XADD` with an error that waiting will not fix (`WRONGTYPE`, `NOPERM`…).
        public static let redisRefused = Code(base: .redisRefused)
        /// The spool file could not be opened, read or written; ``PublisherError/spoolPath`` names it.
        public static let spool = Code(base: .spool)

        /// The code's name, e.g. `redisUnavailable`.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do, as one sentence.
    public let message: String
    /// For ``Code/invalidEvent``: the envelope field at fault (`type`, `payload`, `id`…).
    public let field: String?
    /// The position in the batch of the event at fault, for ``Code/invalidEvent`` and
    /// ``Code/redisRefused``.
    public let eventIndex: Int?
    /// For ``Code/spool``: the spool file.
    public let spoolPath: String?
    /// The error underneath: an `EventDecodingError`, a `RedisError` or an SQLite error.
    public let underlying: (any Error)?
    /// Where the error was raised (`#fileID`).
    public let file: String
    /// Where the error was raised.
    public let line: Int

    init(
        _ code: Code,
        _ message: String,
        field: String? = nil,
        eventIndex: Int? = nil,
        spoolPath: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.eventIndex = eventIndex
        self.spoolPath = spoolPath
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// The message.
    public var description: String { message }

    /// An event of a call of `count` events failed validation.
    static func invalidEvent(
        _ error: EventDecodingError, index: Int, count: Int, type: String, file: String = #fileID, line: Int = #line
    ) -> PublisherError {
        let which =
            count == 1
            ? "the event" : "event \(index) (0-based) of the batch of \(count)"
        let typeNote = type.isEmpty || error.field == "type" ? "" : " (type `\(Event.shownType(type))`)"
        let nothing = count == 1 ? "it was not published" : "nothing of the batch was published"
        return PublisherError(
            .invalidEvent,
            "\(which)\(typeNote) was refused before sending: \(error.description); \(nothing)",
            field: error.field, eventIndex: count == 1 ? nil : index, underlying: error, file: file, line: line)
    }

    /// A spool failure from SQLite.
    static func spool(
        _ error: SQLiteError, path: String, doing what: String, file: String = #fileID, line: Int = #line
    ) -> PublisherError {
        let advice: String
        switch error.code {
        case .busy, .locked:
            advice =
                "another publisher (in this or another process) holds the spool: give each publishing process its "
                + "own spool file"
        case .full:
            advice = "the disk is full: free space; the events of this call were NOT stored"
        case .notADatabase:
            advice = "the file is not an SQLite database: point the spool path at a file of its own"
        default:
            advice = error.hint
        }
        return PublisherError(
            .spool, "the publisher spool \(path) failed \(what): \(error.message): \(advice)", spoolPath: path,
            underlying: error, file: file, line: line)
    }
}

extension Event {
    /// An event type for a message: at most 100 characters.
    static func shownType(_ type: String) -> String {
        type.count > 100 ? type.prefix(99) + "…" : type
    }
}

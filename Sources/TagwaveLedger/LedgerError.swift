import TagwaveSQLite

/// An error from the ledger: what went wrong, with what, and what to do about it.
///
/// Match on ``code`` (`error.code == .migrationChanged`); ``description`` is a sentence a person
/// can act on, naming the ledger file and, for migrations, the migration file.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case noLedger
            case cannotOpen
            case notALedger
            case migrationChanged
            case migrationUnknown
            case busy
            case diskFull
            case invalidInput
            case unexpectedData
            case database
            case closed
        }

        fileprivate let base: Base

        /// No ledger file at the path, and the caller asked not to create one.
        public static let noLedger = Code(base: .noLedger)
        /// The file or its directory could not be opened or created.
        public static let cannotOpen = Code(base: .cannotOpen)
        /// The file is not a Tagwave ledger (not SQLite, or another application's database).
        public static let notALedger = Code(base: .notALedger)
        /// A migration applied to this ledger was edited afterwards; the ledger refuses to open.
        public static let migrationChanged = Code(base: .migrationChanged)
        /// The ledger has a migration this program does not know (it was migrated by a newer
        /// version); the ledger refuses to open.
        public static let migrationUnknown = Code(base: .migrationUnknown)
        /// Another process held the ledger's lock past the busy timeout. Retrying may succeed.
        public static let busy = Code(base: .busy)
        /// The disk is full; nothing of the failed call was recorded. Retrying after freeing
        /// space succeeds.
        public static let diskFull = Code(base: .diskFull)
        /// A value given to the ledger is malformed (e.g. a stream entry id).
        public static let invalidInput = Code(base: .invalidInput)
        /// A stored row holds a value this program cannot read.
        public static let unexpectedData = Code(base: .unexpectedData)
        /// Any other SQLite failure; ``LedgerError/underlying`` has SQLite's details.
        public static let database = Code(base: .database)
        /// The ledger was closed.
        public static let closed = Code(base: .closed)

        /// The code's name, e.g. `migrationChanged`.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong and what to do, as a sentence.
    public let message: String
    /// The ledger file involved.
    public let path: String
    /// SQLite's error, when SQLite reported the failure.
    public let underlying: SQLiteError?
    /// The source file that raised the error (`#fileID`).
    public let file: String
    /// The line that raised the error.
    public let line: Int

    init(
        _ code: Code,
        _ message: String,
        path: String,
        underlying: SQLiteError? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// The ledger error for an SQLite failure on the ledger at `path`.
    init(_ error: SQLiteError, path: String, file: String = #fileID, line: Int = #line) {
        switch error.code {
        case .busy, .locked:
            self.init(
                .busy,
                "the ledger \(path) stayed locked by another process past the busy timeout: retry; if it "
                    + "keeps happening, look for a process holding a long transaction or raise the busy timeout "
                    + "(\(error.message), SQLite code \(error.extendedResultCode)\(error.sql.map { " in `\($0.prefix(60))`" } ?? ""))",
                path: path,
                underlying: error,
                file: file,
                line: line
            )
        case .full:
            self.init(
                .diskFull,
                "the disk holding the ledger \(path) is full: free space; nothing of this batch was recorded "
                    + "and no event was acknowledged",
                path: path,
                underlying: error,
                file: file,
                line: line
            )
        case .cantOpen, .readonly:
            self.init(
                .cannotOpen,
                "cannot open the ledger \(path): \(error.message): \(error.hint)",
                path: path,
                underlying: error,
                file: file,
                line: line
            )
        case .notADatabase:
            self.init(
                .notALedger,
                "\(path) is not an SQLite database, so not a Tagwave ledger: check --ledger/TAGWAVE_LEDGER",
                path: path,
                underlying: error,
                file: file,
                line: line
            )
        default:
            self.init(.database, "the ledger \(path): \(error)", path: path, underlying: error, file: file, line: line)
        }
    }

    /// The message, e.g. `migrations/0001_initial.sql was changed after it was applied to …`.
    public var description: String { message }
}

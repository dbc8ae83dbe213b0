import Logging
import TagwaveSQLite
import _TagwaveThreads

/// The SQLite ledger: every event, handler outcome, tag invalidation, consumer offset and dead
/// letter, for audit and replay.
///
/// Open one per process with ``open(path:logger:options:)``; several processes (a pool of
/// workers, the CLI) can share one file: the ledger runs in WAL mode, readers never wait, and
/// every write transaction takes the write lock at its start (`BEGIN IMMEDIATE`), waiting up to
/// the busy timeout for another process's commit.
///
/// The SQLite connection lives on a thread the ledger owns, so its blocking disk I/O never runs on
/// Swift's cooperative pool; every method hops there and back. Calls from several tasks run one
/// after another.
///
/// ```swift
/// let ledger = try await Ledger.open(path: "/var/lib/tagwave/ledger.sqlite", logger: logger)
/// let commit = try await ledger.record(LedgerBatch(events: records, offsets: [offset]))
/// // acknowledge the batch's entries now: the outcomes are committed
/// await ledger.close()
/// ```
public final class Ledger: Sendable {
    /// The ledger file's path.
    public let path: String

    let logger: Logger
    private let thread: OwnedThread
    private let connection: LedgerConnection

    private init(path: String, logger: Logger, thread: OwnedThread, connection: LedgerConnection) {
        self.path = path
        self.logger = logger
        self.thread = thread
        self.connection = connection
    }

    deinit {
        thread.submit { [connection] in connection.close() }
        thread.shutdown()
    }

    /// Opens the ledger at `path`, applying pending migrations.
    ///
    /// Sets WAL mode, `synchronous` per ``LedgerOptions/durability``, the busy timeout and
    /// foreign keys; verifies that no applied migration was edited and that none is unknown to
    /// this program; applies the pending ones, each in its own transaction (safe when several
    /// processes open a fresh file at once).
    ///
    /// - Parameters:
    ///   - path: the ledger file. Its directory must exist.
    ///   - logger: where the ledger logs (migrations applied, warnings).
    ///   - options: see ``LedgerOptions``.
    /// - Throws: ``LedgerError``: `noLedger` when the file is missing and
    ///   ``LedgerOptions/createIfMissing`` is false; `cannotOpen`; `notALedger`;
    ///   `migrationChanged` or `migrationUnknown`, naming the migration file; `busy`.
    public static func open(path: String, logger: Logger, options: LedgerOptions = .init()) async throws -> Ledger {
        let thread = OwnedThread(name: "tagwave-ledger")
        do {
            let connection = try await thread.run {
                try LedgerConnection.open(path: path, options: options, logger: logger)
            }
            return Ledger(path: path, logger: logger, thread: thread, connection: connection)
        } catch {
            thread.shutdown()
            throw error
        }
    }

    /// Closes the connection. Later calls throw ``LedgerError/Code/closed``; calling it again
    /// does nothing.
    public func close() async {
        _ = try? await thread.run { [connection] in connection.close() }
        thread.shutdown()
    }

    /// Every migration this program carries, applied or pending, in version order.
    ///
    /// - Throws: ``LedgerError``.
    public func migrationStatus() async throws -> [MigrationStatus] {
        try await withDatabase { [path, logger] database in
            try LedgerMigrator(database: database, path: path, logger: logger).status()
        }
    }

    /// Runs `body` with the database on the ledger's thread, turning SQLite's errors into
    /// ``LedgerError``s.
    func withDatabase<T: Sendable>(
        file: String = #fileID,
        line: Int = #line,
        _ body: @escaping @Sendable (SQLiteDatabase) throws -> T
    ) async throws -> T {
        let path = self.path
        do {
            return try await thread.run { [connection] in
                guard let database = connection.database else {
                    throw LedgerError(.closed, "the ledger \(path) was closed: open it again", path: path)
                }
                // No statement outlives its job on a row (see SQLiteDatabase.resetActiveStatements()).
                defer { database.resetActiveStatements() }
                do {
                    return try body(database)
                } catch let error as SQLiteError {
                    throw LedgerError(error, path: path, file: file, line: line)
                }
            }
        } catch is OwnedThreadError {
            throw LedgerError(
                .closed, "the ledger \(path) was closed: open it again", path: path, file: file, line: line)
        }
    }
}

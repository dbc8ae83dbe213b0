import Foundation
import Logging
import TagwaveSQLite

/// The ledger's SQLite connection, opened and configured, with its migrations applied.
///
/// `@unchecked Sendable`: an instance crosses from the ledger's thread to the awaiting task and
/// back only as a reference to pass along. `database` is created, used and closed only inside jobs
/// on the ledger's one `OwnedThread`, which runs its jobs one after another, so no two threads
/// ever touch the connection at the same time.
final class LedgerConnection: @unchecked Sendable {
    private(set) var database: SQLiteDatabase?

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Opens the ledger at `path`: file checks, pragmas, migrations. Runs on the ledger's thread.
    static func open(path: String, options: LedgerOptions, logger: Logger) throws -> LedgerConnection {
        try checkLocation(path: path, options: options)
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(
                path: path,
                flags: options.createIfMissing ? [.readWrite, .create, .noMutex] : [.readWrite, .noMutex]
            )
        } catch let error as SQLiteError {
            throw LedgerError(error, path: path)
        }
        do {
            try configure(database, path: path, options: options, logger: logger)
            let migrator = LedgerMigrator(database: database, path: path, logger: logger)
            let applied = try migrator.prepare(applyPending: options.applyMigrations)
            logger.debug(
                "ledger opened",
                metadata: [
                    "tagwave.ledger.path": "\(path)",
                    "tagwave.ledger.migrations_applied": "\(applied.map(\.fileName))",
                ]
            )
            return LedgerConnection(database: database)
        } catch let error as SQLiteError {
            database.close()
            throw LedgerError(error, path: path)
        } catch {
            database.close()
            throw error
        }
    }

    /// Closes the connection; later jobs see a closed ledger.
    func close() {
        database?.close()
        database = nil
    }

    private static func checkLocation(path: String, options: LedgerOptions) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw LedgerError(
                    .cannotOpen,
                    "\(path) is a directory: point --ledger/TAGWAVE_LEDGER at a file, e.g. \(path)/tagwave.sqlite",
                    path: path
                )
            }
            return
        }
        guard options.createIfMissing else {
            throw LedgerError(
                .noLedger,
                "no ledger at \(path): run `tagwave migrate --ledger \(path)` or point --ledger/TAGWAVE_LEDGER "
                    + "at the worker's ledger",
                path: path
            )
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LedgerError(
                .cannotOpen,
                "cannot create the ledger \(path): the directory \(directory) does not exist; "
                    + "create it (mkdir -p \(directory)) or choose another path",
                path: path
            )
        }
    }

    private static func configure(
        _ database: SQLiteDatabase,
        path: String,
        options: LedgerOptions,
        logger: Logger
    ) throws {
        database.setBusyTimeout(options.busyTimeout)
        try database.execute("PRAGMA foreign_keys = ON")
        let mode = try retryingWhileBusy(until: .now + options.busyTimeout) {
            try database.queryText("PRAGMA journal_mode = WAL")
        }
        if mode?.lowercased() != "wal" {
            logger.warning(
                "the ledger is not in WAL mode: several processes sharing it will wait for each other",
                metadata: ["tagwave.ledger.path": "\(path)", "tagwave.ledger.journal_mode": "\(mode ?? "unknown")"]
            )
        }
        switch options.durability {
        case .survivesProcessCrash: try database.execute("PRAGMA synchronous = NORMAL")
        case .survivesPowerLoss: try database.execute("PRAGMA synchronous = FULL")
        }
        // Truncate the WAL file after checkpoints past 64 MiB, so one burst does not keep it large.
        try database.execute("PRAGMA journal_size_limit = 67108864")
    }

    /// Switching to WAL needs a moment of exclusive access, and SQLite reports a conflict there
    /// without calling the busy handler: retry it like the busy timeout would.
    private static func retryingWhileBusy<T>(
        until deadline: ContinuousClock.Instant,
        _ body: () throws -> T
    ) throws -> T {
        while true {
            do {
                return try body()
            } catch let error as SQLiteError where (error.code == .busy || error.code == .locked) && .now < deadline {
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
    }
}

extension SQLiteDatabase {
    /// The first column of the first row of `sql`, as text.
    func queryText(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        guard try statement.step() == .row else { return nil }
        return statement.string(at: 0)
    }
}

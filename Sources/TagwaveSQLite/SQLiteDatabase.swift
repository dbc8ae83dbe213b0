import CSQLite

/// One SQLite connection: open a file, run scripts, prepare statements, run transactions.
///
/// A thin layer over SQLite's C API that turns result codes into ``SQLiteError``s and keeps
/// prepared statements cached by their SQL text, so hot inserts are parsed once.
///
/// ## Threading
/// A database handle is confined to one thread: it is not `Sendable`, and every call on it (and on
/// the statements it prepared) must come from the thread that owns it. Tagwave's ledger keeps its
/// handle on an `OwnedThread` from `_TagwaveThreads`, so SQLite's blocking calls (disk I/O, waiting
/// for another process's lock) never run on Swift's cooperative thread pool. Because of that
/// confinement the connection is opened with ``OpenFlags/noMutex`` by default: SQLite then skips
/// its own per-call locking.
///
/// ```swift
/// let database = try SQLiteDatabase(path: "/var/lib/tagwave/ledger.sqlite")
/// try database.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT) STRICT")
/// try database.transaction(.immediate) {
///     let insert = try database.cachedStatement("INSERT INTO notes (body) VALUES (?)")
///     try insert.bind("hello", at: 1)
///     try insert.execute()
/// }
/// ```
public final class SQLiteDatabase {
    /// The path the database was opened with.
    public let path: String

    let handle: SQLiteHandle
    private var cache: [String: SQLiteStatement] = [:]
    private var busyTimeoutStorage: Duration = .zero

    /// Opens (and with ``OpenFlags/create`` creates) the database file at `path`.
    ///
    /// The parent directory is never created. Extended result codes are switched on.
    ///
    /// - Parameters:
    ///   - path: a file path, `:memory:`, or a `file:` URI when `flags` contains ``OpenFlags/uri``.
    ///   - flags: how to open; ``OpenFlags/default`` reads, writes and creates.
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/cantOpen`` when the file or directory is
    ///   missing or not accessible).
    public init(path: String, flags: OpenFlags = .default) throws {
        _ = Self.processConfiguration
        var pointer: OpaquePointer?
        let resultCode = sqlite3_open_v2(path, &pointer, flags.rawValue | SQLITE_OPEN_EXRESCODE, nil)
        guard resultCode == SQLITE_OK, let pointer else {
            let message = pointer.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "could not open"
            let extendedCode = pointer.map { sqlite3_extended_errcode($0) } ?? resultCode
            sqlite3_close_v2(pointer)
            throw SQLiteError(resultCode: extendedCode, message: "\(message): \(path)")
        }
        sqlite3_extended_result_codes(pointer, 1)
        self.path = path
        self.handle = SQLiteHandle(pointer: pointer)
    }

    deinit {
        close()
    }

    /// Process-wide SQLite settings, made once before the first connection opens: memory
    /// statistics off (they take a global mutex around every allocation, a cost on every insert;
    /// `sqlite3_memory_used()` then reports 0). No effect when SQLite was initialized earlier.
    private static let processConfiguration: Void = {
        _ = tagwave_sqlite_disable_memory_statistics()
    }()

    /// True until ``close()``.
    public var isOpen: Bool { handle.pointer != nil }

    /// Finalizes the cached statements and closes the connection. Calling it again does nothing.
    ///
    /// Statements from ``prepare(_:)`` that are still alive keep SQLite's connection object until
    /// they are released; using one after `close()` throws ``SQLiteError/Code/misuse``.
    public func close() {
        guard let pointer = handle.pointer else { return }
        for statement in cache.values {
            statement.finalize()
        }
        cache.removeAll()
        handle.pointer = nil
        sqlite3_close_v2(pointer)
    }

    /// Runs a script of one or more `;`-separated statements, discarding any rows.
    ///
    /// Use it for schema changes and pragmas without results; use ``prepare(_:)`` for anything
    /// with parameters (never build SQL from values).
    ///
    /// - Throws: ``SQLiteError`` naming the statement that failed; statements before it stay
    ///   executed (run the script in a ``transaction(_:_:)`` to make it all-or-nothing).
    public func execute(_ sql: String) throws {
        let pointer = try openPointer(sql: sql)
        try sql.withCString { start in
            var next: UnsafePointer<CChar>? = start
            while let current = next, current.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let prepared = sqlite3_prepare_v2(pointer, current, -1, &statement, &tail)
                guard prepared == SQLITE_OK else {
                    throw SQLiteError(
                        resultCode: prepared,
                        handle: pointer,
                        sql: String(cString: current),
                        file: #fileID,
                        line: #line
                    )
                }
                next = tail
                guard let statement else { continue }  // only whitespace or a comment
                defer { sqlite3_finalize(statement) }
                var stepped = sqlite3_step(statement)
                while stepped == SQLITE_ROW {
                    stepped = sqlite3_step(statement)
                }
                guard stepped == SQLITE_DONE else {
                    throw SQLiteError(
                        resultCode: stepped,
                        handle: pointer,
                        sql: String(cString: sqlite3_sql(statement)),
                        file: #fileID,
                        line: #line
                    )
                }
            }
        }
    }

    /// Compiles one statement. The caller owns it; it is finalized when released.
    ///
    /// - Throws: ``SQLiteError`` for a syntax error, a missing table or column.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        let pointer = try openPointer(sql: sql)
        var statement: OpaquePointer?
        let resultCode = sqlite3_prepare_v3(pointer, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard resultCode == SQLITE_OK else {
            throw SQLiteError(resultCode: resultCode, handle: pointer, sql: sql, file: #fileID, line: #line)
        }
        guard let statement else {
            throw SQLiteError(resultCode: SQLITE_MISUSE, message: "the SQL holds no statement", sql: sql)
        }
        return SQLiteStatement(pointer: statement, handle: handle)
    }

    /// The statement for `sql` from this connection's cache, compiled on first use.
    ///
    /// It is reset (ready to bind and step) each time it is handed out. Bindings from its previous
    /// use remain until rebound or cleared with ``SQLiteStatement/clearBindings()``. Use it for
    /// statements run again and again with different parameters; the cache holds one per SQL
    /// text, so build its key from fixed SQL, never from values.
    ///
    /// - Throws: ``SQLiteError`` when the statement does not compile.
    public func cachedStatement(_ sql: String) throws -> SQLiteStatement {
        if let statement = cache[sql] {
            statement.resetIgnoringError()
            return statement
        }
        let statement = try prepare(sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` in a transaction: committed when `body` returns, rolled back when it throws.
    ///
    /// Writers should use ``TransactionKind/immediate`` (the default): it takes the write lock at
    /// `BEGIN`, waiting up to the busy timeout, so two processes never deadlock upgrading a read
    /// transaction to a write. Transactions do not nest.
    ///
    /// - Throws: what `body` throws, or ``SQLiteError`` from `BEGIN` or `COMMIT` (``SQLiteError/Code/busy``
    ///   when another process kept the lock past the busy timeout).
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try cachedStatement(kind.beginSQL).execute()
        do {
            let result = try body()
            try cachedStatement("COMMIT").execute()
            return result
        } catch {
            if isInTransaction {
                try? cachedStatement("ROLLBACK").execute()
            }
            throw error
        }
    }

    /// Rewinds every statement of this connection that is still on a row (stepped, not yet reset).
    ///
    /// A statement left on a row keeps a read transaction open: in WAL mode the connection then
    /// stays on that snapshot, and once another connection commits, this one's next write fails
    /// with `SQLITE_BUSY_SNAPSHOT` whatever the busy timeout, until the statement is reset; WAL
    /// checkpoints cannot pass it either. Callers that run jobs on a connection call this after
    /// each job, so a statement a job forgot to reset never outlives it.
    public func resetActiveStatements() {
        guard let pointer = handle.pointer else { return }
        var statement = sqlite3_next_stmt(pointer, nil)
        while let current = statement {
            if sqlite3_stmt_busy(current) != 0 { sqlite3_reset(current) }
            statement = sqlite3_next_stmt(pointer, current)
        }
    }

    /// True while a transaction is open on this connection.
    public var isInTransaction: Bool {
        guard let pointer = handle.pointer else { return false }
        return sqlite3_get_autocommit(pointer) == 0
    }

    /// How long a statement waits for another connection's lock before failing with
    /// ``SQLiteError/Code/busy``. Zero (the default) fails at once.
    ///
    /// Set with ``setBusyTimeout(_:)``.
    public var busyTimeout: Duration { busyTimeoutStorage }

    /// Sets ``busyTimeout``, rounded down to milliseconds (at most about 24 days).
    public func setBusyTimeout(_ timeout: Duration) {
        let milliseconds = max(0, min(Int64(Int32.max), timeout.milliseconds))
        busyTimeoutStorage = .milliseconds(milliseconds)
        if let pointer = handle.pointer {
            sqlite3_busy_timeout(pointer, Int32(milliseconds))
        }
    }

    /// The rowid of the latest successful `INSERT` on this connection (0 if none).
    public var lastInsertRowID: Int64 {
        guard let pointer = handle.pointer else { return 0 }
        return sqlite3_last_insert_rowid(pointer)
    }

    /// The number of rows changed by the latest `INSERT`, `UPDATE` or `DELETE`.
    ///
    /// An `INSERT … ON CONFLICT DO NOTHING` that did nothing changes 0 rows.
    public var changes: Int {
        guard let pointer = handle.pointer else { return 0 }
        return Int(sqlite3_changes64(pointer))
    }

    /// The number of rows changed since the connection opened.
    public var totalChanges: Int {
        guard let pointer = handle.pointer else { return 0 }
        return Int(sqlite3_total_changes64(pointer))
    }

    private func openPointer(sql: String?) throws -> OpaquePointer {
        guard let pointer = handle.pointer else {
            throw SQLiteError(
                resultCode: SQLITE_MISUSE,
                message: "the database \(path) was closed",
                sql: sql
            )
        }
        return pointer
    }
}

/// The connection pointer shared by a database and its statements, so a statement can tell that
/// its database was closed. Confined to the database's thread like the database itself.
final class SQLiteHandle {
    var pointer: OpaquePointer?

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1000 else { return .max }
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

import CSQLite

/// An error SQLite reported: which kind, SQLite's own message, the statement, and what to do.
///
/// Match on ``code`` (`error.code == .busy`); ``description`` is a sentence a person can act on.
/// Statement text is truncated and never holds bound values, so secrets in parameters never
/// appear in an error.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure: SQLite's primary result code as a Swift value.
    ///
    /// New kinds may be added: match with `==` and keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: Sendable, Hashable {
            case error
            case busy
            case locked
            case interrupt
            case constraint
            case corrupt
            case notADatabase
            case readonly
            case full
            case cantOpen
            case ioErr
            case tooBig
            case misuse
            case range
            case other(Int32)
        }

        fileprivate let base: Base

        /// A generic SQL error: a syntax error, a missing table or column (`SQLITE_ERROR`).
        public static let error = Code(base: .error)
        /// Another connection holds a lock and the busy timeout ran out (`SQLITE_BUSY`).
        public static let busy = Code(base: .busy)
        /// A lock conflict within this connection (`SQLITE_LOCKED`).
        public static let locked = Code(base: .locked)
        /// The operation was interrupted (`SQLITE_INTERRUPT`).
        public static let interrupt = Code(base: .interrupt)
        /// A `UNIQUE`, `NOT NULL`, `CHECK` or foreign-key constraint failed (`SQLITE_CONSTRAINT`).
        public static let constraint = Code(base: .constraint)
        /// The database file is damaged (`SQLITE_CORRUPT`).
        public static let corrupt = Code(base: .corrupt)
        /// The file is not an SQLite database (`SQLITE_NOTADB`).
        public static let notADatabase = Code(base: .notADatabase)
        /// The database or its directory is read-only (`SQLITE_READONLY`).
        public static let readonly = Code(base: .readonly)
        /// The disk is full (`SQLITE_FULL`).
        public static let full = Code(base: .full)
        /// The file could not be opened or created (`SQLITE_CANTOPEN`).
        public static let cantOpen = Code(base: .cantOpen)
        /// The operating system reported an I/O error (`SQLITE_IOERR`).
        public static let ioErr = Code(base: .ioErr)
        /// A string or blob exceeds SQLite's size limit (`SQLITE_TOOBIG`).
        public static let tooBig = Code(base: .tooBig)
        /// The API was used incorrectly, e.g. a statement used after its database was closed
        /// (`SQLITE_MISUSE`).
        public static let misuse = Code(base: .misuse)
        /// A parameter or column index is out of range (`SQLITE_RANGE`).
        public static let range = Code(base: .range)

        /// Any other primary result code.
        public static func other(_ primaryResultCode: Int32) -> Code {
            Code(resultCode: primaryResultCode)
        }

        /// The code for an SQLite result code (primary or extended).
        init(resultCode: Int32) {
            switch resultCode & 0xFF {
            case SQLITE_ERROR: base = .error
            case SQLITE_BUSY: base = .busy
            case SQLITE_LOCKED: base = .locked
            case SQLITE_INTERRUPT: base = .interrupt
            case SQLITE_CONSTRAINT: base = .constraint
            case SQLITE_CORRUPT: base = .corrupt
            case SQLITE_NOTADB: base = .notADatabase
            case SQLITE_READONLY: base = .readonly
            case SQLITE_FULL: base = .full
            case SQLITE_CANTOPEN: base = .cantOpen
            case SQLITE_IOERR: base = .ioErr
            case SQLITE_TOOBIG: base = .tooBig
            case SQLITE_MISUSE: base = .misuse
            case SQLITE_RANGE: base = .range
            case let other: base = .other(other)
            }
        }

        private init(base: Base) {
            self.base = base
        }

        /// The code's name, e.g. `busy`.
        public var description: String {
            switch base {
            case .error: "error"
            case .busy: "busy"
            case .locked: "locked"
            case .interrupt: "interrupt"
            case .constraint: "constraint"
            case .corrupt: "corrupt"
            case .notADatabase: "notADatabase"
            case .readonly: "readonly"
            case .full: "full"
            case .cantOpen: "cantOpen"
            case .ioErr: "ioErr"
            case .tooBig: "tooBig"
            case .misuse: "misuse"
            case .range: "range"
            case .other(let code): "other(\(code))"
            }
        }

        /// What a person should do about an error of this kind.
        var hint: String {
            switch base {
            case .error: "check the SQL statement"
            case .busy:
                "another process held the database lock longer than the busy timeout: "
                    + "retry, raise the busy timeout, or look for a long-running transaction"
            case .locked: "a statement of this connection is still running: reset or finish it first"
            case .interrupt: "the operation was interrupted: retry it"
            case .constraint: "the row breaks a constraint of the schema: check the values"
            case .corrupt:
                "the database file is damaged: restore it from a backup, or move it aside and start a new one"
            case .notADatabase: "the file is not an SQLite database: check the path"
            case .readonly:
                "the file or its directory is read-only: check permissions of both "
                    + "(SQLite needs to create -wal and -shm files next to the database)"
            case .full: "the disk is full: free space; no event was acknowledged"
            case .cantOpen: "check that the directory exists and is writable"
            case .ioErr: "the operating system reported an I/O error: check the disk and the file system"
            case .tooBig: "a value is larger than SQLite accepts: store less"
            case .misuse: "this is a bug in the caller: the SQLite API was used incorrectly"
            case .range: "this is a bug in the caller: a parameter or column index is out of range"
            case .other: "see SQLite's message"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// SQLite's extended result code, e.g. 2067 (`SQLITE_CONSTRAINT_UNIQUE`), for diagnostics.
    public let extendedResultCode: Int32
    /// SQLite's message, e.g. `UNIQUE constraint failed: events.event_id`.
    public let message: String
    /// The statement that failed, truncated to 200 characters; nil when no statement was involved.
    public let sql: String?
    /// The source file that raised the error (`#fileID`).
    public let file: String
    /// The line that raised the error.
    public let line: Int

    /// What a person should do about this error.
    public var hint: String { code.hint }

    /// An error with its context.
    ///
    /// - Parameters:
    ///   - resultCode: SQLite's result code (primary or extended).
    ///   - message: SQLite's message or a description of the failure.
    ///   - sql: the statement involved, if any; it is truncated here.
    public init(
        resultCode: Int32,
        message: String,
        sql: String? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = Code(resultCode: resultCode)
        self.extendedResultCode = resultCode
        self.message = message
        self.sql = sql.map(Self.truncate)
        self.file = file
        self.line = line
    }

    /// The error SQLite recorded on `handle` for `resultCode`.
    init(resultCode: Int32, handle: OpaquePointer?, sql: String?, file: String, line: Int) {
        let message: String
        if let handle, let text = sqlite3_errmsg(handle) {
            message = String(cString: text)
        } else if let text = sqlite3_errstr(resultCode) {
            message = String(cString: text)
        } else {
            message = "result code \(resultCode)"
        }
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? resultCode
        // The connection's extended code belongs to the latest failure; keep it only when it
        // refines this one.
        let code = (extended & 0xFF) == (resultCode & 0xFF) ? extended : resultCode
        self.init(resultCode: code, message: message, sql: sql, file: file, line: line)
    }

    /// `SQLite <code>: <message> in `<sql>`: <hint>`.
    public var description: String {
        var text = "SQLite \(code): \(message)"
        if let sql {
            text += " (in `\(sql)`)"
        }
        return text + ": " + hint
    }

    private static func truncate(_ sql: String) -> String {
        let flattened = sql.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.joined(separator: " ")
        guard flattened.count > 200 else { return flattened }
        return flattened.prefix(199) + "…"
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

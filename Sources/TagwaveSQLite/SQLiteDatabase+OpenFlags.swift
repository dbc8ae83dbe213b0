import CSQLite

extension SQLiteDatabase {
    /// How ``SQLiteDatabase/init(path:flags:)`` opens a file: `SQLITE_OPEN_*` flags.
    public struct OpenFlags: OptionSet, Sendable {
        /// The `SQLITE_OPEN_*` bits.
        public let rawValue: Int32

        /// Flags from `SQLITE_OPEN_*` bits.
        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// Open for reading only (`SQLITE_OPEN_READONLY`).
        public static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        /// Open for reading and writing (`SQLITE_OPEN_READWRITE`).
        public static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        /// Create the file when it is missing; its directory must exist (`SQLITE_OPEN_CREATE`).
        public static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        /// Interpret the path as a `file:` URI (`SQLITE_OPEN_URI`).
        public static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)
        /// Skip SQLite's per-connection mutex (`SQLITE_OPEN_NOMUTEX`): safe because a handle is
        /// only ever used by one thread at a time.
        public static let noMutex = OpenFlags(rawValue: SQLITE_OPEN_NOMUTEX)
        /// Refuse to open a path that is a symbolic link (`SQLITE_OPEN_NOFOLLOW`).
        public static let noFollow = OpenFlags(rawValue: SQLITE_OPEN_NOFOLLOW)

        /// Read, write, create when missing, no per-call mutex.
        public static let `default`: OpenFlags = [.readWrite, .create, .noMutex]
    }
}

import Foundation
import Synchronization
import TagwaveSQLite
import _TagwaveThreads

/// The service's own database: one SQLite table of sessions, through the project's SQLite module.
///
/// The connection lives on a thread of its own (SQLite blocks), as the ledger's does; every call
/// hops there and back.
final class SessionStore: Sendable {
    private let thread: OwnedThread
    private let connection: Connection
    /// Database reads so far: the demo shows that a cache hit does not read.
    let reads = Atomic<Int>(0)

    /// The SQLite connection, touched only by jobs on ``thread``.
    ///
    /// `@unchecked Sendable`: the `SQLiteDatabase` is created, used and closed only on the store's
    /// one `OwnedThread`, never concurrently.
    private final class Connection: @unchecked Sendable {
        var database: SQLiteDatabase?
    }

    private init(thread: OwnedThread, connection: Connection) {
        self.thread = thread
        self.connection = connection
    }

    /// Opens (and creates, with its folder) the database at `path`.
    static func open(path: String) async throws -> SessionStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let thread = OwnedThread(name: "sessions-db")
        let connection = Connection()
        try await thread.run {
            let database = try SQLiteDatabase(path: path)
            database.setBusyTimeout(.seconds(5))
            try database.execute("PRAGMA journal_mode = WAL")
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS sessions (
                    id TEXT PRIMARY KEY,
                    teacher_id TEXT NOT NULL,
                    school_id TEXT,
                    title TEXT NOT NULL,
                    starts_at TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS sessions_by_teacher ON sessions (teacher_id, created_at);
                """)
            connection.database = database
        }
        return SessionStore(thread: thread, connection: connection)
    }

    /// A teacher's sessions, oldest first.
    func sessions(teacher: String) async throws -> [Session] {
        reads.add(1, ordering: .relaxed)
        return try await thread.run { [connection] in
            guard let database = connection.database else { throw StoreClosed() }
            let select = try database.cachedStatement(
                "SELECT id, teacher_id, school_id, title, starts_at, created_at FROM sessions WHERE teacher_id = ? ORDER BY created_at, id"
            )
            try select.bind(teacher, at: 1)
            defer { try? select.reset() }
            var sessions: [Session] = []
            while try select.step() == .row {
                sessions.append(
                    Session(
                        id: select.string(at: 0) ?? "", teacherId: select.string(at: 1) ?? "",
                        schoolId: select.string(at: 2),
                        title: select.string(at: 3) ?? "", startsAt: select.string(at: 4),
                        createdAt: select.string(at: 5) ?? ""))
            }
            return sessions
        }
    }

    /// Inserts a session and returns it.
    func create(_ new: NewSession) async throws -> Session {
        let session = Session(
            id: UUID().uuidString.lowercased(), teacherId: new.teacherId, schoolId: new.schoolId, title: new.title,
            startsAt: new.startsAt,
            createdAt: Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        try await thread.run { [connection] in
            guard let database = connection.database else { throw StoreClosed() }
            let insert = try database.cachedStatement(
                "INSERT INTO sessions (id, teacher_id, school_id, title, starts_at, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            )
            defer { try? insert.reset() }
            try insert.bind(session.id, at: 1)
            try insert.bind(session.teacherId, at: 2)
            try insert.bind(session.schoolId, at: 3)
            try insert.bind(session.title, at: 4)
            try insert.bind(session.startsAt, at: 5)
            try insert.bind(session.createdAt, at: 6)
            _ = try insert.step()
        }
        return session
    }

    /// Closes the database.
    func close() async {
        _ = try? await thread.run { [connection] in
            connection.database?.close()
            connection.database = nil
        }
        thread.shutdown()
    }

    struct StoreClosed: Error, CustomStringConvertible {
        var description: String { "the sessions database is closed" }
    }
}

import Foundation
import TagwaveSQLite
import Testing

@Suite("SQLite wrapper")
struct SQLiteDatabaseTests {
    @Test func valuesRoundTripIncludingEmptyTextAndEmptyBlobAsNotNull() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT) STRICT")
        let insert = try database.cachedStatement("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
        try insert.bind(Int64.max, at: 1)
        try insert.bind(2.5, at: 2)
        try insert.bind("", at: 3)
        try insert.bind([UInt8](), at: 4)
        try insert.bind(nil as String?, at: 5)
        try insert.execute()
        try insert.bind(-1, at: 1)
        try insert.bind(0.0, at: 2)
        try insert.bind("héllo\0wörld", at: 3)
        try insert.bind([0, 255, 7], at: 4)
        try insert.bind("x", at: 5)
        try insert.execute()
        #expect(database.changes == 1)
        #expect(database.lastInsertRowID == 2)

        let select = try database.prepare("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(try select.step() == .row)
        #expect(select.int64(at: 0) == .max)
        #expect(select.double(at: 1) == 2.5)
        #expect(select.string(at: 2) == "")
        #expect(select.blob(at: 3) == [])
        #expect(select.isNull(at: 4) && select.string(at: 4) == nil)
        #expect(try select.step() == .row)
        #expect(select.int(at: 0) == -1)
        #expect(select.string(at: 2) == "héllo\0wörld")
        #expect(select.blob(at: 3) == [0, 255, 7])
        #expect(try select.step() == .done)
    }

    @Test func failedTransactionRollsBackAndConstraintErrorsSaySo() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT")
        let error = try #require(throws: SQLiteError.self) {
            try database.transaction(.immediate) {
                try database.execute("INSERT INTO t (name) VALUES ('a')")
                try database.execute("INSERT INTO t (name) VALUES ('a')")
            }
        }
        #expect(error.code == .constraint)
        #expect(error.extendedResultCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(error.message.contains("UNIQUE constraint failed: t.name"))
        #expect(error.sql == "INSERT INTO t (name) VALUES ('a')")
        #expect(!database.isInTransaction)
        let count = try database.prepare("SELECT count(*) FROM t")
        try count.step()
        #expect(count.int(at: 0) == 0)
    }

    @Test func openingInAMissingDirectorySaysToCheckTheDirectory() throws {
        let error = try #require(throws: SQLiteError.self) {
            try SQLiteDatabase(path: "/nonexistent-tagwave-dir/x.sqlite")
        }
        #expect(error.code == .cantOpen)
        #expect(error.description.contains("/nonexistent-tagwave-dir/x.sqlite"))
        #expect(error.description.hasSuffix("check that the directory exists and is writable"))
    }

    @Test func syntaxErrorNamesTheStatementOfTheScript() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let error = try #require(throws: SQLiteError.self) {
            try database.execute("CREATE TABLE a (x); SELEC 1;")
        }
        #expect(error.code == .error)
        #expect(error.sql == "SELEC 1;")
    }

    @Test func statementUsedAfterItsDatabaseClosedThrowsMisuse() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let statement = try database.prepare("SELECT 1")
        database.close()
        database.close()
        let error = try #require(throws: SQLiteError.self) { try statement.step() }
        #expect(error.code == .misuse)
        #expect(!database.isOpen)
    }

    @Test func busyWriterFailsAfterTheBusyTimeout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-busy-\(UUID()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let holder = try SQLiteDatabase(path: path)
        let waiter = try SQLiteDatabase(path: path)
        try holder.execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER) STRICT")
        waiter.setBusyTimeout(.milliseconds(50))
        #expect(waiter.busyTimeout == .milliseconds(50))
        try holder.execute("BEGIN IMMEDIATE")
        let error = try #require(throws: SQLiteError.self) {
            try waiter.transaction(.immediate) {}
        }
        #expect(error.code == .busy)
        try holder.execute("COMMIT")
        try waiter.transaction(.immediate) { try waiter.execute("INSERT INTO t VALUES (1)") }
    }
}

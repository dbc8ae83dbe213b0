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

    @Test func rowAfterRowEachParameterHoldsWhatWasLastBoundToIt() throws {
        // Bound bytes live in the statement's buffers, reused row after row (small values) or are
        // copied by SQLite (large ones): every row gets exactly its values.
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (k INTEGER, s TEXT, b BLOB, x)")
        let insert = try database.cachedStatement("INSERT INTO t VALUES (?, ?, ?, ?)")
        let long = String(repeating: "long text ", count: 500)  // past the statement's buffers: SQLite copies it
        let rows: [(Int64, String, [UInt8], String?)] = [
            (1, "same", [1, 2], "a"), (2, "same", [1, 2], "a"), (3, "longer than before", [1, 2, 3], nil),
            (4, "same", [1, 2], nil), (5, long, [], "b"), (6, long, [], "b"), (7, "", [9], "b"),
        ]
        for (key, text, blob, extra) in rows {
            try insert.bind(key, at: 1)
            try insert.bind(text, at: 2)
            try insert.bind(blob, at: 3)
            try insert.bind(extra, at: 4)
            try insert.execute()
        }
        // The same bytes as text, then as a blob, are two different values; the other parameters
        // keep what they hold.
        try insert.bind(8, at: 1)
        try insert.bind([UInt8]("same".utf8), at: 2)
        try insert.execute()
        // Cleared bindings are NULL, whatever was bound before.
        insert.clearBindings()
        try insert.bind(9, at: 1)
        try insert.execute()

        let select = try database.prepare("SELECT k, s, typeof(s), b, x FROM t ORDER BY k")
        var read: [(Int64, String?, String?, [UInt8]?, String?)] = []
        while try select.step() == .row {
            read.append((select.int64(at: 0), select.string(at: 1), select.string(at: 2), select.blob(at: 3), select.string(at: 4)))
        }
        #expect(read.count == 9)
        for (index, row) in rows.enumerated() {
            #expect(read[index].0 == row.0 && read[index].1 == row.1 && read[index].3 == row.2 && read[index].4 == row.3)
        }
        #expect(read[7].2 == "blob" && read[7].1 == "same" && read[7].3 == [9] && read[7].4 == "b")
        #expect(read[8].1 == nil && read[8].3 == nil && read[8].4 == nil)
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

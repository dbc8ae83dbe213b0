import Foundation
import TagwaveSQLite
import Testing

@testable import TagwaveLedger

@Suite("Ledger migrations")
struct LedgerMigrationTests {
    @Test func freshLedgerAppliesEveryEmbeddedMigration() async throws {
        try await withLedger { ledger, _ in
            let status = try await ledger.migrationStatus()
            #expect(status.map(\.name) == EmbeddedMigration.all.map(\.fileName))
            #expect(status.first?.name == "0001_initial.sql")
            #expect(status.allSatisfy { $0.isApplied })
        }
    }

    @Test func reopeningAppliesNoMigrationAgain() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            let first = try await Ledger.open(path: path, logger: quietLogger)
            let before = try await first.migrationStatus()
            await first.close()

            try await Task.sleep(for: .milliseconds(5))  // a re-application would record a later time
            let second = try await Ledger.open(path: path, logger: quietLogger)
            let after = try await second.migrationStatus()
            await second.close()

            #expect(after == before)
            #expect(try rowCount(path, "SELECT count(*) FROM schema_migrations") == EmbeddedMigration.all.count)
        }
    }

    @Test func editedAppliedMigrationRefusesToOpenNamingTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            try await Ledger.open(path: path, logger: quietLogger).close()
            // The same as editing the file after release: the recorded checksum no longer matches.
            try execute(
                path,
                "UPDATE schema_migrations SET checksum = '\(String(repeating: "ab", count: 32))' WHERE version = 1")

            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger)
            }
            #expect(error.code == .migrationChanged)
            #expect(
                error.description.hasPrefix("migrations/0001_initial.sql was changed after it was applied to \(path)"))
            #expect(error.description.contains("ababababab"))
            #expect(error.description.contains("add a new numbered file instead"))
        }
    }

    @Test func migrationUnknownToThisProgramRefusesToOpenNamingIt() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            try await Ledger.open(path: path, logger: quietLogger).close()
            // A newer tagwave migrated this ledger.
            try execute(
                path,
                "INSERT INTO schema_migrations VALUES (9999, '9999_from_the_future.sql', 'ff', 0)"
            )

            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger)
            }
            #expect(error.code == .migrationUnknown)
            #expect(error.description.contains("migrations/9999_from_the_future.sql"))
        }
    }

    @Test func embeddedMigrationsAreTheFilesByteForByte() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(EmbeddedMigration.all.map(\.fileName) == names)
        for migration in EmbeddedMigration.all {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(migration.fileName))
            #expect(
                Array(migration.sql.utf8) == Array(bytes),
                """
                migrations/\(migration.fileName) differs from the copy built into TagwaveLedger: SwiftPM did not \
                re-embed it (a file added since the last build plan and then edited in place); run \
                `touch Package.swift` or build from clean
                """
            )
            #expect(migration.checksum == SHA256.hex(bytes))
        }
        #expect(EmbeddedMigration.all.map(\.version) == Array(1...EmbeddedMigration.all.count))
    }

    @Test func missingLedgerIsAnErrorWhenCreationIsOff() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("absent.sqlite").path
            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger, options: .init(createIfMissing: false))
            }
            #expect(error.code == .noLedger)
            #expect(
                error.description
                    == "no ledger at \(path): run `tagwave migrate --ledger \(path)` or point --ledger/TAGWAVE_LEDGER "
                    + "at the worker's ledger"
            )
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func missingDirectoryIsNamedAndNotCreated() async throws {
        try await withTemporaryDirectory { directory in
            let missing = directory.appendingPathComponent("no-such-dir")
            let path = missing.appendingPathComponent("ledger.sqlite").path
            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger)
            }
            #expect(error.code == .cannotOpen)
            #expect(error.description.contains("the directory \(missing.path) does not exist"))
            #expect(!FileManager.default.fileExists(atPath: missing.path))
        }
    }

    @Test func anotherApplicationsDatabaseIsNotTakenForALedger() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("app.sqlite").path
            try execute(path, "CREATE TABLE users (id INTEGER PRIMARY KEY)")
            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger)
            }
            #expect(error.code == .notALedger)
            #expect(error.description.contains("users"))
            #expect(try rowCount(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'") == 0)
        }
    }

    @Test func fileThatIsNotSQLiteIsNotALedger() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: path))
            let error = try await #require(throws: LedgerError.self) {
                try await Ledger.open(path: path, logger: quietLogger)
            }
            #expect(error.code == .notALedger)
        }
    }

    @Test func ledgerFileIsInWALModeAndMarkedAsATagwaveLedger() async throws {
        try await withLedger { ledger, _ in
            let database = try SQLiteDatabase(path: ledger.path, flags: [.readOnly])
            #expect(try database.queryText("PRAGMA journal_mode") == "wal")
            #expect(try database.queryText("PRAGMA application_id") == "\(LedgerMigrator.applicationID)")
            #expect(try database.queryText("PRAGMA user_version") == "\(EmbeddedMigration.all.count)")
        }
    }
}

/// Runs `sql` on the SQLite file at `path`, as another program would.
func execute(_ path: String, _ sql: String) throws {
    let database = try SQLiteDatabase(path: path)
    defer { database.close() }
    database.setBusyTimeout(.seconds(5))
    try database.execute(sql)
}

/// The integer `sql` returns from the SQLite file at `path`.
func rowCount(_ path: String, _ sql: String) throws -> Int {
    let database = try SQLiteDatabase(path: path, flags: [.readOnly])
    defer { database.close() }
    let statement = try database.prepare(sql)
    try statement.step()
    return statement.int(at: 0)
}

/// Column `column` of every row `sql` returns from the SQLite file at `path`, as text.
func rows(_ path: String, _ sql: String, column: Int32) throws -> [String] {
    let database = try SQLiteDatabase(path: path, flags: [.readOnly])
    defer { database.close() }
    let statement = try database.prepare(sql)
    var values: [String] = []
    while try statement.step() == .row {
        values.append(statement.string(at: column) ?? "")
    }
    return values
}

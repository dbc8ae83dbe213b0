import Logging
import TagwaveSQLite

/// Applies the embedded migrations to a ledger and verifies the applied ones.
///
/// Each migration runs in its own `BEGIN IMMEDIATE` transaction that first checks, under the
/// write lock, whether another process applied it meanwhile: processes opening a fresh ledger
/// at the same moment apply each migration exactly once. Runs on the ledger's thread.
struct LedgerMigrator {
    /// `PRAGMA application_id` of a Tagwave ledger: "TGWV".
    static let applicationID: Int32 = 0x5447_5756

    /// A row of `schema_migrations`.
    struct Applied {
        let version: Int
        let name: String
        let checksum: String
        let appliedAt: LedgerTimestamp
    }

    let database: SQLiteDatabase
    let path: String
    let logger: Logger
    var migrations: [EmbeddedMigration] = EmbeddedMigration.all

    /// Checks the file is a ledger (or empty), creates `schema_migrations`, verifies the applied
    /// migrations and, when `applyPending`, applies the others.
    ///
    /// - Returns: the migrations applied now.
    /// - Throws: ``LedgerError`` (`notALedger`, `migrationChanged`, `migrationUnknown`) or
    ///   `SQLiteError`.
    func prepare(applyPending: Bool) throws -> [EmbeddedMigration] {
        try checkIsLedger()
        try verify(appliedMigrations())
        guard applyPending else { return [] }
        var appliedNow: [EmbeddedMigration] = []
        for migration in migrations where try apply(migration) {
            appliedNow.append(migration)
        }
        return appliedNow
    }

    /// Every embedded migration with its state in this ledger.
    func status() throws -> [MigrationStatus] {
        let applied = Dictionary(
            try appliedMigrations().map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        return migrations.map { migration in
            MigrationStatus(
                version: migration.version,
                name: migration.fileName,
                checksum: migration.checksum,
                appliedAt: applied[migration.version]?.appliedAt
            )
        }
    }

    /// Refuses another application's database; creates `schema_migrations` in an empty one.
    private func checkIsLedger() throws {
        let applicationID = try database.queryText("PRAGMA application_id").flatMap { Int32($0) } ?? 0
        guard applicationID == 0 || applicationID == Self.applicationID else {
            throw LedgerError(
                .notALedger,
                "\(path) is another application's SQLite database (application_id \(applicationID)), not a "
                    + "Tagwave ledger: check --ledger/TAGWAVE_LEDGER",
                path: path
            )
        }
        let tables = try tableNames()
        if tables.contains("schema_migrations") { return }
        guard tables.isEmpty else {
            throw LedgerError(
                .notALedger,
                "\(path) is an SQLite database with tables (\(tables.prefix(5).joined(separator: ", "))) "
                    + "but no schema_migrations, so not a Tagwave ledger: check --ledger/TAGWAVE_LEDGER",
                path: path
            )
        }
        try database.transaction(.immediate) {
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version       INTEGER PRIMARY KEY,
                    name          TEXT    NOT NULL,
                    checksum      TEXT    NOT NULL,
                    applied_at_ms INTEGER NOT NULL
                ) STRICT;
                PRAGMA application_id = \(Self.applicationID);
                """
            )
        }
    }

    private func tableNames() throws -> [String] {
        let statement = try database.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        var names: [String] = []
        while try statement.step() == .row {
            names.append(statement.string(at: 0) ?? "")
        }
        return names
    }

    private func appliedMigrations() throws -> [Applied] {
        guard try tableNames().contains("schema_migrations") else { return [] }
        let statement = try database.prepare(
            "SELECT version, name, checksum, applied_at_ms FROM schema_migrations ORDER BY version"
        )
        var rows: [Applied] = []
        while try statement.step() == .row {
            rows.append(
                Applied(
                    version: statement.int(at: 0),
                    name: statement.string(at: 1) ?? "",
                    checksum: statement.string(at: 2) ?? "",
                    appliedAt: LedgerTimestamp(millisecondsSinceEpoch: statement.int64(at: 3))
                )
            )
        }
        return rows
    }

    /// Throws when an applied migration was edited, or is unknown to this program.
    private func verify(_ applied: [Applied]) throws {
        let embedded = Dictionary(migrations.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        var unknown: [Applied] = []
        for row in applied {
            guard let migration = embedded[row.version] else {
                unknown.append(row)
                continue
            }
            guard migration.checksum == row.checksum else {
                let renamed = migration.fileName == row.name ? "" : " (recorded as \(row.name))"
                throw LedgerError(
                    .migrationChanged,
                    "\(migration.displayPath)\(renamed) was changed after it was applied to \(path) "
                        + "(checksum \(row.checksum.prefix(12))… recorded, \(migration.checksum.prefix(12))… now): "
                        + "migrations are never edited after release; add a new numbered file instead",
                    path: path
                )
            }
        }
        if !unknown.isEmpty {
            let names = unknown.map { "migrations/\($0.name)" }.joined(separator: ", ")
            throw LedgerError(
                .migrationUnknown,
                "\(path) has \(names) applied, which this program does not have: a newer tagwave migrated this "
                    + "ledger; run that version (or newer) with it, never an older one",
                path: path
            )
        }
    }

    /// Applies `migration` unless it is applied already. Returns true when it applied it now.
    private func apply(_ migration: EmbeddedMigration) throws -> Bool {
        try database.transaction(.immediate) {
            let existing = try database.prepare(
                "SELECT version, name, checksum, applied_at_ms FROM schema_migrations WHERE version = ?"
            )
            try existing.bind(migration.version, at: 1)
            if try existing.step() == .row {
                let row = Applied(
                    version: existing.int(at: 0),
                    name: existing.string(at: 1) ?? "",
                    checksum: existing.string(at: 2) ?? "",
                    appliedAt: LedgerTimestamp(millisecondsSinceEpoch: existing.int64(at: 3))
                )
                try existing.reset()
                try verify([row])  // another process applied it meanwhile
                return false
            }
            do {
                try database.execute(migration.sql)
            } catch let error as SQLiteError {
                throw LedgerError(
                    .database,
                    "\(migration.displayPath) failed on \(path), nothing of it was applied: \(error)",
                    path: path,
                    underlying: error
                )
            }
            let insert = try database.prepare(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES (?, ?, ?, ?)"
            )
            try insert.bind(migration.version, at: 1)
            try insert.bind(migration.fileName, at: 2)
            try insert.bind(migration.checksum, at: 3)
            try insert.bind(LedgerTimestamp.now().millisecondsSinceEpoch, at: 4)
            try insert.execute()
            try database.execute("PRAGMA user_version = \(migration.version)")
            logger.info(
                "applied ledger migration",
                metadata: ["tagwave.ledger.path": "\(path)", "tagwave.ledger.migration": "\(migration.displayPath)"]
            )
            return true
        }
    }
}

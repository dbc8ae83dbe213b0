import Foundation
import TagwaveEvents
import TagwaveRedis
import TagwaveSQLite

/// One spooled event as read back from the spool file.
struct SpooledEvent: Sendable {
    /// The spool's sequence number (`seq`): the order events were spooled in.
    var sequence: Int64
    /// The stream it is to be appended to.
    var stream: String
    /// The entry's fields, as `XADD` sends them.
    var fields: [StreamField]
}

/// The spool's SQLite connection: schema, pragmas and the statements the publisher runs.
///
/// `@unchecked Sendable`: an instance crosses from the spool's thread to the awaiting task and
/// back only as a reference to pass along. `database` and `count` are created, read and changed
/// only inside jobs on the spool's one `OwnedThread`, which runs its jobs one after another, so no
/// two threads ever touch them at the same time.
final class SpoolConnection: @unchecked Sendable {
    /// Marks the file as a Tagwave publisher spool (`PRAGMA application_id`): ASCII `TWSP`.
    static let applicationID: Int32 = 0x5457_5350
    /// The schema's version (`PRAGMA user_version`).
    static let schemaVersion = 1

    let path: String
    private var database: SQLiteDatabase?
    private var closed = false
    /// Rows in the spool, kept exact by every change this connection commits (it is the only one:
    /// it holds the file's lock).
    private(set) var count = 0

    init(path: String) {
        self.path = path
    }

    /// Opens the file when it is not open yet, and returns the connection.
    ///
    /// The connection takes SQLite's exclusive locking mode and holds the write lock until it is
    /// closed, so a second publisher on the same file is refused instead of interleaving with it.
    /// - Throws: ``PublisherError`` (``PublisherError/Code/spool``).
    func open() throws -> SQLiteDatabase {
        if let database { return database }
        guard !closed else {
            throw PublisherError(
                .spool, "the publisher spool \(path) was closed by shutdown(): create a new Publisher", spoolPath: path)
        }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path, flags: [.readWrite, .create, .noMutex])
        } catch let error as SQLiteError {
            throw PublisherError.spool(error, path: path, doing: "to open")
        }
        do {
            database.setBusyTimeout(.milliseconds(500))
            try database.execute("PRAGMA locking_mode = EXCLUSIVE")
            _ = try database.integer("PRAGMA journal_mode = WAL")
            // The whole point of the spool is durability: a committed event survives power loss.
            try database.execute("PRAGMA synchronous = FULL")
            try database.transaction(.exclusive) {
                try checkOwnership(database)
                try database.execute(
                    """
                    CREATE TABLE IF NOT EXISTS spool (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        stream TEXT NOT NULL,
                        fields BLOB NOT NULL,
                        enqueued_at_ms INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT
                    );
                    PRAGMA application_id = \(Self.applicationID);
                    PRAGMA user_version = \(Self.schemaVersion);
                    """)
            }
            count = Int(try database.integer("SELECT count(*) FROM spool") ?? 0)
        } catch let error as SQLiteError {
            database.close()
            throw PublisherError.spool(error, path: path, doing: "to open")
        } catch {
            database.close()
            throw error
        }
        self.database = database
        return database
    }

    /// Refuses a file that belongs to someone else: another application's database, or a newer
    /// spool schema.
    private func checkOwnership(_ database: SQLiteDatabase) throws {
        let application = Int32(truncatingIfNeeded: try database.integer("PRAGMA application_id") ?? 0)
        let userVersion = try database.integer("PRAGMA user_version") ?? 0
        if application == Self.applicationID {
            guard userVersion <= Self.schemaVersion else {
                throw PublisherError(
                    .spool,
                    "the publisher spool \(path) has schema version \(userVersion), newer than this program's "
                        + "\(Self.schemaVersion): drain it with the newer version first",
                    spoolPath: path)
            }
            return
        }
        let otherTables =
            try database.integer("SELECT count(*) FROM sqlite_schema WHERE name NOT IN ('spool', 'sqlite_sequence')")
            ?? 0
        if application != 0 || otherTables > 0 {
            throw PublisherError(
                .spool,
                "\(path) is another database, not a Tagwave publisher spool (perhaps the ledger): give the "
                    + "publisher a file of its own, e.g. publisher-spool.sqlite",
                spoolPath: path)
        }
    }

    /// Closes the file and releases its lock. Later jobs throw.
    func close() {
        database?.close()
        database = nil
        closed = true
    }

    /// Appends events in one transaction; returns their sequence numbers.
    ///
    /// - Parameters:
    ///   - events: The entries' fields, in order.
    ///   - stream: Their stream.
    ///   - attempts: How often they were already sent (1 after a failed `XADD`, 0 when spooled
    ///     behind earlier events).
    ///   - lastError: Why they were not delivered.
    ///   - onlyIfNonEmpty: Append only when the spool holds events already; nil when it is empty.
    func append(
        _ events: [[StreamField]], stream: String, attempts: Int, lastError: String?, onlyIfNonEmpty: Bool
    ) throws -> [Int64]? {
        let database = try open()
        if onlyIfNonEmpty && count == 0 { return nil }
        let enqueuedAt = EventTime.now().millisecondsSinceEpoch
        do {
            let sequences = try database.transaction(.immediate) { () throws -> [Int64] in
                let insert = try database.cachedStatement(
                    "INSERT INTO spool (stream, fields, enqueued_at_ms, attempts, last_error) VALUES (?, ?, ?, ?, ?)")
                var sequences: [Int64] = []
                sequences.reserveCapacity(events.count)
                for fields in events {
                    try insert.bind(stream, at: 1)
                    try insert.bind(SpoolEncoding.encode(fields), at: 2)
                    try insert.bind(enqueuedAt, at: 3)
                    try insert.bind(attempts, at: 4)
                    try insert.bind(lastError, at: 5)
                    try insert.execute()
                    sequences.append(database.lastInsertRowID)
                }
                return sequences
            }
            count += sequences.count
            return sequences
        } catch let error as SQLiteError {
            throw PublisherError.spool(error, path: path, doing: "to store \(events.count) event(s)")
        }
    }

    /// The oldest `limit` spooled events with a sequence number above `after`, in spool order.
    func oldest(after: Int64, limit: Int) throws -> [SpooledEvent] {
        let database = try open()
        guard count > 0 else { return [] }
        do {
            let select = try database.cachedStatement(
                "SELECT seq, stream, fields FROM spool WHERE seq > ? ORDER BY seq LIMIT ?")
            defer { try? select.reset() }
            try select.bind(after, at: 1)
            try select.bind(limit, at: 2)
            var events: [SpooledEvent] = []
            while try select.step() == .row {
                let sequence = select.int64(at: 0)
                guard let fields = SpoolEncoding.decode(select.blob(at: 2) ?? []) else {
                    throw PublisherError(
                        .spool,
                        "the publisher spool \(path) holds an unreadable event (seq \(sequence)): stop the publisher, "
                            + "move the file aside and inspect it with sqlite3",
                        spoolPath: path)
                }
                events.append(SpooledEvent(sequence: sequence, stream: select.string(at: 1) ?? "", fields: fields))
            }
            return events
        } catch let error as SQLiteError {
            throw PublisherError.spool(error, path: path, doing: "to read spooled events")
        }
    }

    /// Deletes delivered events.
    func delete(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        let database = try open()
        do {
            let removed = try database.transaction(.immediate) { () throws -> Int in
                let delete = try database.cachedStatement("DELETE FROM spool WHERE seq = ?")
                var removed = 0
                for sequence in sequences {
                    try delete.bind(sequence, at: 1)
                    try delete.execute()
                    removed += database.changes
                }
                return removed
            }
            count -= removed
        } catch let error as SQLiteError {
            throw PublisherError.spool(error, path: path, doing: "to delete \(sequences.count) delivered event(s)")
        }
    }

    /// Counts a failed delivery attempt of spooled events and records why.
    func recordFailure(_ failures: [(sequence: Int64, reason: String)]) throws {
        guard !failures.isEmpty else { return }
        let database = try open()
        do {
            try database.transaction(.immediate) {
                let update = try database.cachedStatement(
                    "UPDATE spool SET attempts = attempts + 1, last_error = ? WHERE seq = ?")
                for failure in failures {
                    try update.bind(failure.reason, at: 1)
                    try update.bind(failure.sequence, at: 2)
                    try update.execute()
                }
            }
        } catch let error as SQLiteError {
            throw PublisherError.spool(error, path: path, doing: "to record a failed delivery")
        }
    }
}

extension SQLiteDatabase {
    /// The first column of the first row of `sql` as an integer (nil without a row); the statement
    /// is finished before this returns, so it never holds a transaction open.
    fileprivate func integer(_ sql: String) throws -> Int64? {
        let statement = try prepare(sql)
        defer { try? statement.reset() }
        guard try statement.step() == .row else { return nil }
        return statement.int64(at: 0)
    }
}

/// The `fields` blob of a spool row: a version byte (1), then for each field its name and value,
/// each as a 4-byte big-endian length and the bytes. Binary safe, like stream fields.
enum SpoolEncoding {
    static let version: UInt8 = 1

    static func encode(_ fields: [StreamField]) -> [UInt8] {
        var bytes: [UInt8] = [version]
        bytes.reserveCapacity(1 + fields.reduce(0) { $0 + 8 + $1.name.count + $1.value.count })
        for field in fields {
            append(field.name, to: &bytes)
            append(field.value, to: &bytes)
        }
        return bytes
    }

    /// The fields, or nil when the blob is not in this format.
    static func decode(_ bytes: [UInt8]) -> [StreamField]? {
        guard bytes.first == version else { return nil }
        var offset = 1
        var fields: [StreamField] = []
        while offset < bytes.count {
            guard let name = read(bytes, &offset), let value = read(bytes, &offset) else { return nil }
            fields.append(StreamField(name: name, value: value))
        }
        return fields
    }

    private static func append(_ part: [UInt8], to bytes: inout [UInt8]) {
        let length = UInt32(part.count)
        bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        bytes += part
    }

    private static func read(_ bytes: [UInt8], _ offset: inout Int) -> [UInt8]? {
        guard bytes.count - offset >= 4 else { return nil }
        let length =
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
            | Int(bytes[offset + 3])
        offset += 4
        guard bytes.count - offset >= length else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }
}

import Foundation
import Logging
import Synchronization
import TagwaveRedis
import _TagwaveThreads

/// The durable spool of one ``Publisher``: an SQLite file whose connection lives on a thread the
/// spool owns, so its blocking disk I/O (a `synchronous = FULL` commit waits for the disk) never
/// runs on Swift's cooperative pool. Every method hops there and back; calls run one after another.
final class PublisherSpool: Sendable {
    let path: String
    private let thread: OwnedThread
    private let connection: SpoolConnection
    /// The number of spooled events as of the latest job, or -1 before the file was read.
    /// Read without a hop on every publish: zero means "send straight to Redis".
    private let knownCount = Atomic<Int>(-1)

    /// Checks the location and starts opening the file on the spool's thread (without waiting:
    /// a failure to open is logged now and thrown by the first call that needs the spool).
    ///
    /// - Throws: ``PublisherError`` (``PublisherError/Code/spool``) when the path is a directory or
    ///   its directory does not exist.
    init(path: String, logger: Logger) throws {
        try Self.checkLocation(path)
        self.path = path
        self.thread = OwnedThread(name: "tagwave-spool")
        self.connection = SpoolConnection(path: path)
        thread.submit { [self] in
            do {
                _ = try connection.open()
                knownCount.store(connection.count, ordering: .releasing)
                if connection.count > 0 {
                    logger.notice(
                        "the publisher spool holds events from an earlier run: they are delivered first",
                        metadata: ["tagwave.spool.path": "\(path)", "tagwave.spool.count": "\(connection.count)"])
                }
            } catch {
                logger.error("\(error)", metadata: ["tagwave.spool.path": "\(path)"])
            }
        }
    }

    deinit {
        thread.submit { [connection] in connection.close() }
        thread.shutdown()
    }

    /// False only when the spool is known to be empty: a publish may then skip it.
    var mayHoldEvents: Bool {
        knownCount.load(ordering: .acquiring) != 0
    }

    /// The number of spooled events.
    func count() async throws -> Int {
        try await onThread { connection in
            _ = try connection.open()
            return connection.count
        }
    }

    /// Appends events; returns their sequence numbers, or nil when `onlyIfNonEmpty` and the spool is empty.
    func append(
        _ events: [[StreamField]], stream: String, attempts: Int, lastError: String?, onlyIfNonEmpty: Bool = false
    ) async throws -> [Int64]? {
        try await onThread { connection in
            try connection.append(
                events, stream: stream, attempts: attempts, lastError: lastError, onlyIfNonEmpty: onlyIfNonEmpty)
        }
    }

    /// The oldest `limit` spooled events after sequence number `after`.
    func oldest(after: Int64, limit: Int) async throws -> [SpooledEvent] {
        try await onThread { connection in try connection.oldest(after: after, limit: limit) }
    }

    /// Deletes delivered events.
    func delete(_ sequences: [Int64]) async throws {
        try await onThread { connection in try connection.delete(sequences) }
    }

    /// Records a failed delivery attempt.
    func recordFailure(_ failures: [(sequence: Int64, reason: String)]) async throws {
        try await onThread { connection in try connection.recordFailure(failures) }
    }

    /// Closes the file (releasing its lock) and ends the thread.
    func close() async {
        _ = try? await thread.run { [connection] in connection.close() }
        thread.shutdown()
    }

    private func onThread<T: Sendable>(_ body: @escaping @Sendable (SpoolConnection) throws -> T) async throws -> T {
        do {
            return try await thread.run { [self] in
                defer { knownCount.store(connection.count, ordering: .releasing) }
                return try body(connection)
            }
        } catch is OwnedThreadError {
            throw PublisherError(
                .spool, "the publisher spool \(path) was closed by shutdown(): create a new Publisher", spoolPath: path)
        }
    }

    private static func checkLocation(_ path: String) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw PublisherError(
                    .spool,
                    "the publisher spool \(path) is a directory: give a file path, e.g. \(path)/publisher-spool.sqlite",
                    spoolPath: path)
            }
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PublisherError(
                .spool,
                "cannot create the publisher spool \(path): the directory \(directory) does not exist; create it "
                    + "(mkdir -p \(directory)) or choose another path",
                spoolPath: path)
        }
        guard fileManager.isWritableFile(atPath: directory) else {
            throw PublisherError(
                .spool,
                "cannot create the publisher spool \(path): the directory \(directory) is not writable by this "
                    + "process; fix its permissions or choose another path",
                spoolPath: path)
        }
    }
}

import Foundation
import Logging
import TagwaveLedger
import TagwaveTestSupport
import Testing

/// A logger that drops everything, so test output stays readable.
let quietLogger = Logger(label: "tagwave-ledger-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` with a fresh directory under the system's temporary directory, removed after.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("tagwave-ledger-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Runs `body` with a ledger opened on a fresh file, closed after.
func withLedger<T>(_ body: (Ledger, URL) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let path = directory.appendingPathComponent("ledger.sqlite").path
        let ledger = try await Ledger.open(path: path, logger: quietLogger)
        do {
            let result = try await body(ledger, directory)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }
}

/// An event as a worker would record it, with one invalidation outcome.
func sampleRecord(
    id: String,
    type: String = "session.created",
    streamID: String = "1700000000000-0",
    at time: LedgerTimestamp = LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000),
    status: LedgerEvent.Status = .processed,
    tags: [LedgerTagInvalidation] = ["school:7:sessions", "teacher:123"]
) -> LedgerEventRecord {
    LedgerEventRecord(
        event: LedgerEvent(
            eventID: id,
            stream: "events",
            streamID: streamID,
            type: type,
            source: "sessions-api",
            occurredAt: time,
            receivedAt: time.advanced(by: .milliseconds(3)),
            payload: #"{"teacherId":123,"schoolId":7}"#,
            metadata: ["tenant": "north"],
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            status: status,
            attempts: 1,
            worker: "worker-a",
            processedAt: time.advanced(by: .milliseconds(5)),
            duration: .microseconds(1_250),
            entriesRemoved: 42
        ),
        outcomes: [
            LedgerHandlerOutcome(
                handler: "\(type)#0",
                kind: .invalidate,
                status: .succeeded,
                entriesRemoved: 42,
                duration: .microseconds(900),
                worker: "worker-a",
                startedAt: time.advanced(by: .milliseconds(4)),
                finishedAt: time.advanced(by: .milliseconds(5)),
                invalidatedTags: tags
            )
        ]
    )
}

/// How a `tagwave-test-child` run ended.
struct TestChildResult: Sendable {
    /// Its exit status.
    let status: Int32
    /// What it printed on standard output.
    let output: String
    /// What it printed on standard error.
    let errors: String
}

/// Runs `tagwave-test-child` with `arguments` to its end, without blocking a cooperative thread.
func runTestChild(_ arguments: [String]) async throws -> TestChildResult {
    let process = Process()
    process.executableURL = try TestChild.executable()
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { finished in
            continuation.resume(returning: finished.terminationStatus)
        }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return TestChildResult(
        status: status,
        output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
        errors: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    )
}

import Foundation
import TagwaveLedger
import Testing

@Suite("Several processes sharing one ledger file")
struct LedgerMultiProcessTests {
    @Test(.timeLimit(.minutes(2)))
    func noCallLeavesASnapshotOpenThatAnotherProcesssWriteWouldInvalidate() async throws {
        // A statement left on its row keeps a read snapshot open; after another process commits,
        // the next write here then fails at once with SQLITE_BUSY_SNAPSHOT, whatever the busy
        // timeout. A retention pass with nothing to delete once left one so.
        try await withLedger { ledger, directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            _ = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "before", streamID: "1700000000000-0")]))
            _ = try await ledger.applyRetention(olderThan: LedgerTimestamp(millisecondsSinceEpoch: 0))
            _ = try await ledger.event(id: "before")
            _ = try await ledger.events(filter: LedgerEventFilter(limit: 1))
            let child = try await runTestChild(["ledger-writer", path, "5", "child"])
            #expect(child.status == 0, "\(child.errors)")
            let commit = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "after", streamID: "1700000000001-0")]))
            #expect(commit.newEventIDs == ["after"])
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func twoProcessesAndThisOneWriteOneLedgerAtOnceWithoutLockErrors() async throws {
        try await withTemporaryDirectory { directory in
            // A fresh path: the three processes also race to create the file and apply migrations.
            let path = directory.appendingPathComponent("shared.sqlite").path
            let perWriter = 1_000

            async let childA = runTestChild(["ledger-writer", path, "\(perWriter)", "child-a"])
            async let childB = runTestChild(["ledger-writer", path, "\(perWriter)", "child-b"])
            let ledger = try await Ledger.open(path: path, logger: quietLogger)
            var recordedHere = 0
            for batchStart in stride(from: 0, to: perWriter, by: 5) {
                let records = (batchStart..<batchStart + 5).map { index in
                    sampleRecord(id: "test-\(index)", streamID: "1700000000000-\(index)", tags: ["test"])
                }
                recordedHere += try await ledger.record(LedgerBatch(events: records)).newEventIDs.count
            }
            let children = try await [childA, childB]

            for (name, child) in zip(["child-a", "child-b"], children) {
                #expect(child.status == 0, "\(name) failed: \(child.errors)")
                #expect(child.output == "recorded \(perWriter)\n", "\(name): \(child.output)")
            }
            #expect(recordedHere == perWriter)
            let allIDs = ["child-a", "child-b", "test"].flatMap { prefix in (0..<perWriter).map { "\(prefix)-\($0)" } }
            #expect(try await ledger.isRecorded(eventIDs: allIDs).count == 3 * perWriter)
            #expect(try rowCount(path, "SELECT count(*) FROM events") == 3 * perWriter)
            #expect(try rowCount(path, "SELECT count(*) FROM schema_migrations") >= 1)
            #expect(try await ledger.eventsTouching(tag: "child-a", limit: 10_000).count == perWriter)
            #expect(try await ledger.offsets().map(\.consumer) == ["child-a", "child-b"])
            let status = try await ledger.migrationStatus()
            #expect(status.allSatisfy { $0.isApplied })
            await ledger.close()
        }
    }
}

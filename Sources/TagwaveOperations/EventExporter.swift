import Foundation
import TagwaveLedger

/// The formats of `tagwave events export`.
public enum EventExportFormat: String, Sendable, Hashable, CaseIterable {
    /// One JSON object per line: ``EventView`` with its outcomes.
    case jsonl
    /// RFC 4180 CSV with a header row: one row per event, its tags space-separated.
    case csv
}

/// Writes the events of a query, oldest first, for auditors' own tools: JSON Lines or CSV.
///
/// The ledger is read a page at a time, so an export of millions of events runs in constant memory.
///
/// ```swift
/// let exporter = EventExporter(ledger: ledger)
/// let count = try await exporter.export(query, format: .csv) { line in print(line) }
/// ```
public struct EventExporter: Sendable {
    let ledger: Ledger
    let pageSize: Int

    /// An exporter reading `pageSize` events per ledger query.
    public init(ledger: Ledger, pageSize: Int = 1000) {
        self.ledger = ledger
        self.pageSize = max(1, pageSize)
    }

    /// The CSV columns, in order.
    public static let csvColumns = [
        "seq", "event_id", "type", "source", "stream", "stream_id", "occurred_at", "received_at", "status", "attempts",
        "worker",
        "processed_at", "duration_ms", "entries_removed", "tags", "replayed_by", "traceparent", "error", "payload",
    ]

    /// Writes every event matching `query` (at most `query.limit`), oldest first, one line per call of `write`
    /// (the CSV header first).
    ///
    /// - Returns: how many events were written.
    /// - Throws: ``LedgerError``, or what `write` throws.
    @discardableResult
    public func export(
        _ query: EventQuery, format: EventExportFormat, now: LedgerTimestamp = .now(), write: (String) throws -> Void
    ) async throws -> Int {
        var selection = query.selection(now: now)
        selection.throughSeq = try await ledger.latestSeq()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if format == .csv { try write(Self.csvColumns.joined(separator: ",")) }
        var written = 0
        let limit = query.limit ?? Int.max
        while written < limit {
            let wanted = min(pageSize, limit - written)
            let page = try await ledger.events(
                matching: selection, order: .recording, limit: wanted, withOutcomes: true)
            for record in page {
                switch format {
                case .jsonl:
                    try write(
                        String(decoding: try encoder.encode(EventView(record, withOutcomes: true)), as: UTF8.self))
                case .csv:
                    try write(Self.csvRow(record))
                }
            }
            written += page.count
            guard let last = page.last, page.count == wanted else { break }
            selection.afterSeq = last.seq
        }
        return written
    }

    static func csvRow(_ record: LedgerSequencedEvent) -> String {
        let event = record.event
        var seen = Set<String>()
        let tags = record.outcomes.flatMap(\.invalidatedTags).map(\.tag).filter { seen.insert($0).inserted }
        var runs = Set<Int64>()
        let replays = record.outcomes.compactMap(\.replayRunID).filter { runs.insert($0).inserted }
        let fields: [String] = [
            "\(record.seq)", event.eventID, event.type, event.source ?? "", event.stream, event.streamID,
            event.occurredAt.description, event.receivedAt.description, event.status.rawValue, "\(event.attempts)",
            event.worker,
            event.processedAt?.description ?? "", event.duration.map { String(Milliseconds.of($0)) } ?? "",
            event.entriesRemoved.map(String.init) ?? "", tags.joined(separator: " "),
            replays.map(String.init).joined(separator: " "),
            event.traceparent ?? "", event.error ?? "", event.payload,
        ]
        return fields.map(csvField).joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

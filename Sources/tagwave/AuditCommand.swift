import ArgumentParser
import Foundation
import Logging
import TagwaveCache
import TagwaveConfig
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis

/// `tagwave audit tag|key|event`: what touched a tag, what is behind a key, what an event did.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Audit the history: the events that invalidated a tag, what is behind a cache key, what one event did.",
        subcommands: [Tag.self, Key.self, Event.self])

    static func touchesTable(_ touches: [LedgerTagTouch]) -> String {
        Table(
            ["INVALIDATED", "TAG", "EVENT", "TYPE", "OCCURRED", "REMOVED", "BY", "HOW"],
            touches.map {
                [
                    $0.invalidatedAt.description, $0.tag, $0.event.eventID, $0.event.type,
                    $0.event.occurredAt.description,
                    Cell.optional($0.entriesRemoved), $0.worker, $0.replayRunID.map { "replay \($0)" } ?? "live",
                ]
            }
        ).rendered
    }

    struct TouchView: Encodable {
        let tag: String
        let invalidatedAt: String
        let entriesRemoved: Int?
        let handler: String
        let worker: String
        let replayRunID: Int64?
        let event: EventView

        init(_ touch: LedgerTagTouch) {
            tag = touch.tag
            invalidatedAt = touch.invalidatedAt.description
            entriesRemoved = touch.entriesRemoved
            handler = touch.handler
            worker = touch.worker
            replayRunID = touch.replayRunID
            event = EventView(LedgerSequencedEvent(seq: 0, event: touch.event), withOutcomes: false)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tag, forKey: .tag)
            try container.encode(invalidatedAt, forKey: .invalidatedAt)
            try container.encode(entriesRemoved, forKey: .entriesRemoved)
            try container.encode(handler, forKey: .handler)
            try container.encode(worker, forKey: .worker)
            try container.encode(replayRunID, forKey: .replayRunID)
            try container.encode(event, forKey: .event)
        }

        enum CodingKeys: String, CodingKey {
            case tag, invalidatedAt, entriesRemoved, handler, worker, replayRunID, event
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Every event that invalidated TAG: when, by which worker (or replay), how many entries it removed.",
            discussion: "Example: tagwave audit tag teacher:123 --since 7d")
        @OptionGroup var options: OperationsOptions
        @Argument(help: "The tag, e.g. teacher:123.") var tag: String
        @Option(help: "From this time: RFC 3339, a date, or a duration ago (7d).") var since: String?
        @Option(help: "Before this time.") var until: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let now = LedgerTimestamp.now()
                let from = try since.map { try TimeExpression($0).resolved(now: now) }
                let to = try until.map { try TimeExpression($0).resolved(now: now) }
                let settings = try options.settings()
                let touches = try await options.withLedger(settings) { ledger in
                    try await Auditor(ledger: ledger, redis: nil).tag(tag, since: from, until: to, limit: limit)
                }
                if json {
                    try printJSON(touches.map(TouchView.init))
                } else if touches.isEmpty {
                    printError("no recorded event invalidated \(tag)\(since.map { " since \($0)" } ?? "")")
                } else {
                    emit(AuditCommand.touchesTable(touches))
                }
            }
        }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The tags cache KEY is under (from its entry in Redis), whether each was invalidated since, and by which events.",
            discussion: """
                Example: tagwave audit key sessions:teacher:123
                Exit codes: 0, 1 no entry under KEY, 69 Redis or the ledger unavailable.
                """)
        @OptionGroup var options: OperationsOptions
        @Argument(help: "The cache key.") var key: String
        @Option(help: "The cache's key prefix (default: the configuration's cache.prefix, tw).") var prefix: String?
        @Option(help: "At most this many events.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let settings = try options.settings()
                let audit = try await options.withLedger(settings) { ledger in
                    try await options.withRedis(settings) { redis in
                        try await Auditor(ledger: ledger, redis: redis, cachePrefix: prefix ?? settings.cache.prefix)
                            .key(key, limit: limit)
                    }
                }
                if json {
                    struct View: Encodable {
                        let key: String
                        let redisKey: String
                        let freshUntil: String
                        let compressed: Bool
                        let expiresInMilliseconds: Int64?
                        let readable: Bool
                        let tags: [KeyAudit.TagState]
                        let events: [TouchView]
                    }
                    try printJSON(
                        View(
                            key: audit.key, redisKey: audit.redisKey, freshUntil: audit.freshUntil.description,
                            compressed: audit.compressed,
                            expiresInMilliseconds: audit.expiresInMilliseconds, readable: audit.readable,
                            tags: audit.tags,
                            events: audit.touches.map(TouchView.init)))
                    return
                }
                emit(
                    "\(audit.key) (\(audit.redisKey)): \(audit.readable ? "readable" : "not readable"), fresh until \(audit.freshUntil)"
                        + (audit.expiresInMilliseconds.map { ", Redis expires it in \($0 / 1000) s" } ?? ""))
                emit(
                    Table(
                        ["TAG", "WRITTEN UNDER", "NOW", "STATE"],
                        audit.tags.map {
                            [
                                $0.tag, "v\($0.writtenVersion)", "v\($0.currentVersion)",
                                $0.current ? "current" : "invalidated since the write",
                            ]
                        }
                    ).rendered)
                emit("")
                if audit.touches.isEmpty {
                    emit("no recorded event invalidated these tags")
                } else {
                    emit(AuditCommand.touchesTable(audit.touches))
                }
            }
        }
    }

    struct Event: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What event ID did: the same as `tagwave events show ID`.",
            discussion: "Example: tagwave audit event evt-42")
        @OptionGroup var options: OperationsOptions
        @Argument(help: "The event id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let settings = try options.settings()
                let detail = try await options.withLedger(settings) { ledger in
                    try await EventBrowser(ledger: ledger).show(id: id)
                }
                try EventsCommand.printDetail(detail, json: json)
            }
        }
    }
}

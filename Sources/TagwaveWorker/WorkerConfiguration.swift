/// How a ``Worker`` reads its stream, retries, claims and trims. Every field has a production default.
public struct WorkerConfiguration: Sendable {
    /// The stream events are appended to. Default `events`.
    public var stream: String = "events"
    /// The consumer group all workers of the pool share. Default `invalidators`.
    public var group: String = "invalidators"
    /// This daemon's consumer name: stable across restarts (host and instance), so its pending entries
    /// are its own again after a restart.
    public var consumer: String
    /// Entries per `XREADGROUP`.
    public var batchSize: Int = 500
    /// Consumers run side by side in this process: ``consumer``, then `consumer/2`, `consumer/3`, …
    /// (stable names, so each finds its own pending entries after a restart). Each reads, invalidates
    /// and commits its own batches, so one's Redis round trips overlap another's decoding and ledger
    /// commit; the first alone trims, applies retention and removes idle consumers. Default 1. On the
    /// 2-core benchmark host 2 gave 15–25% more events per second than 1, and 3 or 4 no more than 2
    /// (docs/benchmarks.md). The Redis pool needs 2 connections per consumer (`tagwave worker` sizes it).
    public var concurrency: Int = 1
    /// How long a read waits for new entries.
    public var block: Duration = .seconds(2)
    /// An entry pending this long on another consumer is taken over (`XAUTOCLAIM`).
    public var claimIdle: Duration = .seconds(60)
    /// Deliveries after which a failing event is dead-lettered.
    public var deliveryLimit: Int = 5
    /// Backoff of a failing event's first retry; doubled per attempt up to ``maxRetryDelay``, with jitter.
    public var initialRetryDelay: Duration = .milliseconds(200)
    /// Cap of the retry backoff.
    public var maxRetryDelay: Duration = .seconds(30)
    /// Payloads larger than this are poison (dead-lettered at once).
    public var maxPayloadBytes: Int = 1 << 20
    /// How often the stream is trimmed of entries every group has acknowledged; nil disables trimming.
    public var trimInterval: Duration? = .seconds(30)
    /// Consumers idle this long that hold nothing pending are removed from the group; nil keeps them.
    public var idleConsumerTimeout: Duration? = .seconds(3600)
    /// How long the ledger keeps history; nil keeps it forever. Applied every ``retentionInterval``
    /// (open dead letters and resumable replays are always kept).
    public var retention: Duration? = .seconds(30 * 86_400)
    /// How often retention is applied.
    public var retentionInterval: Duration = .seconds(3600)
    /// Name of the ledger outcome row for rule-based invalidation.
    public var ruleHandlerName: String = "rules"

    /// A configuration with defaults and the given consumer name.
    public init(consumer: String) {
        self.consumer = consumer
    }
}

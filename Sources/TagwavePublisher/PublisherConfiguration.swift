import TagwaveEvents

/// How a ``Publisher`` publishes: which stream, where it spools during an outage, how it trims.
///
/// ```swift
/// var configuration = PublisherConfiguration(stream: "events")
/// configuration.spoolPath = "/var/lib/myservice/publisher-spool.sqlite"
/// let publisher = try Publisher(redis: redis, configuration: configuration, logger: logger)
/// ```
public struct PublisherConfiguration: Sendable, Hashable {
    /// The stream events are appended to. Default `events`, the worker's default.
    public var stream: String
    /// The SQLite file events are stored in while Redis is unreachable, e.g.
    /// `/var/lib/myservice/publisher-spool.sqlite`; its directory must exist. Nil (the default) means
    /// no spool: publishing then throws ``PublisherError/Code/redisUnavailable`` during an outage.
    ///
    /// Give each publishing process its own file: the publisher holds an exclusive lock on it.
    public var spoolPath: String?
    /// Whether the publisher trims the stream. Default ``PublisherTrim/none``: the worker trims safely.
    public var trim: PublisherTrim
    /// The largest payload accepted, in bytes; larger events are refused before sending. Keep it at
    /// or below the workers' limit. Default ``TagwaveEvents/Event/defaultMaximumPayloadBytes`` (1 MiB).
    public var maxPayloadBytes: Int
    /// How often ``Publisher/run()`` tries to deliver spooled events while there are some. Default 1 s.
    public var drainInterval: Duration
    /// How many spooled events one pipelined round trip of a drain sends. Default 500.
    public var drainBatchSize: Int

    /// A configuration with defaults for everything not given.
    ///
    /// - Parameters:
    ///   - stream: The stream to append to.
    ///   - spoolPath: The spool file, or nil for no spool.
    ///   - trim: The trimming policy.
    ///   - maxPayloadBytes: The largest payload accepted.
    ///   - drainInterval: How often ``Publisher/run()`` drains the spool.
    ///   - drainBatchSize: Spooled events per round trip when draining.
    public init(
        stream: String = "events",
        spoolPath: String? = nil,
        trim: PublisherTrim = .none,
        maxPayloadBytes: Int = Event.defaultMaximumPayloadBytes,
        drainInterval: Duration = .seconds(1),
        drainBatchSize: Int = 500
    ) {
        self.stream = stream
        self.spoolPath = spoolPath
        self.trim = trim
        self.maxPayloadBytes = maxPayloadBytes
        self.drainInterval = drainInterval
        self.drainBatchSize = drainBatchSize
    }

    /// Why this configuration cannot be used, or nil.
    var whyInvalid: String? {
        if stream.isEmpty { return "the stream name is empty: name the stream the workers read (default `events`)" }
        if maxPayloadBytes < 2 { return "maxPayloadBytes is \(maxPayloadBytes): it must admit at least `{}` (2 bytes)" }
        if drainInterval <= .zero { return "drainInterval is \(drainInterval): it must be positive, e.g. .seconds(1)" }
        if drainBatchSize < 1 { return "drainBatchSize is \(drainBatchSize): it must be at least 1" }
        if let spoolPath, spoolPath.isEmpty { return "spoolPath is empty: give a file path, or nil for no spool" }
        return trim.whyRefused
    }
}

/// One series Tagwave exports: its Prometheus name, kind and meaning.
///
/// Names follow Prometheus's conventions: the `tagwave_` namespace, snake case, the base unit as a
/// suffix (`_seconds`, `_bytes`, `_entries`, `_events`), `_total` on counters. ``all`` lists every
/// series; docs/metrics.md documents them for operators.
public struct MetricSeries: Sendable, Hashable {
    /// What kind of Prometheus metric the series is.
    public enum Kind: String, Sendable, Hashable {
        /// Only goes up (resets when the process restarts).
        case counter
        /// Goes up and down: a current value.
        case gauge
        /// Observations counted into buckets, with their sum and count.
        case histogram
    }

    /// The Prometheus name, e.g. `tagwave_events_processed_total`.
    public let name: String
    /// The kind of metric.
    public let kind: Kind
    /// What it measures, one sentence (the `# HELP` line).
    public let help: String

    init(_ name: String, _ kind: Kind, _ help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }
}

extension MetricSeries {
    // MARK: Counters

    /// Events handled and recorded in the ledger.
    public static let eventsProcessed = MetricSeries(
        "tagwave_events_processed_total", .counter, "Events handled and recorded in the ledger.")
    /// Events sent to the dead-letter queue (poison events, permanent errors, the delivery limit).
    public static let eventsDeadLettered = MetricSeries(
        "tagwave_events_dead_lettered_total", .counter,
        "Events sent to the dead-letter queue (poison, permanent handler errors, delivery limit).")
    /// Handler failures scheduled for a retry.
    public static let handlerFailures = MetricSeries(
        "tagwave_handler_failures_total", .counter, "Handler failures that were scheduled for a retry.")
    /// Deliveries of events the ledger already had (acknowledged without running handlers).
    public static let eventsDuplicate = MetricSeries(
        "tagwave_events_duplicate_total", .counter,
        "Deliveries of events already recorded, acknowledged without handling.")
    /// Stream entries deleted or trimmed while pending, recorded as lost.
    public static let eventsLost = MetricSeries(
        "tagwave_events_lost_total", .counter, "Stream entries deleted or trimmed while pending, recorded as lost.")
    /// Batches committed to the ledger.
    public static let batches = MetricSeries("tagwave_batches_total", .counter, "Batches committed to the ledger.")
    /// Distinct tags invalidated (counted once per batch).
    public static let tagsInvalidated = MetricSeries(
        "tagwave_tags_invalidated_total", .counter, "Distinct tags invalidated, counted once per batch.")
    /// Cache entries made unreadable by invalidations.
    public static let entriesInvalidated = MetricSeries(
        "tagwave_cache_entries_invalidated_total", .counter, "Cache entries made unreadable by tag invalidations.")
    /// Warm jobs by outcome (`scheduled`, `succeeded`, `failed`, `coalesced`, `dropped`).
    public static let warmJobs = MetricSeries(
        "tagwave_warm_jobs_total", .counter,
        "Warm requests by outcome: scheduled, succeeded, failed, coalesced, dropped.")
    /// Warm requests predictive warming made from recorded demand (counted in `warmJobs` too).
    public static let warmPredicted = MetricSeries(
        "tagwave_warm_predicted_total", .counter,
        "Warm requests predictive warming made from recorded demand (also counted as scheduled).")

    // MARK: Histograms

    /// Time from the start of an event's batch to its tags being invalidated.
    public static let handlerDuration = MetricSeries(
        "tagwave_handler_duration_seconds", .histogram,
        "Time from the start of an event's batch to its handlers done and its tags invalidated.")
    /// Events per committed batch.
    public static let batchSize = MetricSeries(
        "tagwave_batch_size_events", .histogram, "Events per committed batch.")
    /// Time from an event's occurrence to its tags being invalidated.
    public static let invalidationLag = MetricSeries(
        "tagwave_invalidation_lag_seconds", .histogram,
        "Time from an event's occurrence (occurred_at, else its arrival) to its tags invalidated.")

    // MARK: Gauges

    /// Entries delivered to the group and not yet acknowledged.
    public static let pending = MetricSeries(
        "tagwave_stream_pending_entries", .gauge, "Entries delivered to the consumer group and not yet acknowledged.")
    /// Entries in the stream not yet delivered to the group.
    public static let consumerLag = MetricSeries(
        "tagwave_consumer_lag_entries", .gauge, "Entries in the stream not yet delivered to the consumer group.")
    /// Entries in the stream.
    public static let streamLength = MetricSeries("tagwave_stream_length_entries", .gauge, "Entries in the stream.")
    /// Dead letters waiting for an operator.
    public static let deadLetters = MetricSeries(
        "tagwave_dead_letters_open", .gauge, "Dead letters waiting for an operator (status open).")
    /// Entries in this process's memory tier (L1).
    public static let memoryTierEntries = MetricSeries(
        "tagwave_cache_memory_tier_entries", .gauge, "Entries in this process's in-memory cache tier (L1).")
    /// Bytes held by this process's memory tier (L1).
    public static let memoryTierBytes = MetricSeries(
        "tagwave_cache_memory_tier_bytes", .gauge, "Bytes held by this process's in-memory cache tier (L1).")
    /// The overall health: 0 healthy, 1 degraded, 2 unhealthy.
    public static let healthStatus = MetricSeries(
        "tagwave_health_status", .gauge, "Overall health: 0 healthy, 1 degraded, 2 unhealthy.")
    /// The last Redis `PING` round trip.
    public static let redisLatency = MetricSeries(
        "tagwave_redis_latency_seconds", .gauge, "The last Redis PING round trip.")

    /// Every series, in the order docs/metrics.md lists them.
    public static let all: [MetricSeries] = [
        eventsProcessed, eventsDeadLettered, handlerFailures, eventsDuplicate, eventsLost, batches, tagsInvalidated,
        entriesInvalidated, warmJobs, warmPredicted, handlerDuration, batchSize, invalidationLag, pending, consumerLag, streamLength,
        deadLetters, memoryTierEntries, memoryTierBytes, healthStatus, redisLatency,
    ]
}

import CoreMetrics
import Metrics

/// The worker's series as swift-metrics handles, made by one `MetricsFactory`.
///
/// Anything that observes a worker records through these: a sampler that turns the worker's
/// counters into increments, or the worker itself. Pass the factory explicitly (tests and several
/// exporters in one process) or use `MetricsSystem.factory` after bootstrapping it.
///
/// ```swift
/// let exporter = PrometheusExporter()
/// let metrics = WorkerMetrics(factory: exporter.factory)
/// metrics.eventsProcessed.increment(by: 500)
/// metrics.batchSize.record(500)
/// print(exporter.render())
/// ```
public struct WorkerMetrics: Sendable {
    /// ``MetricSeries/eventsProcessed``.
    public let eventsProcessed: Counter
    /// ``MetricSeries/eventsDeadLettered``.
    public let eventsDeadLettered: Counter
    /// ``MetricSeries/handlerFailures``.
    public let handlerFailures: Counter
    /// ``MetricSeries/eventsDuplicate``.
    public let eventsDuplicate: Counter
    /// ``MetricSeries/eventsLost``.
    public let eventsLost: Counter
    /// ``MetricSeries/batches``.
    public let batches: Counter
    /// ``MetricSeries/tagsInvalidated``.
    public let tagsInvalidated: Counter
    /// ``MetricSeries/entriesInvalidated``.
    public let entriesInvalidated: Counter
    /// ``MetricSeries/warmJobs`` with `outcome="scheduled"`.
    public let warmScheduled: Counter
    /// ``MetricSeries/warmJobs`` with `outcome="succeeded"`.
    public let warmSucceeded: Counter
    /// ``MetricSeries/warmJobs`` with `outcome="failed"`.
    public let warmFailed: Counter
    /// ``MetricSeries/warmJobs`` with `outcome="coalesced"`.
    public let warmCoalesced: Counter
    /// ``MetricSeries/warmJobs`` with `outcome="dropped"`.
    public let warmDropped: Counter
    /// ``MetricSeries/warmPredicted``.
    public let warmPredicted: Counter

    /// ``MetricSeries/handlerDuration`` (a timer: a histogram in seconds).
    public let handlerDuration: Timer
    /// ``MetricSeries/batchSize`` (an aggregating recorder: a histogram).
    public let batchSize: Recorder
    /// ``MetricSeries/invalidationLag`` (a timer: a histogram in seconds).
    public let invalidationLag: Timer

    /// ``MetricSeries/pending``.
    public let pending: Gauge
    /// ``MetricSeries/consumerLag``.
    public let consumerLag: Gauge
    /// ``MetricSeries/streamLength``.
    public let streamLength: Gauge
    /// ``MetricSeries/deadLetters``.
    public let deadLetters: Gauge
    /// ``MetricSeries/memoryTierEntries``.
    public let memoryTierEntries: Gauge
    /// ``MetricSeries/memoryTierBytes``.
    public let memoryTierBytes: Gauge
    /// ``MetricSeries/healthStatus``.
    public let healthStatus: Gauge
    /// ``MetricSeries/redisLatency`` (seconds).
    public let redisLatency: Gauge

    /// Makes every handle with `factory`.
    /// - Parameter factory: where the handles come from, e.g. ``PrometheusExporter/factory``.
    public init(factory: any MetricsFactory) {
        func counter(_ series: MetricSeries, _ dimensions: [(String, String)] = []) -> Counter {
            Counter(label: series.name, dimensions: dimensions, factory: factory)
        }
        func gauge(_ series: MetricSeries) -> Gauge {
            Gauge(label: series.name, dimensions: [], factory: factory)
        }
        eventsProcessed = counter(.eventsProcessed)
        eventsDeadLettered = counter(.eventsDeadLettered)
        handlerFailures = counter(.handlerFailures)
        eventsDuplicate = counter(.eventsDuplicate)
        eventsLost = counter(.eventsLost)
        batches = counter(.batches)
        tagsInvalidated = counter(.tagsInvalidated)
        entriesInvalidated = counter(.entriesInvalidated)
        warmScheduled = counter(.warmJobs, [("outcome", "scheduled")])
        warmSucceeded = counter(.warmJobs, [("outcome", "succeeded")])
        warmFailed = counter(.warmJobs, [("outcome", "failed")])
        warmCoalesced = counter(.warmJobs, [("outcome", "coalesced")])
        warmDropped = counter(.warmJobs, [("outcome", "dropped")])
        warmPredicted = counter(.warmPredicted)
        handlerDuration = Timer(label: MetricSeries.handlerDuration.name, dimensions: [], factory: factory)
        batchSize = Recorder(label: MetricSeries.batchSize.name, dimensions: [], aggregate: true, factory: factory)
        invalidationLag = Timer(label: MetricSeries.invalidationLag.name, dimensions: [], factory: factory)
        pending = gauge(.pending)
        consumerLag = gauge(.consumerLag)
        streamLength = gauge(.streamLength)
        deadLetters = gauge(.deadLetters)
        memoryTierEntries = gauge(.memoryTierEntries)
        memoryTierBytes = gauge(.memoryTierBytes)
        healthStatus = gauge(.healthStatus)
        redisLatency = gauge(.redisLatency)
    }
}

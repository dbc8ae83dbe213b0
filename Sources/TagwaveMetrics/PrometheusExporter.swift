import CoreMetrics
import Prometheus

/// A Prometheus registry with a swift-metrics factory in front of it, and the text exposition
/// format that `GET /metrics` serves.
///
/// Histogram buckets are set for Tagwave's own series (sub-millisecond handlers, lags up to
/// minutes, batches up to thousands); other series get swift-prometheus's defaults. Each process
/// usually has one exporter; tests make one each, so nothing global is bootstrapped here. To
/// export what other libraries record through the global `MetricsSystem`, bootstrap it with
/// ``factory`` once at start.
///
/// ```swift
/// let exporter = PrometheusExporter()
/// MetricsSystem.bootstrap(exporter.factory)   // optional: libraries' own metrics too
/// let metrics = WorkerMetrics(factory: exporter.factory)
/// let text = exporter.render()                // "# HELP tagwave_events_processed_total …"
/// ```
public struct PrometheusExporter: Sendable {
    /// The registry every series lives in.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``.
    public let factory: PrometheusMetricsFactory

    /// The content type of ``render()``'s text (Prometheus text exposition format 0.0.4).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// A new, empty registry and its factory.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            MetricSeries.handlerDuration.name: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2), .seconds(5),
            ],
            MetricSeries.invalidationLag.name: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
            ],
        ]
        factory.valueHistogramBuckets = [
            MetricSeries.batchSize.name: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
        ]
        self.registry = registry
        self.factory = factory
    }

    /// Every series in the Prometheus text format, with a `# HELP` line for each of Tagwave's own.
    public func render() -> String {
        let text = registry.emitToString()
        let help = Dictionary(MetricSeries.all.map { ($0.name, $0.help) }, uniquingKeysWith: { first, _ in first })
        var output = ""
        output.reserveCapacity(text.utf8.count + help.count * 80)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst("# TYPE ".count).prefix { $0 != " " }
                if let text = help[String(name)] { output += "# HELP \(name) \(text)\n" }
            }
            output += line
            output += "\n"
        }
        // split keeps a trailing empty piece after the last newline: drop the extra newline it adds.
        if output.hasSuffix("\n\n") { output.removeLast() }
        return output
    }
}

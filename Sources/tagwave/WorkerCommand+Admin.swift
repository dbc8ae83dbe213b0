import Foundation
import Logging
import TagwaveAdmin
import TagwaveCache
import TagwaveConfig
import TagwaveLedger
import TagwaveRedis
import TagwaveWarmer
import TagwaveWorker

extension WorkerCommand {
    /// The daemon's admin server (health, metrics, JSON API, dashboard), or nil when `admin.bind`
    /// is `off`. It reads the ledger through a connection of its own, so its queries never wait
    /// behind the worker's commits.
    ///
    /// - Throws: ``CommandError`` (exit 78) when it would listen beyond loopback without a token,
    ///   or the bind address does not parse.
    static func adminServer(
        _ settings: TagwaveConfiguration, redis: any RedisCommanding, worker: Worker, cache: TaggedCache, warmer: Warmer?,
        logger: Logger
    ) async throws -> AdminServer? {
        guard let bind = settings.adminBind else { return nil }
        var configuration: AdminConfiguration
        do {
            configuration = try AdminConfiguration(bind: bind, token: settings.adminToken)
            configuration.thresholds = settings.health
        } catch {
            throw CommandError(message: error.description, code: ExitCodes.configError)
        }
        // The seed's CACHE_HEALTH_CHECK_INTERVAL (milliseconds) sets how often health is sampled.
        if let text = ProcessInfo.processInfo.environment["CACHE_HEALTH_CHECK_INTERVAL"], !text.isEmpty {
            guard let milliseconds = Int(text), milliseconds >= 100 else {
                throw CommandError(
                    message: "CACHE_HEALTH_CHECK_INTERVAL=\(text) is not a number of milliseconds (at least 100, e.g. 30000)",
                    code: ExitCodes.configError)
            }
            configuration.sampleInterval = .milliseconds(milliseconds)
        }
        let ledger = try await Ledger.open(path: settings.ledgerPath, logger: logger)
        var warmJobs: (@Sendable () -> AdminStats.WarmJobs)?
        if let warmer {
            warmJobs = {
                let metrics = warmer.metrics
                return AdminStats.WarmJobs(
                    scheduled: metrics.scheduled, succeeded: metrics.succeeded, failed: metrics.failed,
                    coalesced: metrics.coalesced, dropped: metrics.dropped, predicted: metrics.predicted)
            }
        }
        return try AdminServer(
            configuration: configuration, redis: redis, ledger: ledger, worker: worker, cache: cache,
            warmJobs: warmJobs,
            logger: Logger(label: "tagwave.admin"))
    }
}

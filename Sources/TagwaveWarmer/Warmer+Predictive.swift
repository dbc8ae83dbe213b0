import Logging
import TagwaveCache
import TagwaveLedger

extension Warmer {
    /// The warm requests predictive warming makes for `invalidated` tags: for each distinct tag (on
    /// behalf of the first event that invalidated it), the targets its recorded demand expects at
    /// least ``PredictiveWarming/minimumPerMinute`` times a minute, under the base URL. A target
    /// predicted under several tags is requested once, for the first.
    func predictedRequests(following invalidated: [(tag: String, eventID: String)]) async -> [WarmPlan.Request] {
        guard let predictive = configuration.predictive else { return [] }
        var firstEvent: [String: String] = [:]
        var tags: [String] = []
        for (tag, eventID) in invalidated where firstEvent[tag] == nil {
            firstEvent[tag] = eventID
            tags.append(tag)
        }
        let forecasts: [[PredictedTarget]]
        do {
            forecasts = try await DemandForecaster(redis: redis, prefix: configuration.prefix)
                .forecast(tags: tags, minimumPerMinute: predictive.minimumPerMinute, limit: predictive.maximumPerTag)
        } catch {
            count { $0.forecastFailures += 1 }
            logger.warning("predictive warming skipped \(tags.count) invalidated tags: \(error)")
            return []
        }
        let receivedAt = LedgerTimestamp.now()
        var seen = Set<String>()
        var requests: [WarmPlan.Request] = []
        for (tag, predicted) in zip(tags, forecasts) {
            for target in predicted {
                let url = predictive.baseURL + target.target
                guard seen.insert(url).inserted else { continue }
                requests.append(WarmPlan.Request(target: url, eventID: firstEvent[tag]!, receivedAt: receivedAt))
                logger.debug(
                    "predicted demand",
                    metadata: [
                        "tagwave.tag": "\(tag)", "tagwave.warm.target": "\(url)",
                        "tagwave.demand.per_minute": "\(target.perMinute)", "tagwave.event.id": "\(firstEvent[tag]!)",
                    ])
            }
        }
        guard !requests.isEmpty else { return [] }
        logger.info("predictive warming: \(requests.count) targets predicted for \(tags.count) invalidated tags")
        count {
            $0.scheduled += requests.count
            $0.predicted += requests.count
            $0.pending += requests.count
        }
        return requests
    }
}

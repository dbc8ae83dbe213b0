/// How a ``Warmer`` delays, coalesces, limits and retries warm jobs. Every field has a default.
///
/// The timing of one target:
///
/// ```
/// request (after its event's invalidation) ─┬─ claim P:w:<hash> for `window` ─── … ── window ends
///                                           └────────── delay ──────────▶ GET (one per window)
/// ```
/// Requests for the target that arrive while its window is open, on this worker or any other, are
/// coalesced into that window's job. With ``window`` at most ``delay`` (the default: equal), every
/// coalesced request arrived before the job started, so the job's request follows every
/// invalidation it covers. A longer window saves requests, but an event arriving after the job
/// started and before the window ends is then not followed by a warm of its own (its entry stays
/// cold until someone reads it).
public struct WarmerConfiguration: Sendable {
    /// This warmer's name in claims and in the ledger: the worker's consumer name.
    public var owner: String
    /// The cache's key prefix: claims are kept under `<prefix>:w:` (`tw` by default, as the cache's).
    public var prefix: String = "tw"
    /// How long a job waits after its first request before it runs. Default 100 ms (the seed's).
    public var delay: Duration = .milliseconds(100)
    /// How long a claimed target coalesces further requests; nil means ``delay``.
    public var window: Duration?
    /// Jobs running at once (HTTP requests in flight or closures running). Default 4.
    public var concurrency: Int = 4
    /// Requests per second to warm targets, all targets together (retries included); nil for no limit.
    /// Default 50.
    public var ratePerSecond: Double? = 50
    /// Requests that may go out at once after a quiet period; nil means one second's worth of
    /// ``ratePerSecond`` (at least 1).
    public var burst: Int?
    /// The time one attempt may take: connect, request and the whole response. Default 5 s.
    public var timeout: Duration = .seconds(5)
    /// The time an HTTP connect may take, within ``timeout``. Default 1 s.
    public var connectTimeout: Duration = .seconds(1)
    /// Retries after a failed first attempt (timeouts, connection errors, 5xx, 408, 429, a throwing
    /// closure). Default 2: three attempts in all.
    public var retries: Int = 2
    /// Backoff before the first retry, doubled per retry up to ``maxBackoff``, with jitter.
    public var initialBackoff: Duration = .milliseconds(200)
    /// Cap of the retry backoff.
    public var maxBackoff: Duration = .seconds(5)
    /// On graceful shutdown, how long running jobs may take to finish before they are cancelled.
    /// Jobs not yet due are dropped at once (recorded `skipped`). Default 1 s.
    public var shutdownGrace: Duration = .seconds(1)
    /// Whether every coalesced request gets a `coalesced` row in the ledger (so an auditor sees
    /// why its event caused no request); false only counts them in ``WarmerMetrics/coalesced``.
    public var recordCoalesced: Bool = true
    /// Requests waiting to be claimed beyond this are dropped (counted, logged): a bound on memory
    /// when the warmer is not running or Redis is slow.
    public var maxQueuedRequests: Int = 100_000
    /// Predictive warming: after each invalidation, also warm the targets observed demand predicts
    /// (``PredictiveWarming``); nil, the default, warms only what rules and handlers ask for.
    public var predictive: PredictiveWarming?

    /// A configuration with defaults for the warmer named `owner` (the worker's consumer name).
    public init(owner: String) {
        self.owner = owner
    }

    /// ``window``, or ``delay`` when it is nil.
    public var effectiveWindow: Duration { window ?? delay }
}

/// Predictive warming: after a tag is invalidated, the warmer asks the tag's recorded demand
/// (`TagwaveCache.DemandForecaster`, fed by `DemandRecorder`s such as the response cache
/// middleware's) which targets are expected at least ``minimumPerMinute`` times a minute, and warms
/// the ``maximumPerTag`` most requested of them as `baseURL + target`, on behalf of the first event
/// of the batch that invalidated the tag. Those requests go through the same delay, coalescing,
/// rate limit, retries and ledger rows as those of rules.
///
/// The prediction is the recent request rate, exponentially smoothed over the recorders'
/// half-life: what was asked for often, lately, is expected to be asked for again soon.
public struct PredictiveWarming: Sendable, Hashable {
    /// Where recorded targets are requested: `http://host:port` with an optional path prefix,
    /// no trailing `/` (targets start with one).
    public var baseURL: String
    /// The least expected rate worth a warm request. Default 1 a minute.
    public var minimumPerMinute: Double = 1
    /// Targets warmed per invalidated tag at most, most requested first. Default 10.
    public var maximumPerTag: Int = 10

    /// Predictive warming of targets under `baseURL`, with the default thresholds.
    public init(baseURL: String, minimumPerMinute: Double = 1, maximumPerTag: Int = 10) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.minimumPerMinute = minimumPerMinute
        self.maximumPerTag = maximumPerTag
    }
}

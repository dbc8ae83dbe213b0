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

    /// A configuration with defaults for the warmer named `owner` (the worker's consumer name).
    public init(owner: String) {
        self.owner = owner
    }

    /// ``window``, or ``delay`` when it is nil.
    public var effectiveWindow: Duration { window ?? delay }
}

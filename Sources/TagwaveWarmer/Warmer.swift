import Dispatch
import Logging
import ServiceLifecycle
import Synchronization
import TagwaveLedger
import TagwaveRedis
import TagwaveWorker

/// A closure warmer: repopulates the cache for `target`, typically with `TaggedCache.getOrSet`.
/// Throwing counts as a failed attempt (retried like a 5xx).
public typealias WarmFunction = @Sendable (_ target: String) async throws -> Void

/// The cache warmer (the seed's CacheWarmer): runs warm jobs that handlers and rules ask for after
/// their invalidations, delayed, coalesced per target across the worker pool, rate limited,
/// retried, and recorded in the ledger.
///
/// **Ordering contract.** The ``Worker`` calls ``schedule(targets:eventID:)`` only after a batch's
/// invalidations were applied, its outcomes committed to the ledger and its entries acknowledged. A
/// job runs ``WarmerConfiguration/delay`` after the request that created it, so it never runs
/// before the invalidation it follows; and warm failures never block, fail or delay the
/// invalidation (they happen after the acknowledgement).
///
/// **Coalescing across the pool.** The first request for a target claims the target's window in
/// Redis with `SET P:w:<sha1(target)> <owner> NX PX <window>`: in the cache protocol's terms
/// (docs/cache-protocol.md) a string key under the cache prefix `P` (`tw` by default), like the
/// stampede lease `P:l:<key>`; `<sha1(target)>` is the lower-case hex SHA-1 of the target's UTF-8
/// bytes, the value is the claiming warmer (`<consumer>/<instance token>`), `PX` is the window. The worker that sets the key runs the job;
/// every request for the target while the key lives, on any worker, is coalesced into it and
/// recorded `coalesced`. Once the key expires, the next request claims a new window. If Redis does
/// not answer the claim, the job runs anyway (at worst two workers warm the same target).
///
/// **Warmers.** A target that is an `http://` URL (a rule's `warm:` template, values percent-encoded)
/// is warmed by one HTTP/1.1 GET (see ``WarmerConfiguration`` for timeouts; `https://` is refused,
/// redirects are not followed, 2xx is success): a backend in any language warms its own cache by
/// serving the request. Any other target goes to the closure registered under its name: the whole
/// target, or the part before its first `:` (`teacher-sessions:t1` → `teacher-sessions`).
///
/// ```swift
/// let warmer = Warmer(redis: redis, ledger: ledger, configuration: .init(owner: "host-1"), logger: logger)
/// warmer.register(name: "teacher-sessions") { target in
///     let teacher = String(target.dropFirst("teacher-sessions:".count))
///     _ = try await cache.getOrSet("sessions:teacher:\(teacher)", tags: ["teacher:\(teacher)"], ttl: "session-list") {
///         try await database.sessions(teacher: teacher)
///     }
/// }
/// let worker = Worker(redis: redis, ledger: ledger, cache: cache, configuration: .init(consumer: "host-1"),
///                     rules: rules, warmer: warmer, logger: logger)
/// worker.on("session.created") { event, context in
///     let teacher = try JSONValue.parse(event.payload)["teacherId"]?.stringValue ?? "unknown"
///     context.warm("teacher-sessions:\(teacher)")
/// }
/// // Shutdown runs in reverse order: the worker stops first, then the warmer.
/// try await ServiceGroup(services: [warmer, worker], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
///
/// It is a `Service`: jobs run while ``run()`` runs. On graceful shutdown, jobs not yet due are
/// dropped (recorded `skipped`, their claims released), running ones get
/// ``WarmerConfiguration/shutdownGrace`` to finish, then are cancelled.
public final class Warmer: WarmScheduling, Service, Sendable {
    /// How it delays, coalesces, limits and retries.
    public let configuration: WarmerConfiguration
    let redis: any RedisCommanding
    let ledger: Ledger
    let logger: Logger
    /// The value of this warmer's claims: its owner name and a token unique to this instance.
    let claimValue: String
    let inbox = Mutex(Inbox())
    let wakeUp = WakeUp()
    private let counters = Mutex(WarmerMetrics())
    private let closures = Mutex<[String: WarmFunction]>([:])

    /// What `schedule` and finished jobs hand to the loop.
    struct Inbox {
        var requests: [WarmPlan.Request] = []
        var completions: [(job: Int, attempt: WarmPlan.Attempt)] = []
        /// Invalidated tags to forecast (predictive warming), each with its event.
        var invalidated: [(tag: String, eventID: String)] = []
        /// Graceful shutdown was requested.
        var stopping = false
        /// ``Warmer/run()`` returned: requests are dropped.
        var stopped = false
    }

    /// A warmer.
    /// - Parameters:
    ///   - redis: where targets are claimed (the cache's Redis: claims live under its prefix).
    ///   - ledger: where outcomes are recorded, against the events that asked for them.
    ///   - configuration: delay, window, concurrency, rate, timeouts, retries.
    ///   - logger: where jobs are logged (`tagwave.warm.target`, `tagwave.event.id`).
    public init(redis: any RedisCommanding, ledger: Ledger, configuration: WarmerConfiguration, logger: Logger) {
        self.redis = redis
        self.ledger = ledger
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "tagwave.warmer"] = "\(configuration.owner)"
        self.logger = logger
        self.claimValue = "\(configuration.owner)/\(String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16))"
    }

    /// Registers a closure warmer for targets named `name` (the whole target, or its part before
    /// the first `:`). A later registration under the same name replaces the earlier one.
    ///
    /// - Parameters:
    ///   - name: the name handlers pass to `context.warm` (alone or as `name:argument`); not a URL.
    ///   - warm: repopulates the cache for the target it is given; it runs at most
    ///     ``WarmerConfiguration/timeout`` and is then cancelled (cooperatively: `getOrSet` and
    ///     `Task.sleep` honour it).
    public func register(name: String, _ warm: @escaping WarmFunction) {
        closures.withLock { $0[name] = warm }
    }

    /// Counters since the warmer was created.
    public var metrics: WarmerMetrics { counters.withLock { $0 } }

    /// Queues warm requests for `targets` on behalf of event `eventID` and returns at once.
    ///
    /// Call it only after the event's invalidations were applied (the ``Worker`` does): jobs run
    /// ``WarmerConfiguration/delay`` after this call. A target listed twice counts once.
    public func schedule(targets: [String], eventID: String) async {
        var seen = Set<String>()
        let receivedAt = LedgerTimestamp.now()
        let requests = targets.filter { seen.insert($0).inserted }.map {
            WarmPlan.Request(target: $0, eventID: eventID, receivedAt: receivedAt)
        }
        guard !requests.isEmpty else { return }
        let accepted = inbox.withLock { inbox -> Int in
            guard !inbox.stopped, !inbox.stopping else { return 0 }
            let room = max(0, configuration.maxQueuedRequests - inbox.requests.count)
            inbox.requests += requests.prefix(room)
            return min(room, requests.count)
        }
        let dropped = requests.count - accepted
        counters.withLock {
            $0.scheduled += requests.count
            $0.pending += accepted
            $0.dropped += dropped
        }
        if dropped > 0 {
            logger.warning(
                "warm requests dropped: the warmer is stopped or its queue is full",
                metadata: ["tagwave.event.id": "\(eventID)", "tagwave.warm.dropped": "\(dropped)"])
        }
        if accepted > 0 { wakeUp.signal() }
    }

    /// True with ``WarmerConfiguration/predictive`` set: the worker then hands over every batch's
    /// invalidated tags.
    public var followsInvalidations: Bool { configuration.predictive != nil }

    /// Queues, for predictive warming, the tags a batch invalidated (`eventIDs[i]` invalidated
    /// `tags[i]`) and returns at once; the warmer's loop forecasts their demand and schedules what
    /// it predicts. Does nothing without ``WarmerConfiguration/predictive``.
    public func followInvalidations(tags: [String], eventIDs: [String]) async {
        guard configuration.predictive != nil, !tags.isEmpty else { return }
        precondition(tags.count == eventIDs.count, "one event per invalidated tag")
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopped, !inbox.stopping, inbox.invalidated.count < configuration.maxQueuedRequests else { return false }
            inbox.invalidated += zip(tags, eventIDs).prefix(configuration.maxQueuedRequests - inbox.invalidated.count).map { ($0, $1) }
            return true
        }
        if accepted {
            wakeUp.signal()
        } else {
            logger.warning(
                "invalidated tags not followed by predictive warming: the warmer is stopped or its queue is full",
                metadata: ["tagwave.tags": "\(tags.count)"])
        }
    }

    // MARK: Internals shared with the extensions

    func count(_ update: (inout WarmerMetrics) -> Void) {
        counters.withLock { update(&$0) }
    }

    /// Where a target goes.
    enum Route {
        case http(HTTPTarget)
        case closure(WarmFunction)
        case invalid(WarmerError)
    }

    func route(_ target: String) -> Route {
        if HTTPTarget.looksLikeURL(target) {
            do {
                return .http(try HTTPTarget(parsing: target))
            } catch {
                return .invalid(error)
            }
        }
        let name = target.firstIndex(of: ":").map { String(target[..<$0]) } ?? target
        let warm = closures.withLock { $0[target] ?? $0[name] }
        if let warm { return .closure(warm) }
        return .invalid(
            WarmerError(
                .noWarmer,
                "no warmer is registered for the target \(target): register one with Warmer.register(name: \"\(name)\") "
                    + "before the worker runs, or warm an http:// URL",
                target: target))
    }

    /// The claim key of `target`: `<prefix>:w:<hex SHA-1 of the target>`.
    ///
    /// The SHA-1 is the one the Redis client names scripts with (`RedisScript.sha1`), so the package
    /// carries a single SHA-1; any language computes the same key with its standard library.
    func claimKey(_ target: String) -> String {
        "\(configuration.prefix):w:\(RedisScript(target).sha1)"
    }

    static func monotonicNow() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}

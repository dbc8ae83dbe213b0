import TagwaveLedger
import Testing

@testable import TagwaveWarmer

/// The warmer's decisions, its rate limit, URL parsing and response reading, without I/O.
@Suite("Warm plan, rate limit, URLs and responses")
struct WarmPlanTests {
    private let second: UInt64 = 1_000_000_000
    private let wall = LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000)

    private func request(_ target: String, _ event: String) -> WarmPlan.Request {
        WarmPlan.Request(target: target, eventID: event, receivedAt: wall)
    }

    @Test func requestsInOneAdmissionForOneTargetNeedOneClaimAndFollowItsResult() {
        var plan = WarmPlan(worker: "w1", delay: .seconds(1), window: .seconds(1))
        let (coalesced, claims) = plan.admit(
            [request("a", "e1"), request("a", "e2"), request("b", "e3")], now: 10 * second)
        #expect(coalesced.isEmpty)
        #expect(claims.map(\.target) == ["a", "b"])
        #expect(claims[0].followers.map(\.eventID) == ["e2"])
        let rows = plan.claimed(claims[0], .won(sentAt: 10 * second, repliedAt: 10 * second), wallNow: wall)
        #expect(rows.map(\.eventID) == ["e2"] && rows.allSatisfy { $0.status == .coalesced })
        let lost = plan.claimed(
            claims[1], .lost(owner: "w2", remaining: second / 2, sentAt: 10 * second), wallNow: wall)
        #expect(lost.map(\.eventID) == ["e3"])
        #expect(lost.first?.error == "coalesced: w2 holds this target's warm window")
    }

    @Test func aJobRunsAfterTheDelayAndLaterRequestsCoalesceUntilTheWindowCloses() throws {
        var plan = WarmPlan(worker: "w1", delay: .seconds(1), window: .seconds(1))
        let claim = plan.admit([request("a", "e1")], now: 0).claims[0]
        _ = plan.claimed(claim, .won(sentAt: 0, repliedAt: 1000), wallNow: wall)
        #expect(plan.startNext(now: second / 2) == nil)
        // Before the job starts, a request coalesces into it (it will run after this request).
        #expect(plan.admit([request("a", "e2")], now: second / 2).coalesced.map(\.eventID) == ["e2"])
        let started = plan.startNext(now: second + 1000)
        let job = try #require(started)
        #expect(job.eventID == "e1" && job.attempts == 1 && plan.running == 1)
        // The window is closed once the job is due (window = delay): the next request claims again.
        #expect(plan.admit([request("a", "e3")], now: second + 2000).claims.count == 1)
    }

    @Test func aRetryableFailureIsRetriedAfterTheBackoffAndTheFinalRowCarriesEveryAttempt() throws {
        var plan = WarmPlan(worker: "w1", delay: .zero, window: .milliseconds(1))
        let claim = plan.admit([request("http://x/", "e1")], now: 0).claims[0]
        _ = plan.claimed(claim, .won(sentAt: 0, repliedAt: 0), wallNow: wall)
        let started = plan.startNext(now: 0)
        let first = try #require(started)
        let failure = WarmerError(.httpStatus, "500", target: "http://x/", httpStatus: 500)
        let retried = plan.finished(
            first.id, .init(duration: .milliseconds(5), httpStatus: 500, error: failure),
            retryAfter: .milliseconds(100), now: 0,
            wallNow: wall)
        #expect(retried == nil)
        #expect(plan.startNext(now: 50_000_000) == nil)
        let restarted = plan.startNext(now: 100_000_000)
        let again = try #require(restarted)
        #expect(again.attempts == 2)
        let final = plan.finished(
            again.id, .init(duration: .milliseconds(7), httpStatus: 500, error: failure), retryAfter: nil, now: 0,
            wallNow: wall)
        let row = try #require(final)
        #expect(
            row.status == .failed && row.attempts == 2 && row.httpStatus == 500 && row.duration == .milliseconds(12))
        #expect(plan.pendingJobs == 0 && plan.running == 0)
    }

    @Test func aFailureThatCannotPassIsNotRetried() throws {
        var plan = WarmPlan(worker: "w1", delay: .zero, window: .milliseconds(1))
        _ = plan.claimed(
            plan.admit([request("x", "e1")], now: 0).claims[0], .won(sentAt: 0, repliedAt: 0), wallNow: wall)
        let started = plan.startNext(now: 0)
        let job = try #require(started)
        let failure = WarmerError(.noWarmer, "no warmer", target: "x")
        let row = plan.finished(
            job.id, .init(duration: .zero, error: failure), retryAfter: .milliseconds(10), now: 0, wallNow: wall)
        #expect(row?.status == .failed && row?.attempts == 1)
    }

    @Test func shutdownDropsWaitingJobsAsSkippedAndNamesTheirTargets() {
        var plan = WarmPlan(worker: "w1", delay: .seconds(30), window: .seconds(30))
        let claims = plan.admit([request("a", "e1"), request("b", "e2")], now: 0).claims
        for claim in claims { _ = plan.claimed(claim, .won(sentAt: 0, repliedAt: 0), wallNow: wall) }
        let (rows, targets) = plan.dropWaiting(reason: "shutdown", wallNow: wall)
        #expect(Set(targets) == ["a", "b"])
        #expect(rows.allSatisfy { $0.status == .skipped && $0.attempts == 0 })
        #expect(plan.pendingJobs == 0)
    }

    @Test func theTokenBucketAllowsABurstThenTheRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 2, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        let wait = bucket.take(now: 0)
        #expect(wait == 100_000_000)
        #expect(bucket.take(now: 100_000_000) == nil)
        var unlimited = TokenBucket(ratePerSecond: nil, burst: nil, now: 0)
        #expect((0..<1000).allSatisfy { _ in unlimited.take(now: 0) == nil })
    }

    @Test func httpURLsAreTakenApartAndHttpsIsRefusedWithAReason() throws {
        let plain = try HTTPTarget(parsing: "http://127.0.0.1:8080/api/v1/sessions?teacher=t%201#top")
        #expect(plain.host == "127.0.0.1" && plain.port == 8080)
        #expect(plain.requestTarget == "/api/v1/sessions?teacher=t%201" && plain.hostHeader == "127.0.0.1:8080")
        let bare = try HTTPTarget(parsing: "http://backend?x=1")
        #expect(bare.port == 80 && bare.requestTarget == "/?x=1")
        let v6 = try HTTPTarget(parsing: "http://[::1]:9000/")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000")
        #expect(throws: WarmerError.self) { try HTTPTarget(parsing: "https://backend/") }
        do {
            _ = try HTTPTarget(parsing: "https://backend/")
        } catch {
            #expect(error.code == .invalidTarget && error.message.contains("http://"))
        }
        #expect(throws: WarmerError.self) { try HTTPTarget(parsing: "http://user:secret@backend/") }
        #expect(throws: WarmerError.self) { try HTTPTarget(parsing: "http://backend/a b") }
        #expect(throws: WarmerError.self) { try HTTPTarget(parsing: "http://backend:99999/") }
        #expect(HTTPTarget.looksLikeURL("http://x/") && HTTPTarget.looksLikeURL("https://x/"))
        #expect(!HTTPTarget.looksLikeURL("teacher-sessions:t1"))
    }

    @Test func responsesAreReadByLengthByChunksOrToTheClose() throws {
        var sized = HTTPResponseReader()
        try sized.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel".utf8)[...])
        #expect(!sized.isComplete)
        try sized.consume(Array("lo".utf8)[...])
        #expect(sized.isComplete && sized.head?.status == 200 && sized.bodyBytes == 5)

        var chunked = HTTPResponseReader()
        try chunked.consume(
            Array(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwarm\r\n0\r\n\r\n"
                    .utf8)[...])
        #expect(chunked.isComplete && chunked.head?.status == 503 && chunked.bodyBytes == 4)

        var untilClose = HTTPResponseReader()
        try untilClose.consume(Array("HTTP/1.0 302 Found\r\nLocation: /new\r\n\r\nbody".utf8)[...])
        #expect(!untilClose.isComplete)
        try untilClose.finish()
        #expect(untilClose.isComplete && untilClose.head == .init(status: 302, location: "/new"))

        var garbage = HTTPResponseReader()
        #expect(throws: HTTPResponseReader.Failure.self) {
            try garbage.consume(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)[...])
        }
        var truncated = HTTPResponseReader()
        try truncated.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)[...])
        #expect(throws: HTTPResponseReader.Failure.self) { try truncated.finish() }
    }
}

import Foundation
import TagwaveAdmin
import TagwaveEvents
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// The dashboard in a real headless browser (Debian's `chromium`) while a worker processes events.
///
/// This suite needs chromium: `.ci/run` installs it; without it the test fails and says how to
/// install it. Set `TAGWAVE_DASHBOARD_SCREENSHOT=path.png` to keep the screenshot.
@Suite("Dashboard in headless chromium")
struct DashboardBrowserTests {
    static var chromium: String? {
        if let path = ProcessInfo.processInfo.environment["CHROMIUM"] { return path }
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let path = ChildProcess.which(name)
            if path.hasPrefix("/") { return path }
        }
        return nil
    }

    @Test func dashboardShowsLiveFiguresWhileAWorkerProcessesEvents() async throws {
        guard let chromium = Self.chromium else {
            Issue.record(
                "chromium is not installed: run `apt-get install -y chromium` (or `bash .ci/run`, which installs it)")
            return
        }
        try await AdminHarness.with { harness in
            let worker = harness.worker()
            let admin = try harness.admin(worker: worker)
            try await running([worker, admin], admin: admin) { client in
                let port = client.port
                // A steady flow while the page loads, and one poison event for the dead-letter queue.
                let publishing = Task {
                    var index = 0
                    while !Task.isCancelled {
                        try await harness.publish(
                            type: "session.created", payload: #"{"teacherId":"t\#(index % 5)"}"#,
                            id: "evt-live-\(index)")
                        index += 1
                        try await Task.sleep(for: .milliseconds(40))
                    }
                }
                defer { publishing.cancel() }
                let poison = try await harness.publish(
                    type: "session.created", payload: "[1,2]", id: "evt-poison-dashboard")
                try await eventually("events processed and sampled") {
                    let history = try await client.get("/api/stats").json?["history"]?.elements ?? []
                    return worker.progress.processed >= 20 && history.count >= 4
                }

                let url = "http://127.0.0.1:\(port)/"
                let flags = Self.flags
                let dom = try await Self.run(chromium, flags + ["--dump-dom", url])
                let screenshotPath =
                    ProcessInfo.processInfo.environment["TAGWAVE_DASHBOARD_SCREENSHOT"]
                    ?? FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-dashboard-\(UUID()).png")
                    .path
                _ = try await Self.run(
                    chromium, flags + ["--window-size=1280,1500", "--screenshot=\(screenshotPath)", url])

                // Live figures, read from the DOM the page's scripts built from the JSON API.
                let processed = try #require(
                    Self.attribute("data-value", ofElementWithID: "processed", in: dom),
                    "no #processed in:\n\(dom.prefix(3000))")
                #expect((Int(processed) ?? 0) > 0, "processed count \(processed)")
                for chart in ["chart-throughput", "chart-lag", "chart-hit-rate", "chart-errors"] {
                    let points = Self.attribute("data-points", ofElementWithID: chart, in: dom).flatMap { Int($0) } ?? 0
                    #expect(points >= 2, "\(chart) has \(points) points")
                    #expect(dom.contains("id=\"\(chart)\"") && dom.contains("<polyline"), "\(chart) is drawn")
                }
                let throughput =
                    Self.attribute("data-latest", ofElementWithID: "chart-throughput", in: dom).flatMap { Double($0) }
                    ?? 0
                #expect(throughput > 0, "the throughput chart ends at \(throughput) events/s")
                #expect(
                    dom.range(of: #"data-event-id="evt-live-\d+""#, options: .regularExpression) != nil,
                    "a published event id is listed")
                #expect(dom.contains("data-event-id=\"\(poison)\""), "the poison entry is in the dead-letter queue")
                #expect(dom.contains("teacher:t"), "the events' tags are shown")
                #expect(Self.attribute("data-status", ofElementWithID: "health", in: dom)?.isEmpty == false)
                #expect(FileManager.default.fileExists(atPath: screenshotPath), "screenshot at \(screenshotPath)")
            }
        }
    }

    @Test func withATokenThePageTakesItFromTheFragmentAndShowsTheFigures() async throws {
        guard let chromium = Self.chromium else {
            Issue.record(
                "chromium is not installed: run `apt-get install -y chromium` (or `bash .ci/run`, which installs it)")
            return
        }
        try await AdminHarness.with { harness in
            let worker = harness.worker()
            let admin = try harness.admin(AdminConfiguration(bind: "127.0.0.1:0", token: "dash-token"), worker: worker)
            try await running([worker, admin], admin: admin) { client in
                for index in 0..<5 {
                    try await harness.publish(
                        type: "session.created", payload: #"{"teacherId":"t1"}"#, id: "evt-token-\(index)")
                }
                try await eventually("5 events processed") { worker.progress.processed == 5 }
                let page = "http://127.0.0.1:\(client.port)/"
                let dom = try await Self.run(chromium, Self.flags + ["--dump-dom", page + "#token=dash-token"])
                #expect(Self.attribute("data-value", ofElementWithID: "processed", in: dom) == "5")
                #expect(dom.contains(#"data-event-id="evt-token-4""#))
                let anonymous = try await Self.run(chromium, Self.flags + ["--dump-dom", page])
                #expect(
                    Self.attribute("style", ofElementWithID: "login", in: anonymous) == "display: flex;",
                    "it asks for the token")
                #expect(!anonymous.contains("evt-token-"), "no data without the token")
            }
        }
    }

    static let flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ]

    /// Runs chromium and returns what it printed on standard output.
    static func run(_ chromium: String, _ arguments: [String]) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-chromium-\(UUID()).out")
            .path
        let child = try ChildProcess(chromium, arguments, outputPath: output)
        defer {
            child.terminate()
            try? FileManager.default.removeItem(atPath: output)
        }
        let status = try await child.wait(timeout: .seconds(90))
        let printed = child.output
        guard status == 0 else { throw HarnessError("chromium exited with \(status):\n\(printed.suffix(3000))") }
        return printed
    }

    /// The value of `attribute` on the element with `id`, from serialized HTML.
    static func attribute(_ attribute: String, ofElementWithID id: String, in html: String) -> String? {
        guard let idRange = html.range(of: "id=\"\(id)\"") else { return nil }
        let tagStart = html[..<idRange.lowerBound].lastIndex(of: "<") ?? idRange.lowerBound
        guard let tagEnd = html[idRange.upperBound...].firstIndex(of: ">") else { return nil }
        let tag = html[tagStart..<tagEnd]
        guard let valueStart = tag.range(of: "\(attribute)=\"") else { return nil }
        return String(tag[valueStart.upperBound...].prefix { $0 != "\"" })
    }
}

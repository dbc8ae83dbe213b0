import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension ChildProcess {
    /// The lines it printed so far (standard output and error interleaved).
    public var lines: [Substring] {
        output.split(separator: "\n")
    }

    /// The first printed line starting with `prefix`, without the prefix; nil when there is none yet.
    public func line(startingWith prefix: String) -> String? {
        lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// Waits until it prints a line starting with `prefix` and returns the rest of that line.
    ///
    /// Polls the output file every `interval`.
    /// - Throws: ``RedisServerError`` when the process exits first or `timeout` passes, with its output.
    public func waitForLine(
        startingWith prefix: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(2)
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let rest = line(startingWith: prefix) { return rest }
            if !isRunning {
                // It may have printed the line just before exiting.
                if let rest = line(startingWith: prefix) { return rest }
                throw RedisServerError(
                    "process \(pid) exited without printing \(prefix.debugDescription); its output:\n\(output.suffix(2000))"
                )
            }
            if ContinuousClock.now > deadline {
                throw RedisServerError(
                    "process \(pid) did not print \(prefix.debugDescription) within \(timeout); its output:\n\(output.suffix(2000))"
                )
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Kills it with SIGKILL if it still runs and reaps it; for `defer`, so no child outlives its test.
    public func terminate() {
        guard isRunning else { return }
        send(SIGKILL)
        waitBlocking()
    }
}

import Foundation

/// The `tagwave-test-child` executable (Tests/TagwaveTestChild): roles that tests run as separate
/// processes (ledger writers sharing one file, caches sharing one Redis, a lease holder to kill).
///
/// ```swift
/// let child = try TestChild.start("cache-get-or-set", ["\(server.port)", "report", "500", marker])
/// defer { child.terminate() }
/// try await child.waitForLine(startingWith: "VALUE ")
/// ```
public enum TestChild {
    /// The executable, built next to the test bundle (in `.build/debug`, or the `--scratch-path`).
    ///
    /// `TAGWAVE_TEST_CHILD` overrides the location.
    /// - Throws: ``TestChildMissing`` when it is not built.
    public static func executable() throws -> URL {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["TAGWAVE_TEST_CHILD"] {
            return URL(fileURLWithPath: override)
        }
        var directories: [URL] = []
        if let first = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            directories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        directories.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for directory in directories {
            // The test bundle may sit inside `tagwavePackageTests.xctest/Contents/MacOS` (macOS).
            for candidate in [
                directory,
                directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent(),
            ] {
                let url = candidate.appendingPathComponent("tagwave-test-child")
                if fileManager.isExecutableFile(atPath: url.path) {
                    return url
                }
            }
        }
        let looked = directories.map(\.path).joined(separator: ", ")
        throw TestChildMissing(
            description: "tagwave-test-child is not built next to the test bundle (looked in \(looked)): "
                + "run `swift build --build-tests` before `swift test`, or set TAGWAVE_TEST_CHILD to its path"
        )
    }

    /// Starts `tagwave-test-child <role> arguments…`; its standard output and error go to
    /// ``ChildProcess/outputPath``. Stop it on every path: `defer { child.terminate() }`.
    /// - Throws: ``TestChildMissing`` when the executable is not built; ``RedisServerError`` when
    ///   the spawn fails.
    public static func start(_ role: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(try executable().path, [role] + arguments)
    }
}

/// The test child executable was not found.
public struct TestChildMissing: Error, CustomStringConvertible {
    /// Where it was looked for and how to build it.
    public let description: String
}

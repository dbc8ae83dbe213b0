import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid`.
///
/// Foundation's `Process.waitUntilExit()` can hang on Linux when called from Swift concurrency
/// (it spins a run loop); tests need processes they can kill at a chosen moment and reap reliably.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `status` is written once, by wait(), which tests call from one task.

    /// The process id.
    public let pid: pid_t
    /// Where its standard output and error go.
    public let outputPath: String
    private var status: Int32?

    /// Starts `executable` with `arguments`; its output goes to `outputPath` (a temporary file by default).
    /// - Throws: ``RedisServerError`` when the spawn fails.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, outputPath: String? = nil
    ) throws {
        let output = outputPath ?? FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-child-\(UUID().uuidString).log").path
        self.outputPath = output
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environmentStrings.forEach { free($0) } }
        // The child starts with no blocked signals and default handlers, whatever the spawning thread has.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environmentStrings)
        guard result == 0 else { throw RedisServerError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGINT…).
    public func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// True until the process has exited and been reaped.
    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = raw
            return false
        }
        return true
    }

    /// Waits for the process to exit and returns its exit code (128 + signal when killed by one).
    /// - Throws: ``RedisServerError`` when it does not exit within `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now > deadline {
                throw RedisServerError("process \(pid) did not exit within \(timeout); its output:\n\(output.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let raw = status ?? 0
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// Waits synchronously (for cleanup paths that cannot await).
    public func waitBlocking() {
        guard status == nil else { return }
        var raw: Int32 = 0
        if waitpid(pid, &raw, 0) == pid { status = raw }
    }

    /// What it printed so far.
    public var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}

extension ChildProcess {
    /// The full path of `name` on PATH, or `name` itself (spawning then fails with a clear error).
    public static func which(_ name: String) -> String {
        RedisServer.findInPath(name) ?? name
    }
}

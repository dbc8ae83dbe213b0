/// Why a warm attempt failed: what went wrong with which target, and what to do.
///
/// The warmer records ``description`` in the ledger (`warm_jobs.error`) and retries the failures
/// that may pass (timeouts, connection errors, 5xx, 408, 429, closures that threw).
public struct WarmerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case invalidTarget
            case noWarmer
            case connectionFailed
            case timeout
            case httpStatus
            case redirect
            case invalidResponse
            case closureFailed
            case cancelled
        }

        fileprivate let base: Base

        /// The target can never be warmed as written: not an `http://` URL nor a registered name,
        /// an `https://` URL, credentials in the URL, spaces or control characters.
        public static let invalidTarget = Code(base: .invalidTarget)
        /// The target names no registered closure warmer.
        public static let noWarmer = Code(base: .noWarmer)
        /// The backend's address did not resolve, refused the connection, or broke it.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The attempt took longer than ``WarmerConfiguration/timeout``.
        public static let timeout = Code(base: .timeout)
        /// The backend answered with a status that is not 2xx (``WarmerError/httpStatus`` has it).
        public static let httpStatus = Code(base: .httpStatus)
        /// The backend answered with a redirect, which the warmer does not follow.
        public static let redirect = Code(base: .redirect)
        /// The backend's answer is not HTTP/1.x.
        public static let invalidResponse = Code(base: .invalidResponse)
        /// A closure warmer threw (its error is in the description).
        public static let closureFailed = Code(base: .closureFailed)
        /// The job was cancelled (the worker shut down while it ran).
        public static let cancelled = Code(base: .cancelled)

        /// The code's name, e.g. `timeout`.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do, as a sentence.
    public let message: String
    /// The target that failed.
    public let target: String
    /// The backend's HTTP status, when it answered.
    public let httpStatus: Int?
    /// The source file that raised the error (`#fileID`).
    public let file: String
    /// The line that raised the error.
    public let line: Int

    init(
        _ code: Code, _ message: String, target: String, httpStatus: Int? = nil, file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.target = target
        self.httpStatus = httpStatus
        self.file = file
        self.line = line
    }

    /// The message.
    public var description: String { message }

    /// Whether another attempt may succeed.
    var isRetryable: Bool {
        switch code.base {
        case .connectionFailed, .timeout, .closureFailed: return true
        case .httpStatus: return httpStatus.map { $0 >= 500 || $0 == 408 || $0 == 429 } ?? false
        case .invalidTarget, .noWarmer, .redirect, .invalidResponse, .cancelled: return false
        }
    }
}

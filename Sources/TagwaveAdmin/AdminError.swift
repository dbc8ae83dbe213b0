/// Why the admin server cannot start. A struct around a private code, so codes can be added.
public struct AdminError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case invalidBind = "invalid_bind"
            case tokenRequired = "token_required"
        }

        fileprivate let base: Base

        /// The bind address does not parse as `host:port`.
        public static let invalidBind = Code(base: .invalidBind)
        /// The server would listen on a non-loopback address without a bearer token.
        public static let tokenRequired = Code(base: .tokenRequired)

        /// The code, e.g. `token_required`.
        public var description: String { base.rawValue }
    }

    /// What kind of problem it is.
    public let code: Code
    /// What is wrong and what to do, for a person. Never contains the token.
    public let message: String
    /// Where it was raised.
    public let file: String
    /// Where it was raised.
    public let line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// The message.
    public var description: String { message }
}

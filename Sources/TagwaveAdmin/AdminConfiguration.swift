import TagwaveHealth

/// Where the admin server listens, who may ask it, and how often it samples.
///
/// It binds to loopback by default. A bearer token is required on every endpoint but the
/// dashboard page when ``token`` is set, and the server refuses to start on an address other
/// than loopback without one: an open port must never expose the event history.
///
/// ```swift
/// let configuration = try AdminConfiguration(bind: "0.0.0.0:9477", token: secret)
/// ```
public struct AdminConfiguration: Sendable {
    /// The host to listen on, e.g. `127.0.0.1`, `::1` or `0.0.0.0`.
    public var host: String
    /// The port; 0 picks a free one (``AdminServer/boundPort`` tells which).
    public var port: Int
    /// The bearer token clients must send (`Authorization: Bearer <token>`); nil for none.
    public var token: String?
    /// How often figures are sampled for the dashboard's charts and the gauges. Default 2 s.
    public var sampleInterval: Duration = .seconds(2)
    /// How many samples the charts keep (default 150: five minutes at 2 s).
    public var historyLength: Int = 150
    /// The thresholds `/health` judges by (the seed's by default).
    public var thresholds = HealthThresholds()
    /// The stream read when no worker is given (a worker's own stream otherwise).
    public var stream = "events"
    /// The consumer group read when no worker is given.
    public var group = "invalidators"

    /// A configuration from a bind address such as `127.0.0.1:9477`, `[::1]:9477`, `0.0.0.0:9477`,
    /// `:9477` (every interface) or `9477` (loopback).
    ///
    /// - Parameters:
    ///   - bind: where to listen. Default `127.0.0.1:9477`.
    ///   - token: the bearer token, or nil; an empty token counts as none.
    /// - Throws: ``AdminError`` with ``AdminError/Code/invalidBind`` when `bind` does not parse, and
    ///   ``AdminError/Code/tokenRequired`` when it is not a loopback address and there is no token.
    public init(bind: String = "127.0.0.1:9477", token: String? = nil) throws(AdminError) {
        let (host, port) = try Self.parse(bind)
        self.host = host
        self.port = port
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        try validate()
    }

    /// Whether ``host`` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    public var isLoopback: Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" || host.hasPrefix("127.")
    }

    /// Checks the rule: a non-loopback address needs a token.
    /// - Throws: ``AdminError/Code/tokenRequired``.
    public func validate() throws(AdminError) {
        guard isLoopback || token != nil else {
            throw AdminError(
                .tokenRequired,
                "the admin server would listen on \(address), which is not a loopback address, without a bearer token: "
                    + "set admin.token in the configuration (or TAGWAVE_ADMIN_TOKEN), or bind to 127.0.0.1")
        }
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func parse(_ bind: String) throws(AdminError) -> (host: String, port: Int) {
        let text = bind.trimmingCharacters(in: .whitespaces)
        var host = "127.0.0.1"
        var portText = text
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw invalid(bind)
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(close, offsetBy: 2)...])
        } else if let colon = text.lastIndex(of: ":") {
            let named = text[..<colon]
            guard !named.contains(":") else { throw invalid(bind) }
            host = named.isEmpty ? "0.0.0.0" : String(named)
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { throw invalid(bind) }
        return (host, port)
    }

    private static func invalid(_ bind: String) -> AdminError {
        AdminError(
            .invalidBind,
            "the admin bind address \(bind.debugDescription) is not host:port: use e.g. 127.0.0.1:9477, [::1]:9477 or "
                + "0.0.0.0:9477 (with a token), or `off` in the configuration to disable the admin server")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension Set where Element == Character {
    fileprivate static var whitespaces: Set<Character> { [" ", "\t"] }
}

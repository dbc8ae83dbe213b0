import Foundation

/// Where and how to connect to Redis.
///
/// Build it from a URL (`redis://[user:password@]host:port/db`), from the environment
/// (``fromEnvironment(_:)``), or field by field.
public struct RedisConfiguration: Sendable, Equatable {
    /// Host name or IP address. Default `127.0.0.1`.
    public var host: String
    /// TCP port. Default `6379`.
    public var port: Int
    /// ACL user name for `AUTH user password`; nil authenticates as `default` with a password only.
    public var username: String?
    /// Password for `AUTH`; nil sends no `AUTH`.
    public var password: String?
    /// Database index selected after connecting. Default `0`.
    public var database: Int
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply (blocking reads add their own block time).
    public var commandTimeout: Duration
    /// Connections in the client's pool: each has its own thread, so one blocked `XREADGROUP`
    /// leaves the others free.
    public var poolSize: Int
    /// First delay after a failed reconnect; doubled on each failure up to ``maxReconnectDelay``.
    public var initialReconnectDelay: Duration
    /// Cap of the reconnect backoff.
    public var maxReconnectDelay: Duration
    /// Name sent with `CLIENT SETNAME`, visible in `CLIENT LIST` (no spaces).
    public var clientName: String?

    /// A configuration with defaults for everything but what is given.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        poolSize: Int = 4,
        initialReconnectDelay: Duration = .milliseconds(50),
        maxReconnectDelay: Duration = .seconds(5),
        clientName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = poolSize
        self.initialReconnectDelay = initialReconnectDelay
        self.maxReconnectDelay = maxReconnectDelay
        self.clientName = clientName
    }

    /// Parses `redis://[user:password@]host[:port][/db]`. User and password may be percent-encoded.
    ///
    /// - Throws: ``RedisError`` (``RedisError/Code/invalidConfiguration``) naming what is wrong.
    public init(url: String) throws {
        self.init()
        try apply(url: url)
    }

    /// The `host:port` this configuration connects to, for messages.
    public var address: String { "\(host):\(port)" }

    /// The URL of this configuration with the password masked, safe to log.
    public var redactedURL: String {
        var auth = ""
        if let username { auth = username + (password == nil ? "" : ":***") + "@" }
        else if password != nil { auth = ":***@" }
        return "redis://\(auth)\(host):\(port)/\(database)"
    }

    /// Reads `REDIS_URL` first, then lets `REDIS_HOST`, `REDIS_PORT`, `REDIS_USERNAME`,
    /// `REDIS_PASSWORD` and `REDIS_DB` override its parts (the seed's variables keep working).
    ///
    /// - Parameters:
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - base: the configuration to start from (e.g. the config file's).
    /// - Throws: ``RedisError`` naming the variable that is malformed.
    public static func fromEnvironment(
        _ environment: [String: String], base: RedisConfiguration = RedisConfiguration()
    ) throws -> RedisConfiguration {
        var configuration = base
        if let url = environment["REDIS_URL"], !url.isEmpty {
            try configuration.apply(url: url, source: "REDIS_URL")
        }
        if let host = environment["REDIS_HOST"], !host.isEmpty { configuration.host = host }
        if let port = environment["REDIS_PORT"], !port.isEmpty {
            guard let value = Int(port), (1...65535).contains(value) else {
                throw RedisError(.invalidConfiguration, "REDIS_PORT=\(port) is not a port number (1-65535)")
            }
            configuration.port = value
        }
        if let user = environment["REDIS_USERNAME"], !user.isEmpty { configuration.username = user }
        if let password = environment["REDIS_PASSWORD"], !password.isEmpty { configuration.password = password }
        if let db = environment["REDIS_DB"], !db.isEmpty {
            guard let value = Int(db), value >= 0 else {
                throw RedisError(.invalidConfiguration, "REDIS_DB=\(db) is not a database index (0, 1, …)")
            }
            configuration.database = value
        }
        return configuration
    }

    private mutating func apply(url: String, source: String = "the Redis URL") throws {
        func invalid(_ why: String) -> RedisError {
            RedisError(
                .invalidConfiguration,
                "\(source) '\(Self.redact(url))' is invalid: \(why); expected redis://[user:password@]host:port/db")
        }
        guard let components = URLComponents(string: url) else { throw invalid("it does not parse as a URL") }
        guard components.scheme == "redis" else {
            if components.scheme == "rediss" { throw invalid("TLS (rediss://) is not supported by this client") }
            throw invalid("the scheme must be redis://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("it has no host") }
        self.host = host
        if let port = components.port {
            guard (1...65535).contains(port) else { throw invalid("port \(port) is out of range") }
            self.port = port
        }
        if let user = components.percentEncodedUser, !user.isEmpty {
            self.username = user.removingPercentEncoding ?? user
        }
        if let password = components.percentEncodedPassword, !password.isEmpty {
            self.password = password.removingPercentEncoding ?? password
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw invalid("the path /\(path) is not a database index") }
            self.database = db
        }
    }

    private static func redact(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "redis://***"
    }
}

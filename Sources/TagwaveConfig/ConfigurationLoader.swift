import Foundation
import TagwaveCache
import TagwaveEvents
import TagwaveHealth
import TagwaveRedis
import TagwaveWorker
import Yams

/// Reads and checks configuration files. Every problem is reported with its line, not just the first.
public enum ConfigurationLoader {
    /// Loads `path` (or, when nil, `TAGWAVE_CONFIG`, or defaults) and applies the environment.
    ///
    /// Environment: every single-valued key of the `redis`, `stream`, `ledger`, `cache`, `admin`,
    /// `warm` and `health` sections as `TAGWAVE_<SECTION>_<KEY>` (`TAGWAVE_STREAM_BATCH_SIZE`,
    /// `TAGWAVE_WARM_PREDICTIVE_BASE_URL`), checked like the file's values; then `REDIS_URL`,
    /// `REDIS_HOST`, `REDIS_PORT`, `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_DB`, `REDIS_CLUSTER`,
    /// `TAGWAVE_LEDGER`, `TAGWAVE_STREAM`, `TAGWAVE_GROUP`, `TAGWAVE_CONSUMER`, `TAGWAVE_ADMIN_BIND`,
    /// `TAGWAVE_ADMIN_TOKEN`, `CACHE_DEFAULT_TTL`.
    /// - Throws: ``ConfigurationError`` listing every problem.
    public static func load(path: String?, environment: [String: String], consumer: String? = nil) throws -> TagwaveConfiguration {
        let chosen = path ?? environment["TAGWAVE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let defaultConsumer = consumer ?? environment["TAGWAVE_CONSUMER"] ?? Self.hostName()
        var configuration = TagwaveConfiguration(consumer: defaultConsumer)
        var problems: [ConfigurationProblem] = []
        if let chosen {
            let text: String
            do {
                text = try String(contentsOfFile: chosen, encoding: .utf8)
            } catch {
                throw ConfigurationError(problems: [ConfigurationProblem(
                    file: chosen, line: 0, column: 0, message: "cannot read the file: \(error.localizedDescription); check the path (--config or TAGWAVE_CONFIG)")])
            }
            var reader = Reader(file: chosen)
            reader.read(text, into: &configuration)
            problems += reader.problems
            configuration.file = chosen
        }
        applyEnvironment(environment, to: &configuration, problems: &problems, consumerGiven: consumer != nil)
        // `--consumer` wins over the file and the environment, as its help says.
        if let consumer { configuration.worker.consumer = consumer }
        if let why = whyInvalidConsumer(configuration.worker.consumer), !problems.contains(where: { $0.message.hasPrefix("stream.consumer") }) {
            let source = consumer != nil ? "--consumer" : environment["TAGWAVE_CONSUMER"].map { _ in "TAGWAVE_CONSUMER" } ?? "the host name"
            problems.append(ConfigurationProblem(file: source, line: 0, column: 0, message: "the consumer name \(why)"))
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return configuration
    }

    /// Every problem of `path`, empty when it is valid (`tagwave config check`).
    public static func check(path: String, environment: [String: String] = [:]) -> [ConfigurationProblem] {
        do {
            _ = try load(path: path, environment: environment)
            return []
        } catch let error as ConfigurationError {
            return error.problems
        } catch {
            return [ConfigurationProblem(file: path, line: 0, column: 0, message: "\(error)")]
        }
    }

    /// Why `name` cannot be a worker's consumer name, or nil: `/` is kept for the names of the extra
    /// consumers `stream.concurrency` runs (`NAME/2`, `NAME/3`, …), which must not collide with a daemon's.
    static func whyInvalidConsumer(_ name: String) -> String? {
        guard name.contains("/") else { return nil }
        return "\"\(name)\" contains /, which is kept for the extra consumers of stream.concurrency (NAME/2, NAME/3, …): use another character, e.g. \"\(name.replacingOccurrences(of: "/", with: "-"))\""
    }

    /// The sections whose keys `TAGWAVE_<SECTION>_<KEY>` variables set.
    static let variableSections = ["redis", "stream", "ledger", "cache", "admin", "warm", "health"]

    /// Applies `TAGWAVE_<SECTION>_<KEY>=value` (and `TAGWAVE_WARM_PREDICTIVE_<KEY>`) as if the file
    /// said `section: { key: value }`, through the same reader: a bad value or an unknown key is a
    /// problem named after the variable. Empty values are ignored; variables of other sections
    /// (`TAGWAVE_CONFIG`, `TAGWAVE_LOG_LEVEL`) are not settings.
    private static func applySettingVariables(
        _ environment: [String: String], to configuration: inout TagwaveConfiguration, problems: inout [ConfigurationProblem]
    ) {
        // Sorted, so that problems come in a stable order and a predictive base URL before its thresholds.
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("TAGWAVE_") && !value.isEmpty {
            let words = name.dropFirst("TAGWAVE_".count).lowercased()
            guard let section = variableSections.first(where: { words.hasPrefix($0 + "_") }) else { continue }
            var key = String(words.dropFirst(section.count + 1))
            var node = Node.scalar(.init(value))
            if section == "warm", key.hasPrefix("predictive_") {
                key = String(key.dropFirst("predictive_".count))
                node = .mapping(Node.Mapping([(Node(key), node)]))
                key = "predictive"
            }
            var reader = Reader(file: name)
            let keyed = Node.mapping(Node.Mapping([(Node(key), node)]))
            reader.read(root: .mapping(Node.Mapping([(Node(section), keyed)])), into: &configuration)
            problems += reader.problems
        }
    }

    static func hostName() -> String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "tagwave"
    }

    private static func applyEnvironment(
        _ environment: [String: String], to configuration: inout TagwaveConfiguration, problems: inout [ConfigurationProblem], consumerGiven: Bool
    ) {
        func problem(_ message: String) { problems.append(ConfigurationProblem(file: "environment", line: 0, column: 0, message: message)) }
        applySettingVariables(environment, to: &configuration, problems: &problems)
        do {
            configuration.redis = try RedisConfiguration.fromEnvironment(environment, base: configuration.redis)
        } catch {
            problem("\(error)")
        }
        if let cluster = environment["REDIS_CLUSTER"], !cluster.isEmpty {
            do {
                configuration.redisCluster = try cluster.split(separator: ",").map {
                    try RedisConfiguration(url: $0.trimmingCharacters(in: .whitespaces))
                }
            } catch {
                problem("REDIS_CLUSTER: \(error) (a comma-separated list of redis:// URLs of cluster nodes)")
            }
            for seed in configuration.redisCluster where seed.database != 0 {
                problem("REDIS_CLUSTER: a Redis Cluster has only database 0, but \(seed.redactedURL) names database \(seed.database): drop the /\(seed.database)")
            }
        }
        if let ledger = environment["TAGWAVE_LEDGER"], !ledger.isEmpty { configuration.ledgerPath = ledger }
        if let stream = environment["TAGWAVE_STREAM"], !stream.isEmpty { configuration.worker.stream = stream }
        if let group = environment["TAGWAVE_GROUP"], !group.isEmpty { configuration.worker.group = group }
        if !consumerGiven, let consumer = environment["TAGWAVE_CONSUMER"], !consumer.isEmpty { configuration.worker.consumer = consumer }
        if let bind = environment["TAGWAVE_ADMIN_BIND"] { configuration.adminBind = bind.isEmpty || bind == "off" ? nil : bind }
        if let token = environment["TAGWAVE_ADMIN_TOKEN"], !token.isEmpty { configuration.adminToken = token }
        do {
            configuration.cache.ttlPolicy = try CacheTTLPolicy.fromEnvironment(environment, base: configuration.cache.ttlPolicy)
        } catch {
            problem("\(error)")
        }
    }
}

/// Walks the YAML tree, collecting problems with their marks.
struct Reader {
    let file: String
    var problems: [ConfigurationProblem] = []

    init(file: String) { self.file = file }

    mutating func problem(_ node: Node?, _ message: String) {
        problems.append(ConfigurationProblem(file: file, line: (node?.mark?.line ?? 0), column: node?.mark?.column ?? 0, message: message))
    }

    mutating func read(_ text: String, into configuration: inout TagwaveConfiguration) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            problems.append(Self.problem(from: error, file: file))
            return
        } catch {
            problems.append(ConfigurationProblem(file: file, line: 0, column: 0, message: "not YAML: \(error)"))
            return
        }
        guard let root else { return }  // an empty file: defaults
        read(root: root, into: &configuration)
    }

    /// Reads a composed document (the file's, or one an environment variable stands for).
    mutating func read(root: Node, into configuration: inout TagwaveConfiguration) {
        guard let mapping = mapping(root, "the top level", allowed: ["redis", "stream", "ledger", "cache", "admin", "rules", "warm", "health"]) else { return }
        for (key, value) in mapping {
            switch key.string ?? "" {
            case "redis": readRedis(value, into: &configuration)
            case "stream": readStream(value, into: &configuration.worker)
            case "ledger":
                guard let section = self.mapping(value, "ledger", allowed: ["path", "retention_days"]) else { continue }
                for (name, item) in section {
                    if name.string == "path", let path = string(item, "ledger.path") { configuration.ledgerPath = path }
                    if name.string == "retention_days", let days = integer(item, "ledger.retention_days", min: 1) { configuration.retentionDays = days }
                }
            case "cache": readCache(value, into: &configuration.cache)
            case "admin":
                guard let section = self.mapping(value, "admin", allowed: ["bind", "token"]) else { continue }
                for (name, item) in section {
                    if name.string == "bind", let bind = string(item, "admin.bind") { configuration.adminBind = bind == "off" ? nil : bind }
                    if name.string == "token", let token = string(item, "admin.token") { configuration.adminToken = token }
                }
            case "rules": configuration.rules = readRules(value)
            case "warm": readWarm(value, into: &configuration.warm)
            case "health": readHealth(value, into: &configuration.health)
            default: break
            }
        }
    }

    private mutating func readRedis(_ node: Node, into configuration: inout TagwaveConfiguration) {
        guard let section = mapping(node, "redis", allowed: ["url", "cluster", "pool_size", "connect_timeout_ms", "command_timeout_ms"])
        else { return }
        var redis = configuration.redis
        var seeds: [RedisConfiguration] = []
        for (name, item) in section {
            switch name.string ?? "" {
            case "cluster":
                if section.contains(where: { $0.0.string == "url" }) {
                    problem(name, "redis.url and redis.cluster both set: give the seed nodes of a cluster in redis.cluster only")
                }
                for seed in list(item, "redis.cluster") {
                    guard let url = string(seed, "redis.cluster") else { continue }
                    do {
                        let node = try RedisConfiguration(url: url)
                        if node.database != 0 {
                            problem(seed, "a Redis Cluster has only database 0, but \(node.redactedURL) names database \(node.database): drop the /\(node.database)")
                        }
                        seeds.append(node)
                    } catch {
                        problem(seed, "\(error)")
                    }
                }
                if seeds.isEmpty { problem(item, "redis.cluster names no node: list one or more, e.g. [\"redis://10.0.0.1:7000\"]") }
            case "url":
                guard let url = string(item, "redis.url") else { continue }
                do {
                    let parsed = try RedisConfiguration(url: url)
                    redis.host = parsed.host
                    redis.port = parsed.port
                    redis.username = parsed.username
                    redis.password = parsed.password
                    redis.database = parsed.database
                } catch {
                    problem(item, "\(error)")
                }
            case "pool_size": if let value = integer(item, "redis.pool_size", min: 2) { redis.poolSize = value }
            case "connect_timeout_ms": if let value = integer(item, "redis.connect_timeout_ms", min: 1) { redis.connectTimeout = .milliseconds(value) }
            case "command_timeout_ms": if let value = integer(item, "redis.command_timeout_ms", min: 1) { redis.commandTimeout = .milliseconds(value) }
            default: break
            }
        }
        configuration.redis = redis
        // Only a section that names the cluster changes it (a variable may set one other key).
        if section.contains(where: { $0.0.string == "cluster" }) { configuration.redisCluster = seeds }
    }

    private mutating func readStream(_ node: Node, into worker: inout WorkerConfiguration) {
        let keys: Set<String> = [
            "name", "group", "consumer", "batch_size", "concurrency", "block_ms", "claim_idle_ms", "delivery_limit", "retry_initial_ms", "retry_max_ms",
            "max_payload_bytes", "trim_interval_s", "idle_consumer_timeout_s",
        ]
        guard let section = mapping(node, "stream", allowed: keys) else { return }
        for (name, item) in section {
            let key = name.string ?? ""
            switch key {
            case "name": if let value = string(item, "stream.name") { worker.stream = value }
            case "group": if let value = string(item, "stream.group") { worker.group = value }
            case "consumer":
                if let value = string(item, "stream.consumer") {
                    if let why = ConfigurationLoader.whyInvalidConsumer(value) { problem(item, "stream.consumer \(why)") } else { worker.consumer = value }
                }
            case "batch_size": if let value = integer(item, "stream.batch_size", min: 1) { worker.batchSize = value }
            case "concurrency": if let value = integer(item, "stream.concurrency", min: 1) { worker.concurrency = value }
            case "block_ms": if let value = integer(item, "stream.block_ms", min: 1) { worker.block = .milliseconds(value) }
            case "claim_idle_ms": if let value = integer(item, "stream.claim_idle_ms", min: 100) { worker.claimIdle = .milliseconds(value) }
            case "delivery_limit": if let value = integer(item, "stream.delivery_limit", min: 1) { worker.deliveryLimit = value }
            case "retry_initial_ms": if let value = integer(item, "stream.retry_initial_ms", min: 1) { worker.initialRetryDelay = .milliseconds(value) }
            case "retry_max_ms": if let value = integer(item, "stream.retry_max_ms", min: 1) { worker.maxRetryDelay = .milliseconds(value) }
            case "max_payload_bytes": if let value = integer(item, "stream.max_payload_bytes", min: 2) { worker.maxPayloadBytes = value }
            case "trim_interval_s": if let value = integer(item, "stream.trim_interval_s", min: 0) { worker.trimInterval = value == 0 ? nil : .seconds(value) }
            case "idle_consumer_timeout_s":
                if let value = integer(item, "stream.idle_consumer_timeout_s", min: 0) { worker.idleConsumerTimeout = value == 0 ? nil : .seconds(value) }
            default: break
            }
        }
    }

    private mutating func readCache(_ node: Node, into cache: inout CacheConfiguration) {
        guard let section = mapping(node, "cache", allowed: ["prefix", "default_ttl", "ttl_classes", "max_stale_s"]) else { return }
        for (name, item) in section {
            switch name.string ?? "" {
            case "prefix":
                guard let prefix = string(item, "cache.prefix") else { continue }
                if prefix.isEmpty || prefix.contains(where: { "{} \n".contains($0) }) {
                    problem(item, "cache.prefix '\(prefix)' must be non-empty without spaces, { or }")
                } else {
                    cache.prefix = prefix
                }
            case "default_ttl": if let value = integer(item, "cache.default_ttl", min: 1) { cache.ttlPolicy.defaultSeconds = value }
            case "max_stale_s": if let value = integer(item, "cache.max_stale_s", min: 0) { cache.maxStale = .seconds(value) }
            case "ttl_classes":
                guard let classes = mapping(item, "cache.ttl_classes", allowed: nil) else { continue }
                for (className, seconds) in classes {
                    if let key = className.string, let value = integer(seconds, "cache.ttl_classes.\(key)", min: 1) { cache.ttlPolicy.classes[key] = value }
                }
            default: break
            }
        }
    }

    private mutating func readWarm(_ node: Node, into warm: inout WarmSettings) {
        let keys: Set<String> = [
            "delay_ms", "window_ms", "concurrency", "rate_per_s", "timeout_ms", "connect_timeout_ms", "retries", "backoff_ms",
            "record_coalesced", "predictive",
        ]
        guard let section = mapping(node, "warm", allowed: keys) else { return }
        for (name, item) in section {
            let key = name.string ?? ""
            switch key {
            case "delay_ms": if let value = integer(item, "warm.delay_ms", min: 0) { warm.delay = .milliseconds(value) }
            case "window_ms": if let value = integer(item, "warm.window_ms", min: 1) { warm.window = .milliseconds(value) }
            case "concurrency": if let value = integer(item, "warm.concurrency", min: 1) { warm.concurrency = value }
            case "rate_per_s":
                guard case .scalar(let scalar) = item, let value = Double(scalar.string), value.isFinite, value >= 0 else {
                    problem(item, "warm.rate_per_s must be a number of requests per second, 0 for no limit")
                    continue
                }
                warm.ratePerSecond = value
            case "timeout_ms": if let value = integer(item, "warm.timeout_ms", min: 1) { warm.timeout = .milliseconds(value) }
            case "connect_timeout_ms": if let value = integer(item, "warm.connect_timeout_ms", min: 1) { warm.connectTimeout = .milliseconds(value) }
            case "retries": if let value = integer(item, "warm.retries", min: 0) { warm.retries = value }
            case "backoff_ms": if let value = integer(item, "warm.backoff_ms", min: 1) { warm.initialBackoff = .milliseconds(value) }
            case "record_coalesced":
                guard case .scalar(let scalar) = item, let value = Bool(scalar.string) else {
                    problem(item, "warm.record_coalesced must be true or false")
                    continue
                }
                warm.recordCoalesced = value
            case "predictive": warm.predictive = readPredictive(item, over: warm.predictive)
            default: break
            }
        }
    }

    /// The `warm.predictive` section, its keys over those of `existing` (the file's, when a variable
    /// sets one key).
    private mutating func readPredictive(_ node: Node, over existing: PredictiveWarmSettings?) -> PredictiveWarmSettings? {
        guard let section = mapping(node, "warm.predictive", allowed: ["base_url", "min_per_minute", "max_per_tag"]) else { return existing }
        var baseURL = existing?.baseURL
        var minimum = existing?.minimumPerMinute
        var maximum = existing?.maximumPerTag
        for (name, item) in section {
            switch name.string ?? "" {
            case "base_url":
                guard let text = string(item, "warm.predictive.base_url") else { continue }
                let before = problems.count
                checkWarmTarget(text, item, "warm.predictive.base_url")
                if problems.count > before { continue }
                if text.contains("?") || text.contains("#") {
                    problem(item, "warm.predictive.base_url '\(text)' has a query or fragment: recorded targets bring their own; give http://host:port[/prefix]")
                    continue
                }
                baseURL = text
            case "min_per_minute":
                guard case .scalar(let scalar) = item, let value = Double(scalar.string), value.isFinite, value > 0 else {
                    problem(item, "warm.predictive.min_per_minute must be a number of requests per minute above 0, e.g. 0.5")
                    continue
                }
                minimum = value
            case "max_per_tag": if let value = integer(item, "warm.predictive.max_per_tag", min: 1) { maximum = value }
            default: break
            }
        }
        guard let baseURL else {
            // A base_url that is there but wrong has its own problem already.
            if section.contains(where: { $0.0.string == "base_url" }) { return existing }
            problem(node, "warm.predictive needs base_url: where recorded paths are requested, e.g. \"http://127.0.0.1:8080\"")
            return nil
        }
        var settings = PredictiveWarmSettings(baseURL: baseURL)
        settings.minimumPerMinute = minimum
        settings.maximumPerTag = maximum
        return settings
    }

    /// `health:`: per figure `warning/critical` (the names of `tagwave health --threshold`, with `_`
    /// or `-`), and the minimum reads and operations a rate is judged over.
    private mutating func readHealth(_ node: Node, into thresholds: inout HealthThresholds) {
        let figures = HealthThresholds.names + HealthThresholds.names.map { $0.replacingOccurrences(of: "-", with: "_") }
        guard let section = mapping(node, "health", allowed: Set(figures + ["minimum_reads", "minimum_operations"])) else { return }
        for (name, item) in section {
            let key = name.string ?? ""
            switch key {
            case "minimum_reads": if let value = integer(item, "health.minimum_reads", min: 1) { thresholds.minimumReads = value }
            case "minimum_operations":
                if let value = integer(item, "health.minimum_operations", min: 1) { thresholds.minimumOperations = value }
            default:
                guard let levels = string(item, "health.\(key)") else { continue }
                do {
                    try thresholds.set(key.replacingOccurrences(of: "_", with: "-"), levels)
                } catch {
                    problem(item, "health.\(key): \(error)")
                }
            }
        }
    }

    /// A `warm:` target the daemon can warm: an `http://` URL (it has no Swift closures, and no TLS).
    private mutating func checkWarmTarget(_ text: String, _ node: Node, _ label: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") {
            problem(
                node,
                "\(label) '\(text)' uses https, which the warmer does not speak (it has no TLS): warm the backend over "
                    + "http:// on the private network, or from Swift with a closure warmer (Warmer.register(name:))")
        } else if !lowered.hasPrefix("http://") {
            problem(
                node,
                "\(label) '\(text)' is not an http:// URL: the daemon warms by HTTP GET (closure warmers are registered "
                    + "in Swift with Warmer.register(name:) and requested with context.warm)")
        } else if text.contains(where: { $0 == " " || $0.isNewline }) {
            problem(node, "\(label) '\(text)' contains a space: percent-encode it (%20)")
        }
    }

    private mutating func readRules(_ node: Node) -> [InvalidationRule] {
        guard case .sequence(let sequence) = node else {
            problem(node, "rules must be a list of rules, each with `event:` and `invalidate:` or `warm:`")
            return []
        }
        var rules: [InvalidationRule] = []
        for (index, item) in sequence.enumerated() {
            let label = "rules[\(index)]"
            guard let rule = mapping(item, label, allowed: ["event", "invalidate", "warm", "fields"]) else { continue }
            var event: String?
            var invalidate: [TagTemplate] = []
            var warm: [TagTemplate] = []
            var declared: Set<String>?
            var templateNodes: [(TagTemplate, Node)] = []
            for (name, value) in rule {
                switch name.string ?? "" {
                case "event":
                    event = string(value, "\(label).event")
                    if let event, event.isEmpty || event.contains(where: \.isWhitespace) {
                        problem(value, "\(label).event '\(event)' must be a dotted event type such as session.created")
                    }
                case "invalidate", "warm":
                    for entry in list(value, "\(label).\(name.string ?? "")") {
                        guard let text = string(entry, "\(label).\(name.string ?? "") entry") else { continue }
                        if name.string == "warm" { checkWarmTarget(text, entry, "\(label).warm entry") }
                        do {
                            let template = try TagTemplate(text)
                            templateNodes.append((template, entry))
                            if name.string == "invalidate" { invalidate.append(template) } else { warm.append(template) }
                        } catch {
                            problem(entry, "template '\(text)' is invalid: \(error)")
                        }
                    }
                case "fields":
                    declared = Set(list(value, "\(label).fields").compactMap { string($0, "\(label).fields entry") })
                default: break
                }
            }
            guard let event else {
                problem(item, "\(label) has no `event:`: name the event type it applies to")
                continue
            }
            if invalidate.isEmpty && warm.isEmpty {
                problem(item, "\(label) (\(event)) has neither `invalidate:` nor `warm:`: it would do nothing")
            }
            if let declared {
                for (template, entry) in templateNodes {
                    for path in template.placeholders where !declared.contains(path.description) && !declared.contains(where: { path.description.hasPrefix($0 + ".") }) {
                        problem(entry, "template '\(template.text)' uses {\(path)}, which is not among the payload fields \(declared.sorted()) this rule declares: it can never be filled")
                    }
                }
            }
            rules.append(InvalidationRule(eventType: event, invalidate: invalidate, warm: warm))
        }
        return rules
    }

    // MARK: Node helpers

    private mutating func mapping(_ node: Node, _ label: String, allowed: Set<String>?) -> [(Node, Node)]? {
        guard case .mapping(let mapping) = node else {
            problem(node, "\(label) must be a mapping of keys to values")
            return nil
        }
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping {
            if let allowed, let name = key.string, !allowed.contains(name) {
                let hint = allowed.min { Self.distance($0, name) < Self.distance($1, name) }
                let suggestion = hint.map { Self.distance($0, name) <= 3 ? " (did you mean `\($0)`?)" : "" } ?? ""
                problem(key, "unknown key `\(name)` in \(label)\(suggestion); known keys: \(allowed.sorted().joined(separator: ", "))")
                continue
            }
            pairs.append((key, value))
        }
        return pairs
    }

    private mutating func list(_ node: Node, _ label: String) -> [Node] {
        if case .sequence(let sequence) = node { return Array(sequence) }
        problem(node, "\(label) must be a list, e.g. [\"teacher:{teacherId}\"]")
        return []
    }

    private mutating func string(_ node: Node, _ label: String) -> String? {
        guard case .scalar(let scalar) = node else {
            problem(node, "\(label) must be a single value")
            return nil
        }
        return scalar.string
    }

    private mutating func integer(_ node: Node, _ label: String, min: Int) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            problem(node, "\(label) must be a whole number")
            return nil
        }
        guard value >= min else {
            problem(node, "\(label) is \(value); it must be at least \(min)")
            return nil
        }
        return value
    }

    static func problem(from error: YamlError, file: String) -> ConfigurationProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigurationProblem(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        default:
            return ConfigurationProblem(file: file, line: 0, column: 0, message: "not valid YAML: \(error)")
        }
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

import Foundation
import TagwaveCache
import TagwaveConfig
import TagwaveEvents
import TagwaveHealth
import TagwaveRedis
import TagwaveWorker
import Testing

@Suite("The YAML configuration file")
struct ConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theExampleConfigurationsAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for file in ["examples/worker.yaml", "deploy/worker.example.yaml"] {
            let problems = ConfigurationLoader.check(path: root.appendingPathComponent(file).path)
            #expect(problems.isEmpty, "\(file): \(problems)")
        }
    }

    @Test func aValidFileGivesEverySettingAndTheEnvironmentOverridesIt() throws {
        let path = try write("""
            redis: { url: "redis://worker:secret@10.1.2.3:6380/2" }
            stream: { name: "domain", group: "g1", batch_size: 100, block_ms: 250, delivery_limit: 3 }
            ledger: { path: "/var/lib/tagwave/l.sqlite", retention_days: 7 }
            cache: { prefix: "app", default_ttl: 120, ttl_classes: { session-list: 30 } }
            rules:
              - event: session.created
                invalidate: ["teacher:{teacherId}", "school:{school.id}:sessions"]
                warm: ["http://127.0.0.1:8080/sessions?teacher={teacherId}"]
            """)
        let settings = try ConfigurationLoader.load(path: path, environment: ["REDIS_PORT": "7000", "TAGWAVE_LEDGER": "/tmp/x.sqlite"], consumer: "host-1")
        #expect(settings.redis.host == "10.1.2.3" && settings.redis.port == 7000 && settings.redis.username == "worker")
        #expect(settings.worker.stream == "domain" && settings.worker.group == "g1" && settings.worker.batchSize == 100)
        #expect(settings.worker.deliveryLimit == 3 && settings.worker.block == .milliseconds(250) && settings.worker.consumer == "host-1")
        #expect(settings.ledgerPath == "/tmp/x.sqlite" && settings.retentionDays == 7)
        #expect(settings.cache.prefix == "app" && settings.cache.ttlPolicy.duration(for: "session-list") == .seconds(30))
        #expect(settings.rules.count == 1 && settings.rules[0].templates.tags.count == 2 && settings.rules[0].templates.urls.count == 1)
    }

    @Test func everyProblemIsReportedWithItsLineAndReason() throws {
        let path = try write("""
            redis: { url: "http://nowhere" }
            stream: { name: "events", batch_sise: 10 }
            ledger: { retention_days: 0 }
            rules:
              - event: session.created
                fields: [teacherId]
                invalidate: ["teacher:{teacherId}", "school:{schoolId}", "broken:{"]
              - invalidate: ["x"]
            """)
        let problems = ConfigurationLoader.check(path: path)
        let byLine = Dictionary(grouping: problems, by: \.line)
        #expect(byLine[1]?.first?.message.contains("the scheme must be redis://") == true)
        #expect(byLine[2]?.first?.message.contains("unknown key `batch_sise` in stream (did you mean `batch_size`?)") == true)
        #expect(byLine[3]?.first?.message.contains("ledger.retention_days is 0; it must be at least 1") == true)
        #expect(byLine[7]?.contains { $0.message.contains("{schoolId}, which is not among the payload fields") } == true)
        #expect(byLine[7]?.contains { $0.message.contains("template 'broken:{' is invalid") } == true)
        #expect(byLine[8]?.first?.message.contains("has no `event:`") == true)
        #expect(problems.allSatisfy { $0.file == path && $0.column > 0 })
        #expect(problems.first?.description.hasPrefix("\(path):1:") == true)
    }

    @Test func everySettingOfTheSectionsHasAVariableThatWinsOverTheFile() throws {
        let path = try write("""
            redis: { cluster: ["redis://10.0.0.1:7000"] }
            stream: { batch_size: 100, delivery_limit: 3 }
            warm:
              predictive: { base_url: "http://app:8080", max_per_tag: 4 }
            """)
        let settings = try ConfigurationLoader.load(path: path, environment: [
            "TAGWAVE_STREAM_BATCH_SIZE": "250", "TAGWAVE_STREAM_CLAIM_IDLE_MS": "9000", "TAGWAVE_LEDGER_RETENTION_DAYS": "7",
            "TAGWAVE_CACHE_PREFIX": "app", "TAGWAVE_WARM_DELAY_MS": "40", "TAGWAVE_WARM_PREDICTIVE_MIN_PER_MINUTE": "0.25",
            "TAGWAVE_REDIS_POOL_SIZE": "9", "TAGWAVE_ADMIN_BIND": "off", "TAGWAVE_LOG_LEVEL": "debug", "TAGWAVE_CONFIG": path,
            "TAGWAVE_STREAM_GROUP": "",  // empty: ignored
        ], consumer: "h")
        #expect(settings.worker.batchSize == 250 && settings.worker.deliveryLimit == 3 && settings.worker.claimIdle == .milliseconds(9000))
        #expect(settings.worker.group == "invalidators")
        #expect(settings.retentionDays == 7 && settings.cache.prefix == "app" && settings.warm.delay == .milliseconds(40))
        #expect(settings.warm.predictive == {
            var predictive = PredictiveWarmSettings(baseURL: "http://app:8080")
            predictive.minimumPerMinute = 0.25
            predictive.maximumPerTag = 4
            return predictive
        }())
        #expect(settings.redis.poolSize == 9 && settings.redisCluster.map(\.port) == [7000], "one redis key leaves the cluster alone")
        #expect(settings.adminBind == nil)
    }

    @Test func aBadOrUnknownSettingVariableIsRefusedWithItsName() throws {
        let path = try write("stream: { name: events }")
        let problems = ConfigurationLoader.check(path: path, environment: [
            "TAGWAVE_STREAM_BATCH_SIZE": "lots", "TAGWAVE_STREAM_BATCH_SISE": "10", "TAGWAVE_WARM_PREDICTIVE_MAX_PER_TAG": "3",
        ])
        #expect(problems.map(\.description) == [
            "TAGWAVE_STREAM_BATCH_SISE: unknown key `batch_sise` in stream (did you mean `batch_size`?); known keys: "
                + "batch_size, block_ms, claim_idle_ms, concurrency, consumer, delivery_limit, group, idle_consumer_timeout_s, "
                + "max_payload_bytes, name, retry_initial_ms, retry_max_ms, trim_interval_s",
            "TAGWAVE_STREAM_BATCH_SIZE: stream.batch_size must be a whole number",
            #"TAGWAVE_WARM_PREDICTIVE_MAX_PER_TAG: warm.predictive needs base_url: where recorded paths are requested, e.g. "http://127.0.0.1:8080""#,
        ])
    }

    @Test func theHealthSectionSetsTheLevelsHealthIsJudgedBy() throws {
        let path = try write("""
            health: { lag: "1000/20000", dead_letters: "5/50", hit-rate: "90/70", minimum_reads: 20 }
            """)
        let health = try ConfigurationLoader.load(path: path, environment: ["TAGWAVE_HEALTH_LATENCY": "5/25"], consumer: "h").health
        #expect(health.consumerLag == .init(warning: 1000, critical: 20000) && health.deadLetters == .init(warning: 5, critical: 50))
        #expect(health.hitRate == .init(warning: 90, critical: 70) && health.minimumReads == 20)
        #expect(health.redisLatencyMilliseconds == .init(warning: 5, critical: 25))
        #expect(health.pending == HealthThresholds().pending)

        let problems = ConfigurationLoader.check(path: try write("""
            health:
              lag: 1000
              lagg: "1/2"
            """))
        #expect(problems.count == 2)
        #expect(problems.first { $0.line == 2 }?.message.contains("health.lag: threshold lag=1000: write warning/critical, e.g. lag=10000/100000") == true)
        #expect(problems.first { $0.line == 3 }?.message.contains("unknown key `lagg` in health (did you mean `lag`?)") == true)
    }

    @Test func predictiveWarmingNamesItsBaseURLAndThresholds() throws {
        let path = try write("""
            warm:
              delay_ms: 50
              predictive: { base_url: "http://10.0.0.5:8080/api/", min_per_minute: 0.5, max_per_tag: 3 }
            """)
        let predictive = try #require(try ConfigurationLoader.load(path: path, environment: [:], consumer: "h").warm.predictive)
        #expect(predictive.baseURL == "http://10.0.0.5:8080/api/")
        #expect(predictive.minimumPerMinute == 0.5 && predictive.maximumPerTag == 3)
        #expect(try ConfigurationLoader.load(path: try write("warm: { delay_ms: 5 }"), environment: [:], consumer: "h").warm.predictive == nil)
    }

    @Test func aPredictiveSectionWithoutABaseURLOrWithBadThresholdsIsRefusedWithTheLine() throws {
        let path = try write("""
            warm:
              predictive:
                min_per_minute: 0
                max_per_tag: 0
                treshold: 1
            rules:
              - event: a
                invalidate: ["a"]
            """)
        let problems = ConfigurationLoader.check(path: path)
        let byLine = Dictionary(grouping: problems, by: \.line)
        #expect(byLine[3]?.first?.message.contains("min_per_minute must be a number of requests per minute above 0") == true)
        #expect(byLine[4]?.first?.message.contains("warm.predictive.max_per_tag is 0; it must be at least 1") == true)
        #expect(byLine[5]?.first?.message.contains("unknown key `treshold` in warm.predictive") == true)
        #expect(problems.contains { $0.message.contains("warm.predictive needs base_url") })
        for (url, reason) in [
            ("https://app:8443", "uses https"), ("app:8080", "is not an http:// URL"), ("http://app:8080/?x=1", "has a query"),
        ] {
            let problems = ConfigurationLoader.check(path: try write("warm: { predictive: { base_url: \"\(url)\" } }"))
            #expect(problems.count == 1 && problems[0].line == 1 && problems[0].message.contains(reason), "\(url): \(problems)")
        }
    }

    @Test func aClusterIsGivenByItsSeedNodesWhichTakeTheRedisSettings() throws {
        let path = try write("""
            redis:
              cluster: ["redis://10.0.0.1:7000", "redis://ops:own@10.0.0.2:7001"]
              command_timeout_ms: 900
            """)
        let settings = try ConfigurationLoader.load(path: path, environment: ["REDIS_PASSWORD": "shared"], consumer: "c")
        #expect(settings.clusterSeeds.map(\.address) == ["10.0.0.1:7000", "10.0.0.2:7001"])
        #expect(settings.clusterSeeds.map(\.password) == ["shared", "own"])  // a seed's own credentials win
        #expect(settings.clusterSeeds.allSatisfy { $0.commandTimeout == .milliseconds(900) })
        let fromEnvironment = try ConfigurationLoader.load(
            path: nil, environment: ["REDIS_CLUSTER": "redis://a:7000, redis://b:7000"], consumer: "c")
        #expect(fromEnvironment.clusterSeeds.map(\.address) == ["a:7000", "b:7000"])
        #expect(try ConfigurationLoader.load(path: nil, environment: [:], consumer: "c").clusterSeeds.isEmpty)
    }

    @Test func aClusterNextToAURLOrWithADatabaseIsRefusedWithTheLine() throws {
        let path = try write("""
            redis:
              url: "redis://127.0.0.1:6379/0"
              cluster: ["redis://10.0.0.1:7000/3", "rediss://nope"]
            """)
        let problems = ConfigurationLoader.check(path: path)
        #expect(problems.contains { $0.line == 3 && $0.message.contains("redis.url and redis.cluster both set") })
        #expect(problems.contains { $0.line == 3 && $0.message.contains("rediss://nope") })
        #expect(problems.contains { $0.line == 3 && $0.message.contains("only database 0") })
    }

    @Test func theConsumerFlagWinsOverTheFileAndTheEnvironment() throws {
        let path = try write(#"stream: { consumer: "from-file" }"#)
        #expect(try ConfigurationLoader.load(path: path, environment: [:]).worker.consumer == "from-file")
        #expect(try ConfigurationLoader.load(path: path, environment: ["TAGWAVE_CONSUMER": "from-env"]).worker.consumer == "from-env")
        #expect(
            try ConfigurationLoader.load(path: path, environment: ["TAGWAVE_CONSUMER": "from-env"], consumer: "from-flag").worker.consumer
                == "from-flag")
    }

    @Test func aConsumerNameWithASlashIsRefusedBecauseTheExtraConsumersUseIt() throws {
        let path = try write("stream:\n  concurrency: 2\n  consumer: \"host-1/2\"\n")
        let problems = ConfigurationLoader.check(path: path)
        #expect(problems.count == 1 && problems[0].line == 3 && problems[0].message.contains("host-1-2"), "\(problems)")
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(path: nil, environment: [:], consumer: "a/b")
        }
        #expect(error?.problems.first?.description.hasPrefix("--consumer: the consumer name \"a/b\" contains /") == true, "\(String(describing: error))")
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: nil, environment: ["TAGWAVE_CONSUMER": "x/1"]) }
    }

    @Test func aFileThatIsNotYAMLIsRefusedWithTheLine() throws {
        let path = try write("stream:\n  name: [unclosed\n")
        let problems = ConfigurationLoader.check(path: path)
        #expect(problems.count == 1 && problems[0].line >= 2 && problems[0].message.hasPrefix("not valid YAML"))
    }

    @Test func aMissingFileSaysWhichPathWasTried() {
        let problems = ConfigurationLoader.check(path: "/nonexistent/worker.yaml")
        #expect(problems.first?.message.contains("cannot read the file") == true)
    }
}

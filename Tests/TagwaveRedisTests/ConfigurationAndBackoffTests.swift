import TagwaveRedis
import Testing

@Suite("Redis configuration from URLs and the environment")
struct RedisConfigurationTests {
    @Test func parsesUserPasswordHostPortAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://worker:p%40ss@redis.internal:6380/2")
        #expect(configuration.username == "worker")
        #expect(configuration.password == "p@ss")
        #expect(configuration.host == "redis.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.redactedURL == "redis://worker:***@redis.internal:6380/2")
    }

    @Test func seedVariablesOverrideTheURL() throws {
        let configuration = try RedisConfiguration.fromEnvironment([
            "REDIS_URL": "redis://10.0.0.1:7000/1", "REDIS_PORT": "7001", "REDIS_PASSWORD": "pw",
        ])
        #expect(configuration.host == "10.0.0.1")
        #expect(configuration.port == 7001)
        #expect(configuration.password == "pw")
        #expect(configuration.database == 1)
    }

    @Test func malformedSettingsAreRefusedWithTheReason() {
        let badPort = #expect(throws: RedisError.self) { try RedisConfiguration.fromEnvironment(["REDIS_PORT": "http"]) }
        #expect(badPort?.description == "REDIS_PORT=http is not a port number (1-65535)")
        let badURL = #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://x:secret@host") }
        #expect(badURL?.description.contains("the scheme must be redis://") == true)
        #expect(badURL?.description.contains("secret") == false)
    }
}

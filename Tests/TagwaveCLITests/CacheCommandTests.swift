import Foundation
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// `tagwave cache …` acts on the cache the configuration names: its prefix and TTL classes.
@Suite("The cache verbs")
struct CacheCommandTests {
    @Test func theVerbsUseTheConfigurationsPrefixUnlessPrefixIsGiven() async throws {
        try await CLIFixture.with { f in
            let config = f.directory.appendingPathComponent("app.yaml").path
            try """
                redis: { url: "\(f.server.url)" }
                cache: { prefix: "app", ttl_classes: { report: 90 } }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            func cache(_ arguments: String...) async throws -> CLIResult {
                try await f.run(["cache"] + arguments + ["--config", config])
            }
            let set = try await cache("set", "report:1", #""ready""#, "--tag", "reports", "--ttl", "report")
            #expect(set.status == 0, "\(set)")
            #expect(try await f.redis.send(RedisCommand("EXISTS", "app:e:report:1")).int == 1)
            #expect(try await f.redis.send(RedisCommand("EXISTS", "tw:e:report:1")).int == 0)
            let ttl = try await f.redis.send(RedisCommand("TTL", "app:e:report:1")).int ?? 0
            #expect(ttl > 80 && ttl <= 90 + 3600, "the report class's 90 s (plus the stale window): \(ttl)")

            #expect(try await cache("get", "report:1").output.contains(#""ready""#))
            #expect(try await cache("get", "report:1", "--prefix", "tw").status == 1, "--prefix wins over the file")
            let stats = try #require(try await cache("stats", "--json").json() as? [String: Any])
            #expect(stats["entries"] as? Int == 1)
            let invalidated = try #require(try await cache("invalidate", "reports", "--json").json() as? [String: Any])
            #expect((invalidated["tags"] as? [[String: Any]])?.first?["entries"] as? Int == 1)
            #expect(try await cache("get", "report:1").status == 1)
        }
    }
}

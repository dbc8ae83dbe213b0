// tagwave-bench: the worker's end-to-end throughput on the reference peer's workload
// (../shared/bench/peer_worker.py): 1,000 teachers' cached session lists tagged teacher:tN and
// school:sM, N `session.created` events, each invalidating its two tags; read, invalidate, ledger
// commit, XACK. Prints one line: "tagwave: N events in S s = R events/s".
//
//   tagwave-bench --port 6379 --events 200000 [--batch 1000] [--concurrency 2] [--ledger PATH]
import Foundation
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveWorker

func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

let port = Int(option("port", "6379"))!
let events = Int(option("events", "200000"))!
let batch = Int(option("batch", "1000"))!
// Consumers side by side in the one worker process (WorkerConfiguration.concurrency).
let concurrency = Int(option("concurrency", "2"))!
let teachers = 1000
let ledgerPath = option("ledger", FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-bench.sqlite").path)
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }

var logger = Logger(label: "bench")
logger.logLevel = .warning
var configuration = RedisConfiguration(port: port)
configuration.poolSize = 2 * concurrency + 2  // as `tagwave worker` sizes it
let redis = RedisClient(configuration: configuration, logger: logger)
let stream = "bench:events"
try await redis.send(RedisCommand("DEL", RedisArgument(stream)))

// The cache: one entry per teacher under teacher:tN and school:s(N % 50), as the peer populates.
let cache = TaggedCache(redis: redis, logger: logger)
for teacher in 0..<teachers {
    try await cache.setBytes(
        "sessions:teacher:t\(teacher)", Array(String(repeating: "x", count: 64).utf8), tags: ["teacher:t\(teacher)", "school:s\(teacher % 50)"],
        ttl: .duration(.seconds(600)))
}
// The events, pipelined 1,000 per round trip, in the peer's envelope.
for start in stride(from: 0, to: events, by: 1000) {
    let commands = (start..<min(start + 1000, events)).map { index in
        RedisCommand.xadd(stream, fields: [
            StreamField("id", "evt-\(index)"), StreamField("type", "session.created"),
            StreamField("payload", #"{"teacherId": "t\#(index % teachers)", "schoolId": "s\#(index % 50)", "sessionId": "x\#(index)"}"#),
        ])
    }
    _ = try await redis.pipeline(commands)
}
try await redis.xgroupCreate(stream, group: "bench", startID: "0")

let ledger = try await Ledger.open(path: ledgerPath, logger: logger)
var workerConfiguration = WorkerConfiguration(consumer: "bench-1")
workerConfiguration.stream = stream
workerConfiguration.group = "bench"
workerConfiguration.batchSize = batch
workerConfiguration.concurrency = concurrency
workerConfiguration.block = .milliseconds(100)
workerConfiguration.trimInterval = nil
let rules = [
    InvalidationRule(eventType: "session.created", invalidate: [try TagTemplate("teacher:{teacherId}"), try TagTemplate("school:{schoolId}")]),
    InvalidationRule(eventType: "session.updated", invalidate: [try TagTemplate("session:{sessionId}"), try TagTemplate("teacher:{teacherId}")]),
    InvalidationRule(eventType: "user.updated", invalidate: [try TagTemplate("user:{userId}")]),
]
let worker = Worker(redis: redis, ledger: ledger, cache: cache, configuration: workerConfiguration, rules: rules, logger: logger)

/// CPU seconds this process has used (user + system), and Redis's own.
func cpuSeconds() async throws -> (tagwave: Double, redis: Double) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let own = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    let info = try await redis.send(RedisCommand("INFO", "cpu")).string ?? ""
    let redisCPU = info.split(whereSeparator: \.isNewline).reduce(0.0) { total, line in
        let parts = line.split(separator: ":")
        guard parts.count == 2, parts[0] == "used_cpu_user" || parts[0] == "used_cpu_sys" else { return total }
        return total + (Double(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0)
    }
    return (own, redisCPU)
}

// A profiler attached from here on (`perf record -p`) sees only the worker's steady state.
FileHandle.standardError.write(Data("tagwave-bench: workload ready, worker starting\n".utf8))
let cpuBefore = try await cpuSeconds()
let started = ContinuousClock.now
let running = Task { try await worker.run() }
while worker.progress.processed < events {
    try await Task.sleep(for: .milliseconds(2))
}
let elapsed = ContinuousClock.now - started
let cpuAfter = try await cpuSeconds()
running.cancel()
_ = try? await running.value
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "tagwave: %d events in %.2f s = %.0f events/s (%d consumers, batches of %d)", events, seconds, Double(events) / seconds, concurrency, batch))
// On a shared 2-core host the rate varies from run to run; CPU time per event varies far less.
print(String(
    format: "tagwave: CPU per event %.1f µs in the worker + %.1f µs in redis-server",
    (cpuAfter.tagwave - cpuBefore.tagwave) / Double(events) * 1e6, (cpuAfter.redis - cpuBefore.redis) / Double(events) * 1e6))
let resident = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("VmHWM") } ?? ""
print("tagwave: peak resident memory \(resident.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?")")
await ledger.close()
await redis.shutdown()

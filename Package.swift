// swift-tools-version:6.1
// Tagwave: event-sourced cache invalidation for server-side Swift on Linux.
//
// One library target per concern; `tagwave` on top holds no business logic.
// Only `TagwaveRedis` touches hiredis's C API and only `TagwaveSQLite` touches SQLite's.
import PackageDescription

/// Strict settings, listed once for every Swift target.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The daemon's allocator: jemalloc (Debian's libjemalloc-dev), linked into the executables only.
/// Under the worker's load, glibc's malloc and free were a tenth of its CPU time, and jemalloc took
/// about 1.5 µs off each event (docs/benchmarks.md). Libraries and tests keep the system allocator.
let jemalloc: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "tagwave",
    products: [
        .library(name: "TagwaveRedis", targets: ["TagwaveRedis"]),
        .library(name: "TagwaveEvents", targets: ["TagwaveEvents"]),
        .library(name: "TagwaveCache", targets: ["TagwaveCache"]),
        .library(name: "TagwavePublisher", targets: ["TagwavePublisher"]),
        .library(name: "TagwaveLedger", targets: ["TagwaveLedger"]),
        .library(name: "TagwaveWorker", targets: ["TagwaveWorker"]),
        .library(name: "TagwaveWarmer", targets: ["TagwaveWarmer"]),
        .library(name: "TagwaveHealth", targets: ["TagwaveHealth"]),
        .library(name: "TagwaveConfig", targets: ["TagwaveConfig"]),
        .library(name: "TagwaveOperations", targets: ["TagwaveOperations"]),
        .library(name: "TagwaveMetrics", targets: ["TagwaveMetrics"]),
        .library(name: "TagwaveHummingbird", targets: ["TagwaveHummingbird"]),
        .library(name: "TagwaveAdmin", targets: ["TagwaveAdmin"]),
        .executable(name: "tagwave", targets: ["tagwave"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: C libraries (system packages: libhiredis-dev, libsqlite3-dev)
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        // MARK: Libraries
        .target(
            name: "_TagwaveThreads",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveRedis",
            dependencies: [
                "CHiredis",
                "_TagwaveThreads",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveEvents",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveCache",
            dependencies: [
                "TagwaveRedis",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwavePublisher",
            dependencies: [
                "TagwaveRedis",
                "TagwaveEvents",
                "TagwaveSQLite",
                "_TagwaveThreads",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveSQLite",
            dependencies: ["CSQLite"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveLedger",
            dependencies: [
                "TagwaveSQLite",
                "_TagwaveThreads",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "TagwaveWorker",
            dependencies: [
                "TagwaveRedis",
                "TagwaveEvents",
                "TagwaveCache",
                "TagwaveLedger",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "TagwaveWarmer",
            dependencies: [
                "TagwaveRedis",
                "TagwaveLedger",
                "TagwaveWorker",
                "TagwaveCache",
                "TagwaveEvents",
                "_TagwaveThreads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveHealth",
            dependencies: [
                "TagwaveRedis",
                "TagwaveLedger",
                "TagwaveCache",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveOperations",
            dependencies: [
                "TagwaveRedis",
                "TagwaveLedger",
                "TagwaveWorker",
                "TagwaveCache",
                "TagwaveEvents",
                "TagwavePublisher",
                "TagwaveHealth",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveConfig",
            dependencies: [
                "TagwaveRedis",
                "TagwaveEvents",
                "TagwaveCache",
                "TagwaveWorker",
                "TagwaveHealth",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: HTTP and metrics (C7, C8): only these and what uses them link Hummingbird and Prometheus
        .target(
            name: "TagwaveMetrics",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveHummingbird",
            dependencies: [
                "TagwaveCache",
                "TagwaveEvents",
                "TagwavePublisher",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TagwaveAdmin",
            dependencies: [
                "TagwaveRedis",
                "TagwaveCache",
                "TagwaveLedger",
                "TagwaveWorker",
                "TagwaveHealth",
                "TagwaveMetrics",
                "TagwaveOperations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The seed's classroom sessions API: cached GETs, a POST that publishes `session.created`.
        .executableTarget(
            name: "tagwave-example",
            dependencies: [
                "TagwaveHummingbird",
                "TagwaveCache",
                "TagwaveEvents",
                "TagwaveHealth",
                "TagwavePublisher",
                "TagwaveRedis",
                "TagwaveSQLite",
                "_TagwaveThreads",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/ClassroomSessions",
            swiftSettings: swiftSettings
        ),

        // MARK: The command-line tool (no business logic: every verb calls a library)
        .executableTarget(
            name: "tagwave",
            dependencies: [
                "TagwaveRedis",
                "TagwaveLedger",
                "TagwaveWorker",
                "TagwaveCache",
                "TagwaveConfig",
                "TagwavePublisher",
                "TagwaveWarmer",
                "TagwaveOperations",
                "TagwaveAdmin",
                "TagwaveHealth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: jemalloc
        ),

        // MARK: Benchmarks (run by scripts/bench, side by side with ../shared/bench; never by tests)
        .executableTarget(
            name: "tagwave-bench",
            dependencies: [
                "TagwaveRedis", "TagwaveEvents", "TagwaveCache", "TagwaveLedger", "TagwaveWorker",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/WorkerThroughput",
            swiftSettings: swiftSettings,
            linkerSettings: jemalloc
        ),

        // MARK: Build tooling: `migrations/*.sql` compiled into the ledger module
        .executableTarget(
            name: "tagwave-embed-migrations",
            path: "Plugins/EmbedMigrationsTool",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["tagwave-embed-migrations"]
        ),

        // MARK: Tests (real redis-server, real SQLite files)
        .target(
            name: "TagwaveTestSupport",
            dependencies: [
                "TagwaveRedis",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TagwaveTestSupport",
            swiftSettings: swiftSettings
        ),
        // `tagwave-test-child <role> args…`: a separate process for tests that need several
        // (processes sharing one ledger file); tests find it next to the test bundle.
        .executableTarget(
            name: "tagwave-test-child",
            dependencies: [
                "TagwaveLedger",
                "TagwaveCache",
                "TagwaveRedis",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TagwaveTestChild",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveRedisTests",
            dependencies: ["TagwaveRedis", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveEventsTests",
            dependencies: ["TagwaveEvents", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveCacheTests",
            dependencies: ["TagwaveCache", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwavePublisherTests",
            dependencies: ["TagwavePublisher", "TagwaveEvents", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveWarmerTests",
            dependencies: ["TagwaveWarmer", "TagwaveWorker", "TagwaveLedger", "TagwaveCache", "TagwaveEvents", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveHealthTests",
            dependencies: ["TagwaveHealth", "TagwaveLedger", "TagwaveCache", "TagwaveRedis", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveOperationsTests",
            dependencies: ["TagwaveOperations", "TagwaveWorker", "TagwaveLedger", "TagwaveCache", "TagwaveEvents", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveCLITests",
            dependencies: ["TagwaveLedger", "TagwaveRedis", "TagwaveCache", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveConfigTests",
            dependencies: ["TagwaveConfig", "TagwaveWorker", "TagwaveRedis", "TagwaveCache", "TagwaveEvents", "TagwaveHealth"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveWorkerTests",
            dependencies: ["TagwaveWorker", "TagwaveCache", "TagwaveLedger", "TagwaveEvents", "TagwaveSQLite", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveHummingbirdTests",
            dependencies: [
                "TagwaveHummingbird", "TagwaveCache", "TagwaveEvents", "TagwaveRedis", "TagwaveTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveAdminTests",
            dependencies: [
                "TagwaveAdmin", "TagwaveMetrics", "TagwaveWorker", "TagwaveLedger", "TagwaveCache", "TagwaveRedis",
                "TagwaveEvents", "TagwaveHealth", "TagwaveTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TagwaveLedgerTests",
            dependencies: ["TagwaveLedger", "TagwaveSQLite", "TagwaveTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

import ArgumentParser
import Foundation
import Logging
import TagwaveLedger

/// `tagwave migrate`: apply or list the ledger's migrations.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending ledger migrations (creating the ledger if needed), or list them with --status.",
        discussion: "Example: tagwave migrate --ledger /var/lib/tagwave/ledger.sqlite --status")

    @Option(help: "The ledger file (default: TAGWAVE_LEDGER or ./tagwave.sqlite).") var ledger: String?
    @Flag(help: "List migrations and whether they are applied; change nothing.") var status = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        Tagwave.bootstrapLogging(level: .warning)
        let path = ledger ?? ProcessInfo.processInfo.environment["TAGWAVE_LEDGER"] ?? "./tagwave.sqlite"
        try await reportingErrors {
            let options = LedgerOptions(createIfMissing: !status, applyMigrations: !status)
            let opened = try await Ledger.open(path: path, logger: Logger(label: "tagwave.migrate"), options: options)
            let migrations = try await opened.migrationStatus()
            await opened.close()
            if json {
                struct Row: Encodable { let version: Int; let name: String; let appliedAt: String? }
                print(try JSONText.encode(migrations.map { Row(version: $0.version, name: $0.name, appliedAt: $0.appliedAt?.description) }))
            } else {
                print(Table(["VERSION", "NAME", "APPLIED"], migrations.map { ["\($0.version)", $0.name, $0.appliedAt?.description ?? "pending"] }).rendered)
            }
        }
    }
}

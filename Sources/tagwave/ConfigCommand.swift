import ArgumentParser
import Foundation
import TagwaveConfig
import TagwaveRedis
import TagwaveWorker

/// `tagwave config check`: every problem of a configuration file, with line and reason.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check configuration files.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem of FILE (with its line) and exit 78, or say it is valid and exit 0.",
            discussion: "Example: tagwave config check /etc/tagwave/worker.yaml")

        @Argument(help: "The YAML configuration file (default: TAGWAVE_CONFIG).") var file: String?

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            guard let path = file ?? environment["TAGWAVE_CONFIG"] else {
                throw CommandError(message: "name a file: tagwave config check FILE (or set TAGWAVE_CONFIG)", code: ExitCode.validationFailure)
            }
            do {
                let settings = try ConfigurationLoader.load(path: path, environment: environment)
                print("\(path): valid — stream \(settings.worker.stream), group \(settings.worker.group), \(settings.rules.count) rules, ledger \(settings.ledgerPath), Redis \(settings.redis.redactedURL)")
            } catch let error as ConfigurationError {
                for problem in error.problems { print(problem) }
                printError("\(error.problems.count) problem\(error.problems.count == 1 ? "" : "s") in \(path): the worker refuses to start with it")
                throw ExitCodes.configError
            }
        }
    }
}

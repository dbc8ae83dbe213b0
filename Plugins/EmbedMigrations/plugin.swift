import Foundation
import PackagePlugin

/// Compiles `<package>/migrations/*.sql` into the target as `EmbeddedMigrations.swift`.
///
/// The tool is given the directory and lists `*.sql` in it itself. SwiftPM asks this plugin for
/// its commands only when it re-plans the build (a manifest or target file-set change), not when
/// a file appears in `migrations/`, which belongs to no target; so a file list computed here
/// would go stale. The directory is an input of the command instead: adding, removing or
/// renaming a file changes the directory, editing one changes that file (also an input), and
/// either re-runs the tool.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "migrations", directoryHint: .isDirectory)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
        } catch {
            throw EmbedMigrationsError(
                "no migrations directory at \(directory.path(percentEncoded: false)): "
                    + "the \(target.name) target embeds migrations/*.sql, keep that directory in the package"
            )
        }
        let inputs = names.filter { $0.hasSuffix(".sql") }.sorted().map {
            directory.appending(path: $0, directoryHint: .notDirectory)
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding migrations/*.sql into \(target.name)",
                executable: try context.tool(named: "tagwave-embed-migrations").url,
                arguments: [output.path(percentEncoded: false), directory.path(percentEncoded: false)],
                inputFiles: [directory] + inputs,
                outputFiles: [output]
            )
        ]
    }
}

/// A plugin failure SwiftPM shows as the build error.
struct EmbedMigrationsError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

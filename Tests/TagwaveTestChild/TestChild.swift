import Foundation

/// `tagwave-test-child <role> args…`: a separate process that tests start when they need more
/// than one (several processes sharing one ledger file or one cache, a lease holder killed mid-factory, …).
///
/// Each role is a small type with `run(arguments:)`; the process exits 0 when the role finished,
/// 1 with the error on standard error when it failed, 64 for a usage error.
@main
struct TestChild {
    /// The roles by name.
    static let roles: [String: @Sendable ([String]) async throws -> Void] = [
        "ledger-writer": LedgerWriterRole.run(arguments:),
        "cache-get-or-set": CacheGetOrSetRole.run(arguments:),
        "memory-tier-listener": MemoryTierListenerRole.run(arguments:),
    ]

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let role = roles[name] else {
            let known = roles.keys.sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: tagwave-test-child <role> args… (roles: \(known))\n".utf8))
            exit(64)
        }
        do {
            try await role(Array(arguments.dropFirst()))
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("usage: tagwave-test-child \(name) \(error.usage)\n".utf8))
            exit(64)
        } catch {
            FileHandle.standardError.write(Data("tagwave-test-child \(name): \(error)\n".utf8))
            exit(1)
        }
    }
}

/// Wrong arguments for a role; `usage` shows the right ones.
struct UsageError: Error {
    let usage: String
}

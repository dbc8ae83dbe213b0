import ArgumentParser
import Foundation
import TagwaveCache
import TagwaveLedger
import TagwaveRedis

/// The exit codes `tagwave` documents (sysexits where one fits).
enum ExitCodes {
    static let notFound = ExitCode(1)
    static let unhealthy = ExitCode(2)
    static let dataError = ExitCode(65)
    static let unavailable = ExitCode(69)
    static let internalError = ExitCode(70)
    static let configError = ExitCode(78)
}

/// Runs a verb's body, turning library errors into one line on stderr and a meaningful exit code.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as RedisError {
        printError(error.description)
        throw error.isConnectionProblem || error.code == .authenticationFailed ? ExitCodes.unavailable : ExitCodes.internalError
    } catch let error as CacheError {
        printError(error.description)
        if error.code == .redis { throw ExitCodes.unavailable }
        throw error.code == .invalidKey || error.code == .invalidTag ? ExitCodes.dataError : ExitCodes.internalError
    } catch let error as LedgerError {
        printError(error.description)
        throw ExitCodes.unavailable
    } catch let error as CommandError {
        printError(error.message)
        throw error.code
    }
}

/// A verb's own failure: a message and an exit code.
struct CommandError: Error {
    let message: String
    let code: ExitCode
}

func printError(_ message: String) {
    var standardError = StandardError()
    print("tagwave: \(message)", to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

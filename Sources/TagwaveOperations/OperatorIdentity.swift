import Foundation

/// Who runs an operator's command, for the audit trail: `user@host`.
public enum OperatorIdentity {
    /// `$USER@<short host name>` (`$LOGNAME`, else `tagwave`, when `$USER` is unset).
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "tagwave"
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        return "\(user)@\(host)"
    }
}

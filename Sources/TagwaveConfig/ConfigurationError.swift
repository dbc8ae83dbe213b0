/// One problem of a configuration file, with where it is.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// Line, from 1 (0 when the problem is not on one line, e.g. an environment variable).
    public var line: Int
    /// Column, from 1.
    public var column: Int
    /// What is wrong and what to write instead.
    public var message: String

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// A configuration that cannot be used: every problem found, each with file, line and reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var problems: [ConfigurationProblem]

    public var description: String {
        (["invalid configuration (\(problems.count) problem\(problems.count == 1 ? "" : "s")):"] + problems.map { "  \($0)" })
            .joined(separator: "\n")
    }
}

import Foundation
import Testing

/// The Lua scripts of docs/cache-protocol.md, for tests that hold the code to the document.
enum DocumentedScripts {
    /// The first ```lua block after `heading` in docs/cache-protocol.md, trimmed.
    static func script(after heading: String) throws -> String {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/cache-protocol.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.range(of: heading), "docs/cache-protocol.md lost its section \(heading)")
        let start = try #require(text.range(of: "```lua\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return text[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

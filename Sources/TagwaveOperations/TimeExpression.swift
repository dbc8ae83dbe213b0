import Foundation
import TagwaveEvents
import TagwaveLedger

/// A point in time as an operator writes it on the command line: an RFC 3339 time
/// (`2024-05-01T12:00:00Z`), a date (`2024-05-01`, midnight UTC), Unix epoch milliseconds, or a
/// duration before now (`90s`, `15m`, `2h`, `7d`, `1w`, `1h30m`).
///
/// ```swift
/// let since = try TimeExpression("2h").resolved(now: .now())   // two hours ago
/// ```
public struct TimeExpression: Sendable, Hashable, CustomStringConvertible {
    private enum Form: Sendable, Hashable {
        case absolute(LedgerTimestamp)
        case ago(Duration)
    }

    private let form: Form
    /// The text as written.
    public let description: String

    /// Parses `text`.
    ///
    /// - Throws: ``OperationsError`` (`invalidInput`) showing the accepted forms.
    public init(_ text: String) throws {
        description = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let duration = Self.duration(trimmed) {
            form = .ago(duration)
        } else if let time = EventTime(parsing: trimmed) {
            form = .absolute(LedgerTimestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch))
        } else if trimmed.count == 10, let time = EventTime(parsing: trimmed + "T00:00:00Z") {
            form = .absolute(LedgerTimestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch))
        } else {
            throw OperationsError(
                .invalidInput,
                "\"\(text)\" is not a time: write an RFC 3339 time (2024-05-01T12:00:00Z), a date (2024-05-01), "
                    + "epoch milliseconds, or a duration before now (90s, 15m, 2h, 7d, 1h30m)")
        }
    }

    /// True for a duration before now (`2h`): it means another time at each run.
    public var isRelative: Bool {
        if case .ago = form { return true }
        return false
    }

    /// The time it denotes when `now` is the current time.
    public func resolved(now: LedgerTimestamp) -> LedgerTimestamp {
        switch form {
        case .absolute(let time): time
        case .ago(let duration): now.advanced(by: .zero - duration)
        }
    }

    /// `1h30m` → 5400 s; nil when `text` is not a sequence of <number><unit>.
    static func duration(_ text: String) -> Duration? {
        var total = Duration.zero
        var digits = ""
        var parts = 0
        var characters = Array(text)[...]
        while let character = characters.first {
            if character.isASCII, character.isNumber {
                digits.append(character)
                characters.removeFirst()
                continue
            }
            var unit = String(character)
            characters.removeFirst()
            if unit == "m", characters.first == "s" {
                unit = "ms"
                characters.removeFirst()
            }
            guard let value = Int64(digits) else { return nil }
            digits = ""
            parts += 1
            switch unit {
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            case "d": total += .seconds(value * 86_400)
            case "w": total += .seconds(value * 604_800)
            default: return nil
            }
        }
        return digits.isEmpty && parts > 0 ? total : nil
    }
}

import Synchronization
import TagwaveEvents

/// Time-ordered event ids in the UUID version 7 layout of RFC 9562: 48 bits of Unix milliseconds,
/// then 74 random bits (with the version and variant bits set), written as lower-case UUID text,
/// e.g. `0190a5f0-3c1e-7b2a-9f4d-5e6c7d8e9f01`.
///
/// The text sorts like the time: the ledger's unique index on event ids gets appending inserts.
/// Ids of one process strictly increase, also within one millisecond and when the wall clock steps
/// back (RFC 9562 §6.2, method 2: the random part of the previous id plus one, for as long as the
/// clock has not moved past it).
enum TimeOrderedID {
    private struct State {
        var milliseconds: UInt64 = 0
        /// `rand_a`: 12 bits.
        var high: UInt16 = 0
        /// `rand_b`: 62 bits.
        var low: UInt64 = 0
    }

    private static let state = Mutex(State())
    private static let lowMask: UInt64 = (1 << 62) - 1

    /// The next id, from the wall clock.
    static func next() -> String {
        next(now: UInt64(max(0, EventTime.now().millisecondsSinceEpoch)))
    }

    /// The next id at `now` (Unix milliseconds).
    static func next(now: UInt64) -> String {
        let (milliseconds, high, low) = state.withLock { state -> (UInt64, UInt16, UInt64) in
            if now > state.milliseconds {
                var random = SystemRandomNumberGenerator()
                state.milliseconds = now
                state.high = UInt16.random(in: 0...0x0FFF, using: &random)
                state.low = UInt64.random(in: 0...lowMask, using: &random)
            } else if state.low < lowMask {
                state.low += 1
            } else if state.high < 0x0FFF {
                state.low = 0
                state.high += 1
            } else {
                state.low = 0
                state.high = 0
                state.milliseconds += 1
            }
            return (state.milliseconds, state.high, state.low)
        }
        var text = ""
        text.reserveCapacity(36)
        appendHex(milliseconds >> 16, digits: 8, to: &text)
        text += "-"
        appendHex(milliseconds & 0xFFFF, digits: 4, to: &text)
        text += "-"
        appendHex(0x7000 | UInt64(high), digits: 4, to: &text)
        text += "-"
        appendHex(0x8000 | (low >> 48), digits: 4, to: &text)
        text += "-"
        appendHex(low & 0xFFFF_FFFF_FFFF, digits: 12, to: &text)
        return text
    }

    private static func appendHex(_ value: UInt64, digits: Int, to text: inout String) {
        let alphabet = Array("0123456789abcdef".unicodeScalars)
        for position in stride(from: digits - 1, through: 0, by: -1) {
            text.unicodeScalars.append(alphabet[Int((value >> UInt64(position * 4)) & 0xF)])
        }
    }
}

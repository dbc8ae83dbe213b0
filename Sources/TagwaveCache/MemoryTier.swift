import Synchronization

/// The in-process tier: decoded values by key, bounded by count and bytes, least recently used
/// evicted first, and evicted by tag when any instance invalidates one of its tags.
final class MemoryTier: Sendable {
    private struct Slot {
        var value: any Sendable
        var tags: [String]
        var bytes: Int
        var expires: ContinuousClock.Instant
        var lastUse: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var keysByTag: [String: Set<String>] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let configuration: MemoryTierConfiguration
    private let state = Mutex(State())

    init(configuration: MemoryTierConfiguration) {
        self.configuration = configuration
    }

    var count: Int { state.withLock { $0.slots.count } }
    var bytes: Int { state.withLock { $0.bytes } }

    func get<T>(_ key: String, as type: T.Type) -> T? {
        state.withLock { state in
            guard var slot = state.slots[key] else { return nil }
            guard slot.expires > .now, let value = slot.value as? T else {
                Self.remove(key, from: &state)
                return nil
            }
            state.clock &+= 1
            slot.lastUse = state.clock
            state.slots[key] = slot
            return value
        }
    }

    func set(_ key: String, value: any Sendable, tags: [String], bytes: Int, freshFor: Duration) {
        guard bytes <= configuration.maxBytes else { return }
        let age = min(freshFor, configuration.maxAge)
        state.withLock { state in
            Self.remove(key, from: &state)
            state.clock &+= 1
            state.slots[key] = Slot(value: value, tags: tags, bytes: bytes, expires: .now + age, lastUse: state.clock)
            state.bytes += bytes
            for tag in tags { state.keysByTag[tag, default: []].insert(key) }
            while state.slots.count > configuration.maxEntries || state.bytes > configuration.maxBytes {
                guard let oldest = state.slots.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { break }
                Self.remove(oldest, from: &state)
            }
        }
    }

    func remove(_ key: String) {
        state.withLock { Self.remove(key, from: &$0) }
    }

    func evict(tags: some Sequence<String>) {
        state.withLock { state in
            for tag in tags {
                for key in state.keysByTag[tag] ?? [] { Self.remove(key, from: &state) }
            }
        }
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }

    private static func remove(_ key: String, from state: inout State) {
        guard let slot = state.slots.removeValue(forKey: key) else { return }
        state.bytes -= slot.bytes
        for tag in slot.tags {
            state.keysByTag[tag]?.remove(key)
            if state.keysByTag[tag]?.isEmpty == true { state.keysByTag[tag] = nil }
        }
    }
}

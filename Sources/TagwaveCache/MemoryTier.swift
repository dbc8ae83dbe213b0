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
        /// Bumped by every eviction by tag and every clearing.
        var generation: UInt64 = 0
        /// The generation of each tag's last eviction (bounded: see `evict`).
        var evictedAt: [String: UInt64] = [:]
        /// The generation of the last clearing: values read before it are refused.
        var clearedAt: UInt64 = 0
    }

    /// Tags whose last eviction is remembered; past this, the tier forgets them and refuses every
    /// value read before (as after a clearing).
    private static let rememberedEvictions = 10_000

    let configuration: MemoryTierConfiguration
    private let state = Mutex(State())

    init(configuration: MemoryTierConfiguration) {
        self.configuration = configuration
    }

    var count: Int { state.withLock { $0.slots.count } }
    var bytes: Int { state.withLock { $0.bytes } }

    /// A mark to take before reading a value's tag versions from Redis: ``set(_:value:tags:bytes:freshFor:readAt:)``
    /// refuses the value when one of its tags was evicted, or the tier cleared, after the mark
    /// (the invalidation's broadcast arrived while the value was being read or computed).
    var generation: UInt64 { state.withLock { $0.generation } }

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

    func set(_ key: String, value: any Sendable, tags: [String], bytes: Int, freshFor: Duration, readAt mark: UInt64? = nil) {
        guard bytes <= configuration.maxBytes else { return }
        let age = min(freshFor, configuration.maxAge)
        state.withLock { state in
            if let mark {
                guard state.clearedAt <= mark, tags.allSatisfy({ (state.evictedAt[$0] ?? 0) <= mark }) else {
                    Self.remove(key, from: &state)
                    return
                }
            }
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
            state.generation &+= 1
            for tag in tags {
                state.evictedAt[tag] = state.generation
                for key in state.keysByTag[tag] ?? [] { Self.remove(key, from: &state) }
            }
            if state.evictedAt.count > Self.rememberedEvictions {
                state.evictedAt = [:]
                state.clearedAt = state.generation
            }
        }
    }

    func removeAll() {
        state.withLock { state in
            let generation = state.generation &+ 1
            state = State()
            state.generation = generation
            state.clearedAt = generation
        }
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

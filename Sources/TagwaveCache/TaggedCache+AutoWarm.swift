import Logging
import Synchronization

/// The keys this process warms again after their tags' invalidations, in registration order.
struct AutoWarmRegistry: Sendable {
    struct Registration: Sendable {
        var tags: [String]
        var refill: @Sendable () async -> Void
    }

    var byKey: [String: Registration] = [:]
    /// Keys, oldest registration first (the one forgotten past the bound).
    var order: [String] = []
    /// Keys whose refill is scheduled and not yet done.
    var scheduled: Set<String> = []
}

extension TaggedCache {
    /// Remembers `key` for auto-warming; a later registration of the key replaces the earlier one.
    func registerAutoWarm<T: Codable & Sendable>(
        _ key: String, tags: [String], ttl: CacheTTL, factory: @escaping @Sendable () async throws -> T
    ) {
        guard let settings = configuration.autoWarm else {
            logger.debug("getOrSet(autoWarm: true) without CacheConfiguration.autoWarm: not auto-warmed", metadata: ["tagwave.cache.key": "\(key)"])
            return
        }
        guard !tags.isEmpty else { return }  // no tag, no invalidation to follow
        let refill: @Sendable () async -> Void = { [weak self] in
            guard let self else { return }
            do {
                _ = try await self.getOrSet(key, tags: tags, ttl: ttl, factory: factory)
            } catch {
                self.logger.warning("auto-warm of \(key) failed; the next reader computes it", metadata: ["error": "\(error)"])
            }
        }
        autoWarmed.withLock { registry in
            if registry.byKey.updateValue(.init(tags: tags, refill: refill), forKey: key) == nil {
                registry.order.append(key)
                if registry.order.count > settings.maxKeys {
                    registry.byKey[registry.order.removeFirst()] = nil
                }
            }
        }
    }

    /// Schedules the refill of every auto-warmed key under one of `tags` (once per key while one is
    /// pending), ``AutoWarmConfiguration/delay`` from now.
    func autoWarm(afterInvalidationOf tags: [String]) {
        guard let settings = configuration.autoWarm else { return }
        let invalidated = Set(tags)
        let due = autoWarmed.withLock { registry -> [(String, @Sendable () async -> Void)] in
            let keys = registry.byKey.filter { !registry.scheduled.contains($0.key) && $0.value.tags.contains(where: invalidated.contains) }
            registry.scheduled.formUnion(keys.keys)
            return keys.map { ($0.key, $0.value.refill) }
        }
        for (key, refill) in due {
            Task { [weak self] in
                try? await Task.sleep(for: settings.delay)
                _ = self?.autoWarmed.withLock { $0.scheduled.remove(key) }
                await refill()
            }
        }
    }

    /// Keys registered for auto-warming now.
    public var autoWarmedKeys: [String] { autoWarmed.withLock { $0.order } }
}

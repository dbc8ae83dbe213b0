import Foundation
import TagwaveRedis

/// The Redis key layout of the tagged cache (see docs/cache-protocol.md).
///
/// The keys of one tag share the hash tag `{tag}`, so the scripts that touch them together run in
/// one Redis Cluster slot; entries and tags never need to share a slot.
struct CacheKeys: Sendable {
    let prefix: String
    /// `P:{`, the start of every tag key.
    let tagKeyHead: String

    init(prefix: String) {
        self.prefix = prefix
        self.tagKeyHead = prefix + ":{"
    }

    /// `P:e:<key>`: the entry (header + payload).
    func entry(_ key: String) -> String { "\(prefix):e:\(key)" }
    /// `P:{<tag>}:v`: the tag's version, an integer; absent means 0.
    func version(_ tag: String) -> String { String(decoding: tagKey(tag, ":v"), as: UTF8.self) }
    /// `P:{<tag>}:m`: sorted set of entry keys under the tag, scored by their expiry (ms).
    func members(_ tag: String) -> String { String(decoding: tagKey(tag, ":m"), as: UTF8.self) }
    /// `P:{<tag>}:d`: sorted set of the targets requested under the tag, scored by decayed demand
    /// (``DemandRecorder``).
    func demand(_ tag: String) -> String { String(decoding: tagKey(tag, ":d"), as: UTF8.self) }
    /// `P:{<tag>}:gc:<id>`: the member set of an invalidated version, awaiting reclamation.
    func garbage(_ tag: String, id: String) -> String { String(decoding: tagKey(tag, ":gc:" + id), as: UTF8.self) }

    /// `P:{<tag>}<suffix>` as bytes.
    func tagKey(_ tag: String, _ suffix: String) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(prefix.utf8.count + tag.utf8.count + suffix.utf8.count + 3)
        key.append(contentsOf: prefix.utf8)
        key.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: "{")])
        key.append(contentsOf: tag.utf8)
        key.append(UInt8(ascii: "}"))
        key.append(contentsOf: suffix.utf8)
        return key
    }
    /// Appends `P:{<tag>}<suffix>` as one argument, given `closing` = `}<suffix>`: an invalidation
    /// writes three per tag.
    func appendTagKey(_ tag: String, closedBy closing: String, to arguments: inout RedisArgumentWriter) {
        arguments.append(concatenating: tagKeyHead.utf8, tag.utf8, closing.utf8)
    }
    /// `P:gc`: list of garbage sets to reclaim.
    var garbageQueue: String { "\(prefix):gc" }
    /// `P:l:<key>`: the lease of the process computing `key` (stampede protection).
    func lease(_ key: String) -> String { "\(prefix):l:\(key)" }
    /// `P:inval`: Pub/Sub channel of invalidated tags (newline separated), for memory tiers.
    var invalidationChannel: String { "\(prefix):inval" }

    /// The tag a garbage set belongs to.
    func tag(ofGarbage key: String) -> String? {
        let start = "\(prefix):{"
        guard key.hasPrefix(start), let end = key.range(of: "}:gc:", options: .backwards) else { return nil }
        return String(key[key.index(key.startIndex, offsetBy: start.count)..<end.lowerBound])
    }
}

import TagwaveRedis

/// How a ``Publisher`` bounds the stream when it appends, if at all.
///
/// The default, ``none``, is the safe one: the publisher never trims, and Tagwave's worker trims
/// the stream itself with `XTRIM MINID`, below the oldest entry that some consumer group still has
/// pending or has not been delivered yet. Nothing a worker has not finished with is ever removed
/// (SPEC §5: "stream trimming never drops an entry that is still pending in the group").
///
/// ## Why a length cap at the producer is unsafe
/// `XADD … MAXLEN ~ n` keeps about the `n` newest entries, counting every entry alike: Redis does
/// not look at consumer groups when it trims by length. When the workers fall behind (a fleet
/// outage, a slow handler, a burst of events), the stream grows past `n` and the oldest entries are
/// deleted although no worker has handled them: entries never delivered to the group are gone
/// without a trace, and entries delivered but not yet acknowledged come back from `XREADGROUP` and
/// `XAUTOCLAIM` as deleted ids without fields. Either way the invalidation they carried never
/// happens and caches stay stale. That is why ``approximateMaxLength(_:allowDroppingUnprocessed:)``
/// is refused unless the caller states that losing unprocessed events is acceptable.
///
/// ```swift
/// var configuration = PublisherConfiguration()
/// configuration.trim = .none  // the default: the worker trims safely
/// configuration.trim = .approximateMaxLength(1_000_000, allowDroppingUnprocessed: true)  // explicit risk
/// ```
public struct PublisherTrim: Sendable, Hashable, CustomStringConvertible {
    private enum Base: Sendable, Hashable {
        case none
        case approximateMaxLength(Int, allowDroppingUnprocessed: Bool)
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// Never trim at the producer (the default). The worker trims safely with `XTRIM MINID` from the
    /// groups' pending and delivered offsets.
    public static let none = PublisherTrim(.none)

    /// Append with `MAXLEN ~ count`: keep about the `count` newest entries. **Unsafe for pending
    /// entries**: it can delete entries no worker has handled yet (see the type's discussion), so a
    /// ``Publisher`` refuses it unless `allowDroppingUnprocessed` is true.
    ///
    /// - Parameters:
    ///   - count: About how many entries to keep; at least 1.
    ///   - allowDroppingUnprocessed: Pass true to accept that events may be deleted before any worker
    ///     handled them.
    public static func approximateMaxLength(_ count: Int, allowDroppingUnprocessed: Bool = false) -> PublisherTrim {
        PublisherTrim(.approximateMaxLength(count, allowDroppingUnprocessed: allowDroppingUnprocessed))
    }

    /// The `XADD` trimming arguments, nil for ``none``.
    var streamTrim: StreamTrim? {
        switch base {
        case .none: nil
        case .approximateMaxLength(let count, _): .maxLength(count, approximate: true)
        }
    }

    /// Why a publisher must refuse this policy, or nil when it is acceptable.
    var whyRefused: String? {
        switch base {
        case .none:
            return nil
        case .approximateMaxLength(let count, let allowed):
            if count < 1 {
                return "trim .approximateMaxLength(\(count)) keeps no entries: give a count of at least 1, or use .none"
            }
            if !allowed {
                return "trim .approximateMaxLength(\(count)) is refused: MAXLEN at the producer deletes the oldest "
                    + "entries even when no worker has handled them yet (still pending, or not yet delivered), "
                    + "so their invalidations would be lost. Keep trim .none (the default: the worker trims safely "
                    + "with XTRIM MINID), or pass allowDroppingUnprocessed: true to accept that risk"
            }
            return nil
        }
    }

    /// `none`, or `approximateMaxLength(1000)` with `, allowDroppingUnprocessed: true` when given.
    public var description: String {
        switch base {
        case .none: "none"
        case .approximateMaxLength(let count, let allowed):
            "approximateMaxLength(\(count)\(allowed ? ", allowDroppingUnprocessed: true" : ""))"
        }
    }
}

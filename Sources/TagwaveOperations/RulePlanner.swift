import TagwaveEvents
import TagwaveWorker

/// What the current rules do with one event: the tags they invalidate and the targets they warm.
/// The worker's rules, applied outside the worker (replays, dead-letter retries, dry runs).
public struct RulePlan: Sendable, Hashable {
    /// True when at least one rule matches the event's type.
    public var matched: Bool
    /// Tags to invalidate, each once, in rule order.
    public var tags: [String]
    /// Targets to warm, each once, in rule order.
    public var warm: [String]
    /// Why the rules cannot be applied (a placeholder the payload cannot fill), nil when they can.
    public var error: String?

    /// A plan.
    public init(matched: Bool, tags: [String] = [], warm: [String] = [], error: String? = nil) {
        self.matched = matched
        self.tags = tags
        self.warm = warm
        self.error = error
    }
}

/// Applies declarative rules to events, as the worker does: all rules of the event's type merged
/// into one template set, rendered from one scan of the payload.
///
/// ```swift
/// let planner = RulePlanner(rules: settings.rules)
/// let plan = planner.plan(type: "session.created", payload: Array(#"{"teacherId":"t1"}"#.utf8))
/// plan.tags   // ["teacher:t1", …]
/// ```
public struct RulePlanner: Sendable {
    private let byType: [String: TemplateSet]

    /// A planner for `rules`.
    public init(rules: [InvalidationRule]) {
        var grouped: [String: (tags: [TagTemplate], urls: [TagTemplate])] = [:]
        for rule in rules {
            grouped[rule.eventType, default: ([], [])].tags += rule.templates.tags
            grouped[rule.eventType, default: ([], [])].urls += rule.templates.urls
        }
        byType = grouped.mapValues { TemplateSet(tags: $0.tags, urls: $0.urls) }
    }

    /// The event types that have rules.
    public var types: [String] { byType.keys.sorted() }

    /// What the rules do with an event of `type` whose payload is `payload`.
    public func plan(type: String, payload: [UInt8]) -> RulePlan {
        guard let templates = byType[type] else { return RulePlan(matched: false) }
        do {
            let rendered = try templates.render(payload: payload)
            var seenTags = Set<String>()
            var seenURLs = Set<String>()
            return RulePlan(
                matched: true, tags: rendered.tags.filter { seenTags.insert($0).inserted },
                warm: rendered.urls.filter { seenURLs.insert($0).inserted })
        } catch {
            return RulePlan(matched: true, error: "the rules for \(type) cannot be applied to this payload: \(error)")
        }
    }
}

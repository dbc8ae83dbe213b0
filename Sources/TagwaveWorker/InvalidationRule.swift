import TagwaveEvents

/// A declarative rule: events of one type invalidate tags and schedule warm targets, both rendered
/// from the payload (`teacher:{teacherId}`, `http://…/sessions?teacher={teacherId}`).
public struct InvalidationRule: Sendable {
    /// The event type it applies to, e.g. `session.created`.
    public var eventType: String
    /// The templates, compiled into one payload scan.
    public var templates: TemplateSet

    /// A rule from its event type and templates.
    /// - Parameters:
    ///   - eventType: the type it matches exactly.
    ///   - invalidate: tag templates.
    ///   - warm: URL templates of warm targets (values percent-encoded).
    public init(eventType: String, invalidate: [TagTemplate], warm: [TagTemplate] = []) {
        self.eventType = eventType
        self.templates = TemplateSet(tags: invalidate, urls: warm)
    }
}

/// The rules of a worker, grouped by event type: one merged template set per type.
struct RuleBook: Sendable {
    private let byType: [String: TemplateSet]

    init(_ rules: [InvalidationRule]) {
        var grouped: [String: (tags: [TagTemplate], urls: [TagTemplate])] = [:]
        for rule in rules {
            grouped[rule.eventType, default: ([], [])].tags += rule.templates.tags
            grouped[rule.eventType, default: ([], [])].urls += rule.templates.urls
        }
        byType = grouped.mapValues { TemplateSet(tags: $0.tags, urls: $0.urls) }
    }

    func templates(for type: String) -> TemplateSet? { byType[type] }
    var isEmpty: Bool { byType.isEmpty }
}

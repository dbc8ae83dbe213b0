/// The templates of one rule — tags to invalidate and URLs to warm — rendered together from one
/// scan of an event's payload.
///
/// The set computes once the union of its templates' placeholder paths and a ``scanner`` for them;
/// per event, one pass over the payload extracts every value, and ``render(values:)`` fills all
/// the templates from it. URL templates are percent-encoded.
///
/// ```swift
/// let rule = TemplateSet(
///     tags: [try TagTemplate("teacher:{teacherId}"), try TagTemplate("school:{schoolId}:sessions")],
///     urls: [try TagTemplate("http://127.0.0.1:8080/api/v1/sessions?teacher={teacherId}")])
/// let rendered = try rule.render(payload: event.payload)
/// rendered.tags   // ["teacher:t1", "school:s1:sessions"]
/// ```
public struct TemplateSet: Sendable {
    /// The rendered texts of a set's templates.
    public struct Rendered: Sendable, Hashable {
        /// The tag templates' texts, in the order of ``TemplateSet/tags``.
        public var tags: [String]
        /// The URL templates' texts, percent-encoded, in the order of ``TemplateSet/urls``.
        public var urls: [String]

        /// Rendered texts.
        ///
        /// - Parameters:
        ///   - tags: The tags.
        ///   - urls: The URLs.
        public init(tags: [String], urls: [String]) {
            self.tags = tags
            self.urls = urls
        }
    }

    /// The tag templates, rendered as is.
    public let tags: [TagTemplate]
    /// The URL templates, rendered with percent-encoded values.
    public let urls: [TagTemplate]
    /// Every distinct placeholder path of the templates, in order of first appearance.
    public let paths: [JSONPath]
    /// A scanner for ``paths``: its `JSONScanner.extract(from:)` gives the values
    /// ``render(values:)`` takes.
    public let scanner: JSONScanner
    private let tagSlots: [[Int]]
    private let urlSlots: [[Int]]

    /// Prepares a set of templates.
    ///
    /// - Parameters:
    ///   - tags: Tag templates, rendered as is.
    ///   - urls: URL templates, rendered with percent-encoded values.
    ///   - maximumDepth: The deepest payload nesting the scanner accepts.
    public init(tags: [TagTemplate], urls: [TagTemplate] = [], maximumDepth: Int = JSONScanner.defaultMaximumDepth) {
        var paths: [JSONPath] = []
        var slotOfPath: [JSONPath: Int] = [:]
        func slots(_ template: TagTemplate) -> [Int] {
            template.placeholders.map { path in
                if let slot = slotOfPath[path] { return slot }
                slotOfPath[path] = paths.count
                paths.append(path)
                return paths.count - 1
            }
        }
        self.tagSlots = tags.map(slots)
        self.urlSlots = urls.map(slots)
        self.tags = tags
        self.urls = urls
        self.paths = paths
        self.scanner = JSONScanner(paths: paths, maximumDepth: maximumDepth)
    }

    /// Renders every template from values extracted by ``scanner``.
    ///
    /// - Parameter values: One value per entry of ``paths``, in that order.
    /// - Returns: The rendered tags and URLs.
    /// - Throws: ``TemplateError`` for the first template with a missing, `null`, object or array value.
    public func render(values: [JSONScalar?]) throws(TemplateError) -> Rendered {
        precondition(values.count == paths.count, "one value per path of the set")
        var rendered = Rendered(tags: [], urls: [])
        rendered.tags.reserveCapacity(tags.count)
        rendered.urls.reserveCapacity(urls.count)
        for (template, slots) in zip(tags, tagSlots) {
            rendered.tags.append(try template.render(values: values, slots: slots, percentEncoding: false))
        }
        for (template, slots) in zip(urls, urlSlots) {
            rendered.urls.append(try template.render(values: values, slots: slots, percentEncoding: true))
        }
        return rendered
    }

    /// Validates a payload, extracts the values of ``paths`` in one pass, and renders every template.
    ///
    /// - Parameter payload: The event's payload, UTF-8 JSON.
    /// - Returns: The rendered tags and URLs.
    /// - Throws: ``JSONError`` when the payload is not valid JSON; ``TemplateError`` when a template
    ///   cannot be filled.
    public func render(payload: [UInt8]) throws -> Rendered {
        try render(values: scanner.extract(from: payload))
    }
}

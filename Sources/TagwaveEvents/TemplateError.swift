/// Why a template could not be parsed, or could not be rendered for an event.
///
/// Parse errors (``Code/emptyTemplate`` … ``Code/invalidPath``) carry the 1-based ``column`` of the
/// problem and are reported when configuration is loaded. Render errors (``Code/missingValue``,
/// ``Code/nullValue``, ``Code/nonScalarValue``) name the placeholder's payload field; the worker
/// dead-letters such an event as a permanent error, since retrying cannot fill the field.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case emptyTemplate
            case unclosedPlaceholder
            case unmatchedBrace
            case emptyPlaceholder
            case invalidPath
            case missingValue
            case nullValue
            case nonScalarValue
        }

        fileprivate let base: Base

        /// The template is the empty string.
        public static let emptyTemplate = Code(base: .emptyTemplate)
        /// A `{` with no `}` after it.
        public static let unclosedPlaceholder = Code(base: .unclosedPlaceholder)
        /// A `}` outside a placeholder that is not doubled (`}}`).
        public static let unmatchedBrace = Code(base: .unmatchedBrace)
        /// `{}`: a placeholder naming no field.
        public static let emptyPlaceholder = Code(base: .emptyPlaceholder)
        /// A placeholder whose text is not a valid ``JSONPath``.
        public static let invalidPath = Code(base: .invalidPath)
        /// Rendering: the payload has no value at the placeholder's path.
        public static let missingValue = Code(base: .missingValue)
        /// Rendering: the payload's value at the placeholder's path is `null`.
        public static let nullValue = Code(base: .nullValue)
        /// Rendering: the payload's value at the placeholder's path is an object or an array.
        public static let nonScalarValue = Code(base: .nonScalarValue)

        /// The code's name, e.g. `missingValue`.
        public var description: String { base.rawValue }
    }

    /// The kind of problem.
    public let code: Code
    /// The template's text.
    public let template: String
    /// For parse errors: where the problem is, in characters from 1.
    public let column: Int?
    /// For render errors: the placeholder whose value is unusable.
    public let path: JSONPath?
    /// What is wrong and what to do, as a sentence.
    public let message: String

    private init(_ code: Code, template: String, column: Int?, path: JSONPath?, message: String) {
        self.code = code
        self.template = template
        self.column = column
        self.path = path
        self.message = message
    }

    /// Whether this is a render error (the event's payload lacks a usable value) rather than a
    /// parse error (the template itself is wrong).
    public var isRenderError: Bool {
        switch code.base {
        case .missingValue, .nullValue, .nonScalarValue: return true
        default: return false
        }
    }

    /// The same as ``message``.
    public var description: String { message }

    static func parse(_ code: Code, template: String, column: Int, detail: String? = nil) -> TemplateError {
        let message: String
        switch code.base {
        case .emptyTemplate:
            message = "the template is empty: write a tag such as teacher:{teacherId}"
        case .unclosedPlaceholder:
            message =
                "template \(template) has an unclosed `{` at column \(column): close the placeholder with `}`,"
                + " or write `{{` for a literal brace"
        case .unmatchedBrace:
            message = "template \(template) has an unmatched `}` at column \(column): write `}}` for a literal brace"
        case .emptyPlaceholder:
            message =
                "template \(template) has an empty placeholder at column \(column): name a payload field,"
                + " such as {teacherId} or {session.schoolId}"
        default:
            message = "template \(template) has an invalid placeholder at column \(column): \(detail ?? "")"
        }
        return TemplateError(code, template: template, column: column, path: nil, message: message)
    }

    static func render(_ value: JSONScalar?, template: String, path: JSONPath) -> TemplateError {
        let prefix = "template \(template) needs payload field `\(path)`"
        switch value {
        case nil:
            return TemplateError(
                .missingValue, template: template, column: nil, path: path, message: "\(prefix), which is missing")
        case .null?:
            return TemplateError(
                .nullValue, template: template, column: nil, path: path, message: "\(prefix), which is null")
        case let value?:
            return TemplateError(
                .nonScalarValue, template: template, column: nil, path: path,
                message: "\(prefix), which is \(value.kind.withArticle):"
                    + " only a string, number or boolean fills a placeholder"
            )
        }
    }
}

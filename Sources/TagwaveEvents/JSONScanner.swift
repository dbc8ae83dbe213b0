/// A strict JSON parser (RFC 8259) that pulls the values of a few paths out of a document without
/// building the rest of it.
///
/// The whole document is validated — grammar, escapes, surrogate pairs, UTF-8, nesting depth, no
/// trailing bytes — but only the values at ``paths`` are decoded; everything else is skipped in
/// place, byte by byte, without allocating. Make a scanner once for a set of paths and reuse it:
///
/// ```swift
/// let scanner = JSONScanner(paths: ["teacherId", "session.schoolId", "items.0.id"])
/// let values = try scanner.extract(from: payload)   // [JSONScalar?], one per path
/// if case .string(let teacher)? = values[0] { … }
/// ```
///
/// A path that is absent gives nil. When a member name repeats in an object, the last one wins,
/// as in JavaScript's `JSON.parse`.
public struct JSONScanner: Sendable {
    /// The nesting depth refused by default: 64 levels of objects and arrays.
    public static let defaultMaximumDepth = 64

    /// The paths whose values `extract(from:)` returns, in this order.
    public let paths: [JSONPath]
    /// Objects and arrays nested deeper than this are refused with ``JSONError/Code/tooDeep``.
    public let maximumDepth: Int
    private let trie: PathTrie

    /// Prepares a scanner for a set of paths.
    ///
    /// - Parameters:
    ///   - paths: The paths to extract. Repeats are allowed (each gets its own result).
    ///   - maximumDepth: The deepest nesting accepted; a top-level object is depth 1.
    public init(paths: [JSONPath], maximumDepth: Int = JSONScanner.defaultMaximumDepth) {
        self.paths = paths
        self.maximumDepth = maximumDepth
        self.trie = PathTrie(paths)
    }

    /// Validates a document and returns the value at each of ``paths``.
    ///
    /// - Parameter bytes: The document, UTF-8.
    /// - Returns: One entry per path, in order: the scalar there, ``JSONScalar/object`` or
    ///   ``JSONScalar/array`` when the path names a container, nil when it is absent.
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public func extract(from bytes: [UInt8]) throws(JSONError) -> [JSONScalar?] {
        try scan(bytes).values
    }

    /// Validates a document in memory the caller owns (a network buffer, a Redis reply) and returns
    /// the value at each of ``paths``.
    ///
    /// - Parameter buffer: The document, UTF-8. It is only read during the call.
    /// - Returns: One entry per path, as for `extract(from:)`.
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public func extract(from buffer: UnsafeRawBufferPointer) throws(JSONError) -> [JSONScalar?] {
        try scan(buffer.assumingMemoryBound(to: UInt8.self)).values
    }

    /// Validates a document and returns the kind of its top-level value and the values at ``paths``.
    func scan(_ bytes: [UInt8]) throws(JSONError) -> (kind: JSONKind, values: [JSONScalar?]) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONError) in try scan(buffer) }
        }
        return try result.get()
    }

    /// Validates a document and returns the kind of its top-level value and the values at ``paths``.
    func scan(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONError) -> (kind: JSONKind, values: [JSONScalar?]) {
        var values = [JSONScalar?](repeating: nil, count: paths.count)
        var reader = JSONReader(buffer, maximumDepth: maximumDepth)
        let kind = try reader.extractValue(node: 0, depth: 0, trie: trie, into: &values)
        try reader.finish()
        return (kind, values)
    }

    /// Validates a document and returns the value at each path, in one pass.
    ///
    /// Builds the scanner for every call: when the same paths are used again, keep a
    /// ``JSONScanner`` instead.
    ///
    /// - Parameters:
    ///   - paths: The paths to extract.
    ///   - bytes: The document, UTF-8.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: One entry per path: the value there, or nil when it is absent.
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public static func extract(
        paths: [JSONPath], from bytes: [UInt8], maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> [JSONScalar?] {
        try JSONScanner(paths: paths, maximumDepth: maximumDepth).extract(from: bytes)
    }

    /// Validates a document and returns the value at each path, in one pass.
    ///
    /// - Parameters:
    ///   - paths: The paths to extract.
    ///   - buffer: The document, UTF-8. It is only read during the call.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: One entry per path: the value there, or nil when it is absent.
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public static func extract(
        paths: [JSONPath], from buffer: UnsafeRawBufferPointer, maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> [JSONScalar?] {
        try JSONScanner(paths: paths, maximumDepth: maximumDepth).extract(from: buffer)
    }

    /// Validates a document without decoding anything and returns the kind of its top-level value.
    ///
    /// - Parameters:
    ///   - bytes: The document, UTF-8.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: The top-level value's kind (an event payload must be ``JSONKind/object``).
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public static func validate(
        _ bytes: [UInt8], maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> JSONKind {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONError) in try validate(buffer, maximumDepth: maximumDepth) }
        }
        return try result.get()
    }

    /// Validates a document in memory the caller owns and returns the kind of its top-level value.
    ///
    /// - Parameters:
    ///   - buffer: The document, UTF-8. It is only read during the call.
    ///   - maximumDepth: The deepest nesting accepted.
    /// - Returns: The top-level value's kind.
    /// - Throws: ``JSONError`` when the document is not valid JSON.
    public static func validate(
        _ buffer: UnsafeRawBufferPointer, maximumDepth: Int = JSONScanner.defaultMaximumDepth
    ) throws(JSONError) -> JSONKind {
        try validate(buffer.assumingMemoryBound(to: UInt8.self), maximumDepth: maximumDepth)
    }

    static func validate(_ buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) throws(JSONError) -> JSONKind {
        var reader = JSONReader(buffer, maximumDepth: maximumDepth)
        let kind = try reader.skipValue(depth: 0)
        try reader.finish()
        return kind
    }
}

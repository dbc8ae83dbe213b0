extension Event {
    /// The payload size refused by default: 1 MiB.
    public static let defaultMaximumPayloadBytes = 1 << 20

    /// Decodes a stream entry's fields into an event, validating the envelope and the payload.
    ///
    /// The payload is parsed completely (strict RFC 8259) to check that it is a JSON object, but
    /// not built. Fields other than the envelope's become ``metadata``, in order.
    ///
    /// - Parameters:
    ///   - fields: The entry's field names and values, in entry order.
    ///   - maxPayloadBytes: The largest payload accepted.
    /// - Returns: The event.
    /// - Throws: ``EventDecodingError``, whose ``EventDecodingError/code`` says which rule the entry
    ///   breaks (`missing_type`, `payload_not_object`, …): such an entry is a poison event.
    public static func decode(
        fields: [(name: [UInt8], value: [UInt8])], maxPayloadBytes: Int = defaultMaximumPayloadBytes
    ) throws(EventDecodingError) -> Event {
        try decode(fields, maxPayloadBytes: maxPayloadBytes, scannerFor: { _ in nil }).event
    }

    /// Decodes a stream entry whose fields are in memory the caller owns (a Redis reply, read in
    /// place), validating the envelope and the payload.
    ///
    /// - Parameters:
    ///   - fields: The entry's field names and values, in entry order; only read during the call.
    ///   - maxPayloadBytes: The largest payload accepted.
    /// - Returns: The event, which owns copies of the bytes it keeps.
    /// - Throws: ``EventDecodingError`` for a poison event.
    public static func decode(
        fields: [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)],
        maxPayloadBytes: Int = defaultMaximumPayloadBytes
    ) throws(EventDecodingError) -> Event {
        try decode(fields, maxPayloadBytes: maxPayloadBytes, scannerFor: { _ in nil }).event
    }

    /// Decodes a stream entry and, in the same single pass over the payload that validates it,
    /// extracts the payload fields the event's rules need.
    ///
    /// This is the worker's hot path: the scanner is chosen by event type (usually a
    /// ``TemplateSet/scanner``), and the payload is read once.
    ///
    /// ```swift
    /// let (event, values) = try Event.decode(fields: fields) { type in rules[type]?.scanner }
    /// let rendered = try rules[event.type]?.render(values: values)
    /// ```
    ///
    /// - Parameters:
    ///   - fields: The entry's field names and values, in entry order.
    ///   - maxPayloadBytes: The largest payload accepted.
    ///   - scannerFor: The scanner for an event type, or nil when nothing is to be extracted.
    /// - Returns: The event, and the values at the scanner's paths (empty without a scanner).
    /// - Throws: ``EventDecodingError`` for a poison event.
    public static func decode(
        fields: [(name: [UInt8], value: [UInt8])],
        maxPayloadBytes: Int = defaultMaximumPayloadBytes,
        extractingWith scannerFor: (_ type: String) -> JSONScanner?
    ) throws(EventDecodingError) -> (event: Event, values: [JSONScalar?]) {
        try decode(fields, maxPayloadBytes: maxPayloadBytes, scannerFor: scannerFor)
    }

    /// Decodes a stream entry whose fields are in memory the caller owns and extracts, in the same
    /// pass, the payload fields the event's rules need.
    ///
    /// - Parameters:
    ///   - fields: The entry's field names and values, in entry order; only read during the call.
    ///   - maxPayloadBytes: The largest payload accepted.
    ///   - scannerFor: The scanner for an event type, or nil when nothing is to be extracted.
    /// - Returns: The event, and the values at the scanner's paths (empty without a scanner).
    /// - Throws: ``EventDecodingError`` for a poison event.
    public static func decode(
        fields: [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)],
        maxPayloadBytes: Int = defaultMaximumPayloadBytes,
        extractingWith scannerFor: (_ type: String) -> JSONScanner?
    ) throws(EventDecodingError) -> (event: Event, values: [JSONScalar?]) {
        try decode(fields, maxPayloadBytes: maxPayloadBytes, scannerFor: scannerFor)
    }

    /// Checks this event against the rules a worker applies when it reads it back, so that a
    /// publisher never sends a poison event.
    ///
    /// - Parameter maxPayloadBytes: The largest payload the workers accept.
    /// - Throws: ``EventDecodingError``, as `decode(fields:maxPayloadBytes:)`
    ///   would throw for ``encodeFields()``.
    public func validate(maxPayloadBytes: Int = Event.defaultMaximumPayloadBytes) throws(EventDecodingError) {
        let fields = encodeFields().map { (name: Array($0.name.utf8), value: $0.value) }
        _ = try Event.decode(fields, maxPayloadBytes: maxPayloadBytes, scannerFor: { _ in nil })
    }

    private static let noPaths = JSONScanner(paths: [])

    private static func decode<Bytes: Collection<UInt8>>(
        _ fields: [(name: Bytes, value: Bytes)],
        maxPayloadBytes: Int,
        scannerFor: (String) -> JSONScanner?
    ) throws(EventDecodingError) -> (event: Event, values: [JSONScalar?]) {
        var found = EnvelopeFields<Bytes>()
        var metadata: [(name: String, value: String)] = []
        for field in fields {
            if let name = EnvelopeField(field.name) {
                found.add(name, field.value)
            } else {
                metadata.append(
                    (String(decoding: field.name, as: UTF8.self), String(decoding: field.value, as: UTF8.self)))
            }
        }
        for name in EnvelopeField.allCases where found.count(name) > 1 {
            throw .duplicateField(name.rawValue, count: found.count(name))
        }

        guard let typeBytes = found[.type] else {
            throw .missingField("type", similar: similarName(to: "type", in: metadata))
        }
        if let why = EnvelopeRules.whyInvalidType(typeBytes) {
            throw .invalidField("type", value: shown(typeBytes), why: why)
        }
        let type = String(decoding: typeBytes, as: UTF8.self)

        guard let payloadBytes = found[.payload] else {
            throw .missingField("payload", similar: similarName(to: "payload", in: metadata))
        }
        guard payloadBytes.count <= maxPayloadBytes else {
            throw .oversized(payloadBytes.count, limit: maxPayloadBytes)
        }

        let id = try text(found[.id], field: "id")
        let source = try text(found[.source], field: "source")
        var occurredAt: EventTime?
        if let bytes = found[.occurredAt] {
            occurredAt =
                bytes.withContiguousStorageIfAvailable { EventTime.parse(UnsafeRawBufferPointer($0)) }
                ?? Array(bytes).withUnsafeBytes { EventTime.parse($0) }
            if occurredAt == nil {
                throw .invalidField(
                    "occurred_at", value: shown(bytes),
                    why: "which is neither an RFC 3339 time nor Unix epoch milliseconds")
            }
        }
        var traceparent: String?
        if let bytes = found[.traceparent] {
            if let why = EnvelopeRules.whyInvalidTraceparent(bytes) {
                throw .invalidField("traceparent", value: shown(bytes), why: why)
            }
            traceparent = String(decoding: bytes, as: UTF8.self)
        }

        let payload = Array(payloadBytes)
        let scanner = scannerFor(type) ?? noPaths
        let scanned: (kind: JSONKind, values: [JSONScalar?])
        do {
            scanned = try scanner.scan(payload)
        } catch {
            throw .invalidJSON(error)
        }
        guard scanned.kind == .object else { throw .payloadNotObject(scanned.kind) }
        let event = Event(
            type: type, payload: payload, id: id, occurredAt: occurredAt, source: source, traceparent: traceparent,
            metadata: metadata)
        return (event, scanned.values)
    }

    /// A non-empty UTF-8 text field, or nil when it is absent.
    private static func text<Bytes: Collection<UInt8>>(_ bytes: Bytes?, field: String) throws(EventDecodingError)
        -> String?
    {
        guard let bytes else { return nil }
        guard !bytes.isEmpty else { throw .invalidField(field, value: "", why: "which is empty") }
        guard let text = utf8Text(bytes) else {
            throw .invalidField(field, value: shown(bytes), why: "which is not valid UTF-8")
        }
        return text
    }

    /// The text of well-formed UTF-8, or nil; ASCII (the usual case) takes a fast path.
    private static func utf8Text<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer -> String? in
            for byte in buffer where byte >= 0x80 { return String(validating: buffer, as: UTF8.self) }
            return String(decoding: buffer, as: UTF8.self)
        }
        if let contiguous { return contiguous }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A metadata field name that differs from an envelope field's only in case or surrounding spaces.
    private static func similarName(to name: String, in metadata: [(name: String, value: String)]) -> String? {
        metadata.first(where: { $0.name.lowercased().trimmingSpaces == name })?.name
    }

    /// A value for an error message: lossy UTF-8, control characters escaped, at most 100 characters.
    static func shown<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var result = ""
        for (position, scalar) in String(decoding: bytes, as: UTF8.self).unicodeScalars.enumerated() {
            if position == 100 {
                result += "…"
                break
            }
            result += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return result
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let trimmedStart = drop(while: { $0 == " " })
        return trimmedStart.dropLast(trimmedStart.reversed().prefix(while: { $0 == " " }).count)
    }
}

/// The envelope's own field names.
enum EnvelopeField: String, CaseIterable {
    case type
    case payload
    case id
    case occurredAt = "occurred_at"
    case source
    case traceparent

    /// The envelope field with this name (exact, lower-case), or nil for a metadata field.
    init?<Bytes: Collection<UInt8>>(_ name: Bytes) {
        let field: EnvelopeField
        switch name.count {
        case 2: field = .id
        case 4: field = .type
        case 6: field = .source
        case 7: field = .payload
        case 11: field = name.first == UInt8(ascii: "o") ? .occurredAt : .traceparent
        default: return nil
        }
        let literal = field.staticName
        guard name.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)) else {
            return nil
        }
        self = field
    }

    /// The name, without building a `String`.
    private var staticName: StaticString {
        switch self {
        case .type: return "type"
        case .payload: return "payload"
        case .id: return "id"
        case .occurredAt: return "occurred_at"
        case .source: return "source"
        case .traceparent: return "traceparent"
        }
    }
}

/// The envelope fields found in one entry: the first value of each, and how often each appeared.
/// Fixed storage: decoding an entry allocates nothing for it.
struct EnvelopeFields<Bytes> {
    private var type: Bytes?
    private var payload: Bytes?
    private var id: Bytes?
    private var occurredAt: Bytes?
    private var source: Bytes?
    private var traceparent: Bytes?
    private var counts = SIMD8<Int32>()

    mutating func add(_ field: EnvelopeField, _ value: Bytes) {
        let slot = EnvelopeFields.slot(field)
        counts[slot] &+= 1
        guard counts[slot] == 1 else { return }
        switch field {
        case .type: type = value
        case .payload: payload = value
        case .id: id = value
        case .occurredAt: occurredAt = value
        case .source: source = value
        case .traceparent: traceparent = value
        }
    }

    subscript(field: EnvelopeField) -> Bytes? {
        switch field {
        case .type: return type
        case .payload: return payload
        case .id: return id
        case .occurredAt: return occurredAt
        case .source: return source
        case .traceparent: return traceparent
        }
    }

    func count(_ field: EnvelopeField) -> Int { Int(counts[EnvelopeFields.slot(field)]) }

    private static func slot(_ field: EnvelopeField) -> Int {
        switch field {
        case .type: return 0
        case .payload: return 1
        case .id: return 2
        case .occurredAt: return 3
        case .source: return 4
        case .traceparent: return 5
        }
    }
}

/// A Redis Stream entry id, `<milliseconds>-<sequence>`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds part.
    public var milliseconds: UInt64
    /// Sequence part.
    public var sequence: UInt64

    /// The smallest id, `0-0`.
    public static let zero = StreamID(milliseconds: 0, sequence: 0)

    /// An id from its parts.
    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3` (or `1700000000000`, sequence 0). Nil when malformed.
    public init?(_ text: String) {
        var text = text
        guard let id = text.withUTF8({ StreamID(utf8: $0) }) else { return nil }
        self = id
    }

    /// Parses the UTF-8 bytes of an id, as Redis sends them. Nil when malformed.
    ///
    /// (The ledger's `StreamPosition` parses the same text into SQLite's signed integers: the ledger
    /// does not link the Redis client, so each module keeps its own dozen lines.)
    public init?<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) {
        var milliseconds: UInt64 = 0
        var sequence: UInt64 = 0
        var digits = 0
        var seenDash = false
        for byte in bytes {
            if byte == UInt8(ascii: "-") {
                guard !seenDash, digits > 0 else { return nil }
                seenDash = true
                digits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowA) = (seenDash ? sequence : milliseconds).multipliedReportingOverflow(by: 10)
            let (value, overflowB) = shifted.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            if seenDash { sequence = value } else { milliseconds = value }
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    /// The id right after this one (for exclusive range starts).
    public var next: StreamID {
        sequence == .max ? StreamID(milliseconds: milliseconds + 1, sequence: 0) : StreamID(milliseconds: milliseconds, sequence: sequence + 1)
    }

    public var description: String {
        // Formatted by hand: ids are formatted for every acknowledged entry and ledger row, and
        // interpolation allocates twice per id.
        String(unsafeUninitializedCapacity: 41) { write(into: $0) }
    }

    /// The id as Redis writes it, in UTF-8 bytes (a command argument without a String on the way).
    public var utf8: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 41) { buffer, count in count = write(into: buffer) }
    }

    /// Writes `<milliseconds>-<sequence>` at the start of `buffer` (41 bytes hold any id).
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = Self.writeDecimal(milliseconds, into: buffer, at: 0)
        buffer[count] = UInt8(ascii: "-")
        count += 1
        return Self.writeDecimal(sequence, into: buffer, at: count)
    }

    /// Writes `value` in decimal at `start`; returns the index after its last digit.
    private static func writeDecimal(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var remaining = value
        for index in stride(from: start + digits - 1, through: start, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
        return start + digits
    }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// One entry read from a stream.
///
/// Its fields are kept packed in one buffer (one allocation per entry, where an array of fields
/// of arrays of bytes takes two per field): ``fields`` unpacks them, ``withUnsafeFields(_:)``
/// reads them in place.
public struct StreamEntry: Sendable, Hashable {
    /// The entry id.
    public var id: StreamID
    /// Per field: the name's and the value's length (4 bytes each, little-endian), then the name's
    /// and the value's bytes. nil when the entry was deleted or trimmed while pending.
    @usableFromInline var packed: [UInt8]?

    /// Field/value pairs in the order written; nil when the entry was deleted or trimmed while it
    /// was pending (Redis answers such an `XREADGROUP` of history with nil fields).
    public var fields: [StreamField]? {
        get {
            withUnsafeFields { fields in fields.map { StreamField(name: Array($0.name), value: Array($0.value)) } }
        }
        set {
            packed = newValue.map { fields in
                Self.pack(fields.count, bytes: fields.reduce(0) { $0 + $1.name.count + $1.value.count }) { append in
                    for field in fields {
                        field.name.withUnsafeBytes { name in field.value.withUnsafeBytes { value in append(name, value) } }
                    }
                }
            }
        }
    }

    /// An entry from its id and fields.
    public init(id: StreamID, fields: [StreamField]?) {
        self.id = id
        self.fields = fields
    }

    /// An entry from fields in memory the caller owns (a reply being read): `count` fields of
    /// `bytes` bytes in all, which `fill` hands to the function it is given, in order.
    init(
        id: StreamID, fieldCount count: Int, bytes: Int,
        fill: ((UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> Void
    ) {
        self.id = id
        self.packed = Self.pack(count, bytes: bytes, fill)
    }

    /// A deleted entry's id, without fields.
    init(deleted id: StreamID) {
        self.id = id
        self.packed = nil
    }

    /// The value of the first field named `name`.
    public func value(_ name: String) -> [UInt8]? {
        withUnsafeFields { fields in
            fields.first { $0.name.elementsEqual(name.utf8) }.map { Array($0.value) }
        } ?? nil
    }

    /// Calls `body` with the fields in place, in the order written; nil when the entry was deleted.
    /// The buffers are valid only during the call. (Inlinable: a generic call across modules would
    /// otherwise instantiate its types' metadata at every call, once per entry.)
    @inlinable
    public func withUnsafeFields<Value, Failure: Error>(_ body: (Fields) throws(Failure) -> Value) throws(Failure) -> Value? {
        guard let packed else { return nil }
        // Array.withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        let result = packed.withUnsafeBytes { bytes -> Result<Value, Failure> in
            do throws(Failure) {
                return .success(try body(Fields(packed: bytes)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The fields of an entry, read in place: a sequence of `(name, value)` byte buffers.
    public struct Fields: Sequence {
        @usableFromInline let packed: UnsafeRawBufferPointer

        @inlinable init(packed: UnsafeRawBufferPointer) { self.packed = packed }

        @inlinable public func makeIterator() -> Iterator { Iterator(packed: packed) }

        /// Reads one field after another.
        public struct Iterator: IteratorProtocol {
            @usableFromInline let packed: UnsafeRawBufferPointer
            @usableFromInline var offset = 0

            @inlinable init(packed: UnsafeRawBufferPointer) { self.packed = packed }

            @inlinable public mutating func next() -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
                guard offset + 8 <= packed.count else { return nil }
                let nameCount = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                let valueCount = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
                let nameStart = offset + 8
                let valueStart = nameStart + nameCount
                offset = valueStart + valueCount
                return (
                    UnsafeRawBufferPointer(rebasing: packed[nameStart..<valueStart]),
                    UnsafeRawBufferPointer(rebasing: packed[valueStart..<offset])
                )
            }
        }
    }

    private static func pack(
        _ count: Int, bytes: Int, _ fill: ((UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> Void
    ) -> [UInt8] {
        let total = count * 8 + bytes
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            guard let base = buffer.baseAddress.map(UnsafeMutableRawPointer.init) else { return }
            fill { name, value in
                precondition(offset + 8 + name.count + value.count <= total, "the fields outgrew their announced size")
                base.storeBytes(of: UInt32(name.count).littleEndian, toByteOffset: offset, as: UInt32.self)
                base.storeBytes(of: UInt32(value.count).littleEndian, toByteOffset: offset + 4, as: UInt32.self)
                offset += 8
                if let source = name.baseAddress { (base + offset).copyMemory(from: source, byteCount: name.count) }
                offset += name.count
                if let source = value.baseAddress { (base + offset).copyMemory(from: source, byteCount: value.count) }
                offset += value.count
            }
            initialized = offset
        }
    }
}

/// A field of a stream entry: name and value, both bytes.
public struct StreamField: Sendable, Hashable {
    /// Field name.
    public var name: [UInt8]
    /// Field value.
    public var value: [UInt8]

    /// A field from bytes.
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// A field from strings.
    public init(_ name: String, _ value: String) {
        self.init(name: Array(name.utf8), value: Array(value.utf8))
    }
}

/// A pending entry as `XPENDING … start end count` reports it.
public struct PendingEntry: Sendable, Hashable {
    /// The entry id.
    public var id: StreamID
    /// The consumer that holds it.
    public var consumer: String
    /// Milliseconds since it was last delivered.
    public var idleMilliseconds: Int64
    /// How often it was delivered.
    public var deliveries: Int64
}

/// The summary form of `XPENDING stream group`.
public struct PendingSummary: Sendable, Hashable {
    /// Entries pending in the group.
    public var count: Int64
    /// Lowest pending id.
    public var smallest: StreamID?
    /// Highest pending id.
    public var largest: StreamID?
    /// Pending count per consumer.
    public var consumers: [String: Int64]
}

/// What `XAUTOCLAIM` returns.
public struct AutoClaimResult: Sendable, Hashable {
    /// Where the next scan starts; `0-0` when the scan is complete.
    public var nextStart: StreamID
    /// Entries now owned by the claiming consumer.
    public var entries: [StreamEntry]
    /// Ids that were pending but are no longer in the stream (deleted or trimmed); Redis removed
    /// them from the pending list.
    public var deletedIDs: [StreamID]
}

/// `XINFO STREAM`, the fields Tagwave uses.
public struct StreamInfo: Sendable, Hashable {
    /// Entries in the stream.
    public var length: Int64
    /// Consumer groups on the stream.
    public var groups: Int64
    /// Newest id ever generated.
    public var lastGeneratedID: StreamID?
    /// Oldest entry's id.
    public var firstEntryID: StreamID?
}

/// `XINFO GROUPS`, one group.
public struct StreamGroupInfo: Sendable, Hashable {
    /// Group name.
    public var name: String
    /// Consumers in the group.
    public var consumers: Int64
    /// Entries delivered and not acknowledged.
    public var pending: Int64
    /// The last id delivered to the group.
    public var lastDeliveredID: StreamID?
    /// Entries not yet delivered to the group (Redis 7+); nil when Redis cannot tell.
    public var lag: Int64?
}

/// `XINFO CONSUMERS`, one consumer.
public struct StreamConsumerInfo: Sendable, Hashable {
    /// Consumer name.
    public var name: String
    /// Entries it holds, unacknowledged.
    public var pending: Int64
    /// Milliseconds since its last interaction.
    public var idleMilliseconds: Int64
}

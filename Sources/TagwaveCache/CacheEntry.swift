/// A cache entry as stored in Redis: a text header, then the payload bytes.
///
/// ```
/// TW1 <fresh-until-ms> <flags> <tag-count>\n
/// <version> <tag>\n            (once per tag)
/// <payload>
/// ```
/// `flags` is `-` for a plain payload or `z` for a zlib-compressed one. The entry is readable while
/// every tag's current version equals the version recorded here and `fresh-until` has not passed.
struct CacheEntry: Sendable, Equatable {
    /// Milliseconds since the epoch until which the entry is fresh (served on hits).
    var freshUntil: Int64
    /// Whether `payload` is zlib-compressed.
    var compressed: Bool
    /// The tag versions the entry was written under, in the order given.
    var tags: [(tag: String, version: String)]
    /// The payload bytes (compressed when `compressed`).
    var payload: [UInt8]

    static func == (lhs: CacheEntry, rhs: CacheEntry) -> Bool {
        lhs.freshUntil == rhs.freshUntil && lhs.compressed == rhs.compressed && lhs.payload == rhs.payload
            && lhs.tags.elementsEqual(rhs.tags) { $0.tag == $1.tag && $0.version == $1.version }
    }

    func encoded() -> [UInt8] {
        var header = "TW1 \(freshUntil) \(compressed ? "z" : "-") \(tags.count)\n"
        for (tag, version) in tags { header += "\(version) \(tag)\n" }
        var bytes = Array(header.utf8)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// Parses an entry; nil when the bytes are not in this format (then it is treated as a miss).
    init?(decoding bytes: [UInt8]) {
        var position = 0
        func line() -> Substring? {
            guard let end = bytes[position...].firstIndex(of: 0x0A) else { return nil }
            defer { position = end + 1 }
            return Substring(String(decoding: bytes[position..<end], as: UTF8.self))
        }
        guard let first = line() else { return nil }
        let fields = first.split(separator: " ")
        guard fields.count == 4, fields[0] == "TW1", let fresh = Int64(fields[1]), let count = Int(fields[3]),
            fields[2] == "-" || fields[2] == "z", count >= 0
        else { return nil }
        var tags: [(String, String)] = []
        for _ in 0..<count {
            guard let text = line(), let space = text.firstIndex(of: " ") else { return nil }
            let version = String(text[text.startIndex..<space])
            tags.append((String(text[text.index(after: space)...]), version))
        }
        self.freshUntil = fresh
        self.compressed = fields[2] == "z"
        self.tags = tags
        self.payload = Array(bytes[position...])
    }

    init(freshUntil: Int64, compressed: Bool, tags: [(tag: String, version: String)], payload: [UInt8]) {
        self.freshUntil = freshUntil
        self.compressed = compressed
        self.tags = tags
        self.payload = payload
    }
}

/// Entity tags of response bodies and the `If-None-Match` comparison (RFC 9110 §8.8.3, §13.1.2).
enum ETag {
    /// A strong tag from the body's length and its 64-bit FNV-1a hash: `"<length>-<hash>"` in hex.
    ///
    /// Not a cryptographic digest: it tells versions of one resource apart, which is all a
    /// validator does; the server computes it from its own responses.
    static func strong(of body: some Collection<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"\(String(body.count, radix: 16))-\(String(hash, radix: 16))\""
    }

    /// Whether an `If-None-Match` header value matches `etag` (weak comparison, as required for
    /// `If-None-Match`): `*`, or any listed tag equal once `W/` is ignored.
    static func matches(ifNoneMatch header: String, etag: String) -> Bool {
        let opaque = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
            if tag == opaque { return true }
        }
        return false
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}

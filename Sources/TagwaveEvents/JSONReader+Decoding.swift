extension JSONReader {
    /// The decoded text of a string the reader validated.
    func decodeString(_ token: StringToken) -> String {
        let content = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
        guard token.hasEscapes else { return String(decoding: content, as: UTF8.self) }
        // Every escape is at least as long as the UTF-8 it stands for, so the decoded text fits.
        return String(unsafeUninitializedCapacity: content.count) { output in
            JSONReader.decodeEscapes(content, into: output)
        }
    }

    /// The literal text of a number the reader validated.
    func text(of range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Whether a member name the reader validated, once decoded, equals `key`.
    func name(_ token: StringToken, equals key: ArraySlice<UInt8>) -> Bool {
        let content = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
        if !token.hasEscapes {
            return content.count == key.count && content.elementsEqual(key)
        }
        // Escaped names are rare: decode into a scratch array.
        let decoded = [UInt8](unsafeUninitializedCapacity: content.count) { output, count in
            count = JSONReader.decodeEscapes(content, into: output)
        }
        return decoded.elementsEqual(key)
    }

    /// Decodes validated string content into UTF-8 and returns the number of bytes written;
    /// `output` must hold at least `input.count` bytes.
    static func decodeEscapes(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>)
        -> Int
    {
        var read = 0
        var written = 0
        while read < input.count {
            let byte = input[read]
            guard byte == UInt8(ascii: "\\") else {
                output[written] = byte
                written += 1
                read += 1
                continue
            }
            let escaped = input[read + 1]
            read += 2
            let simple: UInt8
            switch escaped {
            case UInt8(ascii: "b"): simple = 0x08
            case UInt8(ascii: "f"): simple = 0x0C
            case UInt8(ascii: "n"): simple = 0x0A
            case UInt8(ascii: "r"): simple = 0x0D
            case UInt8(ascii: "t"): simple = 0x09
            case UInt8(ascii: "u"):
                var scalar = UInt32(hexQuad(input, at: read))
                read += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    // Validated: a low surrogate escape follows.
                    let low = UInt32(hexQuad(input, at: read + 2))
                    read += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                written += encodeUTF8(scalar, into: output, at: written)
                continue
            default: simple = escaped  // `"`, `\` and `/` stand for themselves
            }
            output[written] = simple
            written += 1
        }
        return written
    }

    private static func hexQuad(_ input: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt16 {
        var value: UInt16 = 0
        for index in offset..<offset + 4 {
            value = value << 4 | UInt16(hexValue(input[index]) ?? 0)
        }
        return value
    }

    private static func encodeUTF8(_ scalar: UInt32, into output: UnsafeMutableBufferPointer<UInt8>, at offset: Int)
        -> Int
    {
        switch scalar {
        case 0..<0x80:
            output[offset] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            output[offset] = UInt8(0xC0 | scalar >> 6)
            output[offset + 1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            output[offset] = UInt8(0xE0 | scalar >> 12)
            output[offset + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            output[offset + 2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            output[offset] = UInt8(0xF0 | scalar >> 18)
            output[offset + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            output[offset + 2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            output[offset + 3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}

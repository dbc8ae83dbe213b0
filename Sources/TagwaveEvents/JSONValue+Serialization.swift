extension JSONValue {
    /// The value as JSON text: compact by default, or indented by two spaces per level.
    ///
    /// Strings escape `"`, `\` and control characters (as `\n`, `\t`, … or `\u00XX`); other
    /// characters are written as UTF-8. Numbers are written as their literal text.
    ///
    /// - Parameter prettyPrinted: Whether to put each member and element on its own line.
    public func serialized(prettyPrinted: Bool = false) -> String {
        String(decoding: serializedBytes(prettyPrinted: prettyPrinted), as: UTF8.self)
    }

    /// The value as UTF-8 JSON text, as ``serialized(prettyPrinted:)`` writes it.
    ///
    /// - Parameter prettyPrinted: Whether to put each member and element on its own line.
    public func serializedBytes(prettyPrinted: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        write(to: &output, indent: prettyPrinted ? 0 : nil)
        return output
    }

    private func write(to output: inout [UInt8], indent: Int?) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else { return output.append(contentsOf: "{}".utf8) }
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.newline(&output, indent: indent.map { $0 + 1 })
                JSONValue.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                if indent != nil { output.append(UInt8(ascii: " ")) }
                member.value.write(to: &output, indent: indent.map { $0 + 1 })
            }
            JSONValue.newline(&output, indent: indent)
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            guard !elements.isEmpty else { return output.append(contentsOf: "[]".utf8) }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.newline(&output, indent: indent.map { $0 + 1 })
                element.write(to: &output, indent: indent.map { $0 + 1 })
            }
            JSONValue.newline(&output, indent: indent)
            output.append(UInt8(ascii: "]"))
        case .string(let text):
            JSONValue.writeString(text, to: &output)
        case .number(let text):
            output.append(contentsOf: text.utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        }
    }

    private static func newline(_ output: inout [UInt8], indent: Int?) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    /// Appends `text` as a JSON string literal, quotes included.
    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(UInt8(ascii: byte < 0x10 ? "0" : "1"))
                output.append(UInt8(ascii: JSONReader.hex(byte & 0xF).unicodeScalars.first!))
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

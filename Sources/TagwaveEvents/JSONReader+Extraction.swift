extension JSONReader {
    /// Validates the value at the reader and moves past it, recording into `values` the values of
    /// the paths that end at or below `node`.
    ///
    /// Subtrees no path enters are skipped with ``skipValue(depth:)``, which validates them
    /// without building anything. When a member name repeats, the last occurrence wins, as in
    /// JavaScript's `JSON.parse`.
    ///
    /// - Parameters:
    ///   - node: The trie node for the value's position.
    ///   - depth: How many containers enclose the value.
    /// - Returns: The value's kind.
    mutating func extractValue(
        node: Int, depth: Int, trie: PathTrie, into values: inout [JSONScalar?]
    ) throws(JSONError) -> JSONKind {
        let current = trie.nodes[node]
        if current.edgeCount == 0 && current.resultCount == 0 { return try skipValue(depth: depth) }
        skipWhitespace()
        guard index < bytes.count else { throw JSONError.unexpectedEnd(at: index, expected: "a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            record(.object, at: current, trie: trie, into: &values)
            if current.edgeCount == 0 { return try skipValue(depth: depth) }
            if try !beginObject(depth: depth + 1) {
                repeat {
                    let name = try memberKey()
                    var child = -1
                    for edge in current.firstEdge..<current.firstEdge + current.edgeCount
                    where self.name(name, equals: trie.edges[edge], in: trie) {
                        child = trie.edges[edge].child
                        break
                    }
                    if child >= 0 {
                        clear(below: child, trie: trie, in: &values)
                        _ = try extractValue(node: child, depth: depth + 1, trie: trie, into: &values)
                    } else {
                        _ = try skipValue(depth: depth + 1)
                    }
                } while try nextMember()
            }
            return .object
        case UInt8(ascii: "["):
            record(.array, at: current, trie: trie, into: &values)
            if current.edgeCount == 0 { return try skipValue(depth: depth) }
            if try !beginArray(depth: depth + 1) {
                var position = 0
                repeat {
                    var child = -1
                    for edge in current.firstEdge..<current.firstEdge + current.edgeCount
                    where trie.edges[edge].arrayIndex == position {
                        child = trie.edges[edge].child
                        break
                    }
                    if child >= 0 {
                        _ = try extractValue(node: child, depth: depth + 1, trie: trie, into: &values)
                    } else {
                        _ = try skipValue(depth: depth + 1)
                    }
                    position += 1
                } while try nextElement()
            }
            return .array
        case UInt8(ascii: "\""):
            let token = try scanString()
            if current.resultCount > 0 {
                record(.string(decodeString(token)), at: current, trie: trie, into: &values)
            }
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanNumber()
            if current.resultCount > 0 {
                record(.number(text(of: range)), at: current, trie: trie, into: &values)
            }
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            record(.bool(true), at: current, trie: trie, into: &values)
            return .bool
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            record(.bool(false), at: current, trie: trie, into: &values)
            return .bool
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            record(.null, at: current, trie: trie, into: &values)
            return .null
        case let byte:
            throw JSONError.unexpected(byte, at: index, expected: "a value")
        }
    }

    @inline(__always)
    private func record(
        _ value: JSONScalar, at node: PathTrie.Node, trie: PathTrie, into values: inout [JSONScalar?]
    ) {
        for result in node.firstResult..<node.firstResult + node.resultCount {
            values[trie.results[result]] = value
        }
    }

    /// Forgets what an earlier occurrence of a repeated member recorded.
    @inline(__always)
    private func clear(below node: Int, trie: PathTrie, in values: inout [JSONScalar?]) {
        let child = trie.nodes[node]
        for entry in child.firstSubtree..<child.firstSubtree + child.subtreeCount {
            values[trie.subtree[entry]] = nil
        }
    }

    /// Whether a member name the reader validated, once decoded, equals an edge's name.
    @inline(__always)
    private func name(_ token: StringToken, equals edge: PathTrie.Edge, in trie: PathTrie) -> Bool {
        let length = edge.keyEnd - edge.keyStart
        if token.hasEscapes { return name(token, equals: trie.keyBytes[edge.keyStart..<edge.keyEnd]) }
        guard token.end - token.start == length else { return false }
        var offset = 0
        while offset < length && bytes[token.start + offset] == trie.keyBytes[edge.keyStart + offset] { offset += 1 }
        return offset == length
    }
}

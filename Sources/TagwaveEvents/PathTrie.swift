/// The paths a ``JSONScanner`` looks for, merged by common prefix and flattened into plain arrays,
/// so that walking it while scanning touches no reference counts.
struct PathTrie: Sendable {
    /// A position in the document that some path passes through or ends at.
    struct Node: Sendable {
        /// This node's edges: `edges[firstEdge..<firstEdge + edgeCount]`.
        var firstEdge = 0
        var edgeCount = 0
        /// The paths ending here: `results[firstResult..<firstResult + resultCount]`.
        var firstResult = 0
        var resultCount = 0
        /// The paths ending here or below: `subtree[firstSubtree..<firstSubtree + subtreeCount]`.
        var firstSubtree = 0
        var subtreeCount = 0
    }

    /// A step from a node to a child: a member name, and an array index when the name is one.
    struct Edge: Sendable {
        /// The name's UTF-8 bytes: `keyBytes[keyStart..<keyEnd]`.
        var keyStart: Int
        var keyEnd: Int
        /// The array index the segment also stands for, or -1.
        var arrayIndex: Int
        var child: Int
    }

    private(set) var nodes: [Node]
    private(set) var edges: [Edge] = []
    private(set) var keyBytes: [UInt8] = []
    private(set) var results: [Int] = []
    private(set) var subtree: [Int] = []

    init(_ paths: [JSONPath]) {
        // Build a tree of nested arrays first, then flatten it breadth first.
        var children: [[(segment: Int, path: Int, child: Int)]] = [[]]
        var ending: [[Int]] = [[]]
        for (pathIndex, path) in paths.enumerated() {
            var node = 0
            for (segmentIndex, key) in path.keys.enumerated() {
                if let existing = children[node].first(where: { paths[$0.path].keys[$0.segment] == key }) {
                    node = existing.child
                } else {
                    children.append([])
                    ending.append([])
                    children[node].append((segmentIndex, pathIndex, children.count - 1))
                    node = children.count - 1
                }
            }
            ending[node].append(pathIndex)
        }
        nodes = Array(repeating: Node(), count: children.count)
        for node in children.indices {
            nodes[node].firstEdge = edges.count
            nodes[node].edgeCount = children[node].count
            for (segment, path, child) in children[node] {
                let key = paths[path].keys[segment]
                edges.append(
                    Edge(
                        keyStart: keyBytes.count, keyEnd: keyBytes.count + key.count,
                        arrayIndex: paths[path].indices[segment] ?? -1, child: child))
                keyBytes.append(contentsOf: key)
            }
            nodes[node].firstResult = results.count
            nodes[node].resultCount = ending[node].count
            results.append(contentsOf: ending[node])
        }
        for node in nodes.indices {
            let below = PathTrie.pathsEnding(atOrBelow: node, children: children, ending: ending)
            nodes[node].firstSubtree = subtree.count
            nodes[node].subtreeCount = below.count
            subtree.append(contentsOf: below)
        }
    }

    private static func pathsEnding(
        atOrBelow node: Int, children: [[(segment: Int, path: Int, child: Int)]], ending: [[Int]]
    )
        -> [Int]
    {
        children[node].reduce(ending[node]) {
            $0 + pathsEnding(atOrBelow: $1.child, children: children, ending: ending)
        }
    }
}

/// Reads an HTTP/1.x response as it arrives: the status line and the headers the warmer needs, then
/// the body's framing (`Content-Length`, `chunked`, or until the connection closes), counting and
/// discarding the body. Pure: fed bytes by ``HTTPGetter``.
struct HTTPResponseReader {
    /// What the response was.
    struct Head: Sendable, Hashable {
        var status: Int
        var location: String?
    }

    /// A response the reader cannot make sense of.
    struct Failure: Error {
        var message: String
    }

    private enum Stage {
        case head
        case sized(remaining: Int)
        case untilClose
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case done
    }

    /// Heads larger than this are refused (a warm endpoint answers with a few headers).
    static let maxHeadBytes = 64 * 1024

    private var stage = Stage.head
    private var buffer: [UInt8] = []
    /// The final (non-1xx) head, once read.
    private(set) var head: Head?
    /// Body bytes read (after de-chunking).
    private(set) var bodyBytes = 0

    /// Whether the whole response was read.
    var isComplete: Bool {
        if case .done = stage { return true }
        return false
    }

    /// Takes the next bytes from the connection.
    mutating func consume(_ bytes: ArraySlice<UInt8>) throws(Failure) {
        buffer.append(contentsOf: bytes)
        while true {
            switch stage {
            case .head:
                guard let end = find([13, 10, 13, 10]) else {
                    if buffer.count > Self.maxHeadBytes { throw Failure(message: "its headers exceed 64 KiB") }
                    return
                }
                let text = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                try readHead(text)
            case .sized(let remaining):
                guard let left = takeBody(remaining) else {
                    stage = .done
                    continue
                }
                stage = .sized(remaining: left)
                return
            case .untilClose:
                bodyBytes += buffer.count
                buffer.removeAll(keepingCapacity: true)
                return
            case .chunkSize:
                guard let end = find([13, 10]) else {
                    if buffer.count > 1024 { throw Failure(message: "a chunk size line exceeds 1 KiB") }
                    return
                }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                let digits = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces } ?? ""
                guard let size = Int(digits, radix: 16), size >= 0 else {
                    throw Failure(message: "its chunk size \"\(line)\" is not hexadecimal")
                }
                stage = size == 0 ? .done : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard let left = takeBody(remaining) else {
                    stage = .chunkEnd
                    continue
                }
                stage = .chunkData(remaining: left)
                return
            case .chunkEnd:
                guard buffer.count >= 2 else { return }
                guard buffer[0] == 13, buffer[1] == 10 else { throw Failure(message: "a chunk does not end with CRLF") }
                buffer.removeFirst(2)
                stage = .chunkSize
            case .done:
                return
            }
        }
    }

    /// The connection closed: complete when the body runs until the close, an error otherwise.
    mutating func finish() throws(Failure) {
        switch stage {
        case .untilClose: stage = .done
        case .done: return
        case .head: throw Failure(message: "closed the connection without a complete answer")
        default: throw Failure(message: "closed the connection in the middle of the body")
        }
    }

    private mutating func readHead(_ text: String) throws(Failure) {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst() ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]),
            (100...599).contains(status)
        else {
            throw Failure(message: "answered \"\(statusLine.prefix(80))\", which is not an HTTP/1.x status line")
        }
        if (100..<200).contains(status) {
            guard status != 101 else { throw Failure(message: "switched protocols (101), which a GET never asks for") }
            return  // an interim answer (100 Continue, 103 Early Hints): the final one follows
        }
        var contentLength: Int?
        var chunked = false
        var location: String?
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0, contentLength == nil || contentLength == length else {
                    throw Failure(message: "sent an invalid Content-Length \"\(value)\"")
                }
                contentLength = length
            case "transfer-encoding":
                chunked = value.lowercased().split(separator: ",").last.map { $0.trimmingSpaces == "chunked" } ?? false
            case "location":
                location = String(value)
            default:
                break
            }
        }
        head = Head(status: status, location: location)
        if status == 204 || status == 304 {
            stage = .done
        } else if chunked {
            stage = .chunkSize
        } else if let contentLength {
            stage = contentLength == 0 ? .done : .sized(remaining: contentLength)
        } else {
            stage = .untilClose
        }
    }

    /// Takes up to `remaining` body bytes from the buffer. Returns nil when they were all there,
    /// else how many are still to come (the buffer is empty then).
    private mutating func takeBody(_ remaining: Int) -> Int? {
        let taken = min(remaining, buffer.count)
        bodyBytes += taken
        buffer.removeFirst(taken)
        return taken < remaining ? remaining - taken : nil
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for start in 0...(buffer.count - pattern.count) where buffer[start] == pattern[0] {
            if buffer[start..<start + pattern.count].elementsEqual(pattern) { return start }
        }
        return nil
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = text.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return text[first...last]
    }
}

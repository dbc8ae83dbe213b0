import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny real HTTP/1.1 server on a free loopback port, for warm targets: it counts requests per
/// path and per path-and-query, and answers 200, another status, a redirect, or never (hangs until
/// the client gives up). Each connection has its own thread, so a hanging answer blocks nothing else.
public final class TestHTTPServer: Sendable {
    /// How a path is answered.
    public enum Behaviour: Sendable {
        case ok
        case status(Int)
        case redirect(to: String)
        case hang
    }

    private struct State {
        var byPath: [String: Int] = [:]
        var byTarget: [String: Int] = [:]
        var behaviours: [String: Behaviour] = [:]
    }

    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let listener: Int32
    private let state = Mutex(State())

    /// Starts listening on 127.0.0.1 on a free port.
    public init() throws {
        (listener, port) = try LoopbackSocket.bind(listeningWithBacklog: 128)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-http-accept"
        thread.start()
    }

    /// Answers requests for `path` (without query) with `behaviour`; unknown paths get 200.
    public func respond(to path: String, with behaviour: Behaviour) {
        state.withLock { $0.behaviours[path] = behaviour }
    }

    /// Requests received for `path` (any query).
    public func requests(to path: String) -> Int {
        state.withLock { $0.byPath[path] ?? 0 }
    }

    /// Requests received for exactly `target` (path and query).
    public func requests(toTarget target: String) -> Int {
        state.withLock { $0.byTarget[target] ?? 0 }
    }

    /// Every request target received, with its count.
    public var targets: [String: Int] { state.withLock { $0.byTarget } }

    /// Stops accepting (connections in progress end when their clients close).
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let thread = Thread { [self] in serve(client) }
            thread.name = "test-http-connection"
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.containsHeadEnd {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            received += buffer[..<count]
        }
        let requestLine = String(decoding: received.prefix { $0 != 13 }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else { return }
        let target = String(parts[1])
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        let behaviour = state.withLock { state -> Behaviour in
            state.byPath[path, default: 0] += 1
            state.byTarget[target, default: 0] += 1
            return state.behaviours[path] ?? .ok
        }
        let answer: String
        switch behaviour {
        case .ok:
            answer =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nwarmed"
        case .status(let status):
            answer = "HTTP/1.1 \(status) Test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nerror"
        case .redirect(let location):
            answer = "HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        case .hang:
            // Never answer: wait until the client gives up and closes.
            while recv(client, &buffer, buffer.count, 0) > 0 {}
            return
        }
        let bytes = Array(answer.utf8)
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

extension [UInt8] {
    fileprivate var containsHeadEnd: Bool {
        guard count >= 4 else { return false }
        for start in 0...(count - 4)
        where self[start] == 13 && self[start + 1] == 10 && self[start + 2] == 13 && self[start + 3] == 10 {
            return true
        }
        return false
    }
}

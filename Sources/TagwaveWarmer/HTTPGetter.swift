import Dispatch
import Synchronization
import _TagwaveThreads

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client that does one thing: `GET` an `http://` URL and report the status.
///
/// Why not `URLSession`: on Linux it lives in FoundationNetworking, which loads libcurl at run time.
/// Neither `scripts/bootstrap` nor `.ci/run` installs libcurl, so on a fresh Debian image the warmer
/// would fail at its first request; it would also link libcurl into a daemon that otherwise needs
/// only hiredis and SQLite. A warm request is a GET whose answer is thrown away, so a small client
/// of our own over POSIX sockets does it: no new dependency, every timeout in our hands.
///
/// What it does: resolves the host (`getaddrinfo`), connects without blocking under
/// ``WarmerConfiguration/connectTimeout``, sends `GET <path?query> HTTP/1.1` with `Host`,
/// `Connection: close` and `X-Tagwave-Warm: 1`, and reads the whole answer (`Content-Length`,
/// `chunked`, or until close) under ``WarmerConfiguration/timeout``, discarding the body, so that a
/// success means the backend finished its work. It follows no redirects, speaks no TLS (`https://`
/// is refused when the target is parsed) and reuses no connection. Name resolution is
/// `getaddrinfo`, bounded by the system resolver's own timeouts rather than ours: warm targets
/// should name an address or a name the host resolves locally.
///
/// The socket calls block, so each request runs on one of the client's ``OwnedThread``s (one per
/// concurrent job), never on Swift's cooperative pool; waits are `poll` slices of at most 50 ms
/// that also notice cancellation, so a shutdown does not wait for a hanging backend.
final class HTTPGetter: Sendable {
    /// What the backend answered.
    struct Response: Sendable, Hashable {
        var status: Int
        var location: String?
        var bodyBytes: Int
    }

    private let threads: [OwnedThread]
    private let idle: Mutex<[Int]>
    private let connectTimeout: Duration
    private let timeout: Duration

    /// A client with `threads` threads (requests beyond that many at once wait for one).
    init(threads count: Int, connectTimeout: Duration, timeout: Duration) {
        let count = max(1, count)
        threads = (0..<count).map { OwnedThread(name: "tagwave-warm-\($0)") }
        idle = Mutex(Array(0..<count))
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// Ends the threads once their current request is done.
    func shutdown() {
        for thread in threads { thread.shutdown() }
    }

    /// GETs `target` (parsed from `url`).
    /// - Throws: ``WarmerError``: `timeout`, `connectionFailed`, `invalidResponse`, `cancelled`.
    func get(_ target: HTTPTarget, url: String) async throws -> Response {
        let cancel = CancelFlag()
        let index = idle.withLock { $0.popLast() } ?? Int.random(in: threads.indices)
        defer { idle.withLock { if !$0.contains(index) { $0.append(index) } } }
        let (connectTimeout, timeout) = (self.connectTimeout, self.timeout)
        return try await withTaskCancellationHandler {
            do {
                return try await threads[index].run {
                    try Self.blockingGet(
                        target, url: url, connectTimeout: connectTimeout, timeout: timeout, cancel: cancel)
                }
            } catch is OwnedThreadError {
                throw WarmerError(.cancelled, "the warmer stopped before \(url) was requested", target: url)
            }
        } onCancel: {
            cancel.set()
        }
    }

    // MARK: On the owned thread

    private static func blockingGet(
        _ target: HTTPTarget, url: String, connectTimeout: Duration, timeout: Duration, cancel: CancelFlag
    ) throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        var socket = Socket(url: url, cancel: cancel, deadline: start + timeout.nanoseconds, timeout: timeout)
        try socket.connect(target, within: min(connectTimeout, timeout), startedAt: start)
        defer { socket.close() }
        let request =
            "GET \(target.requestTarget) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: tagwave-warmer/1\r\n"
            + "Accept: */*\r\nConnection: close\r\nX-Tagwave-Warm: 1\r\n\r\n"
        try socket.send(Array(request.utf8))
        var reader = HTTPResponseReader()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        do {
            while !reader.isComplete {
                let count = try socket.receive(into: &buffer)
                if count == 0 {
                    try reader.finish()
                } else {
                    try reader.consume(buffer[..<count])
                }
            }
        } catch let failure as HTTPResponseReader.Failure {
            throw WarmerError(
                .invalidResponse, "the backend of \(url) \(failure.message)", target: url,
                httpStatus: reader.head?.status)
        }
        guard let head = reader.head else {
            throw WarmerError(.invalidResponse, "the backend of \(url) sent no answer", target: url)
        }
        return Response(status: head.status, location: head.location, bodyBytes: reader.bodyBytes)
    }
}

extension Duration {
    /// Whole milliseconds, for messages.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// Set once when the task awaiting a request is cancelled; read by the thread between poll slices.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// One non-blocking TCP connection used by one thread, with the request's deadline.
private struct Socket {
    let url: String
    let cancel: CancelFlag
    let deadline: UInt64
    let timeout: Duration
    private(set) var descriptor: Int32 = -1

    init(url: String, cancel: CancelFlag, deadline: UInt64, timeout: Duration) {
        self.url = url
        self.cancel = cancel
        self.deadline = deadline
        self.timeout = timeout
    }

    mutating func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Connects to the first address of `target` that accepts within `limit`.
    mutating func connect(_ target: HTTPTarget, within limit: Duration, startedAt: UInt64) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard resolved == 0, let list else {
            let reason = String(cString: gai_strerror(resolved))
            throw WarmerError(
                .connectionFailed,
                "cannot resolve the host \(target.host) of \(url): \(reason); check the warm target's host name",
                target: url)
        }
        defer { freeaddrinfo(list) }
        let connectDeadline = min(deadline, startedAt + limit.nanoseconds)
        var lastError: Int32 = ECONNREFUSED
        var address: UnsafeMutablePointer<addrinfo>? = list
        while let current = address {
            address = current.pointee.ai_next
            let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = Glibc.socket(current.pointee.ai_family, kind, current.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            descriptor = fd
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return }
            guard errno == EINPROGRESS else {
                lastError = errno
                close()
                continue
            }
            do {
                try wait(
                    for: Int16(POLLOUT), until: connectDeadline, what: "connecting to \(target.hostHeader)",
                    limit: limit,
                    hint: "is the backend up and reachable from the worker? (warm.connect_timeout_ms)")
            } catch {
                close()
                throw error
            }
            var status: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &length)
            if status == 0 { return }
            lastError = status
            close()
        }
        throw WarmerError(
            .connectionFailed,
            "cannot connect to \(target.hostHeader) for \(url): \(String(cString: strerror(lastError))); is the backend running?",
            target: url)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                sent += count
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try wait(for: Int16(POLLOUT), until: deadline, what: "sending the request", limit: timeout)
            } else {
                throw broken(errno)
            }
        }
    }

    /// Reads what is there, waiting for it; 0 at the end of the stream.
    func receive(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in Glibc.recv(descriptor, raw.baseAddress, raw.count, 0) }
            if count >= 0 { return count }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { throw broken(errno) }
            try wait(for: Int16(POLLIN), until: deadline, what: "waiting for the answer", limit: timeout)
        }
    }

    private func broken(_ code: Int32) -> WarmerError {
        WarmerError(
            .connectionFailed, "the connection for \(url) broke: \(String(cString: strerror(code)))", target: url)
    }

    /// Waits until the socket is ready for `events`, in slices of at most 50 ms that check for cancellation.
    private func wait(
        for events: Int16, until deadline: UInt64, what: String, limit: Duration,
        hint: String = "make the endpoint answer faster, or raise warm.timeout_ms"
    ) throws {
        while true {
            if cancel.isSet {
                throw WarmerError(
                    .cancelled, "the request for \(url) was cancelled (the warmer is shutting down)", target: url)
            }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw WarmerError(
                    .timeout,
                    "timed out after \(limit.milliseconds) ms \(what) for \(url): \(hint)",
                    target: url)
            }
            var descriptor = pollfd(fd: self.descriptor, events: events, revents: 0)
            let slice = Int32(min((deadline - now + 999_999) / 1_000_000, 50))
            let ready = poll(&descriptor, 1, slice)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw broken(errno) }
        }
    }
}

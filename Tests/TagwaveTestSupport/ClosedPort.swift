import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that refuses connections for as long as this value lives: bound, never listened on.
///
/// Tests of an unreachable Redis use it rather than a port that is merely free now, which another
/// test's server (or a cluster node's bus) may take in the meantime.
public final class ClosedPort: @unchecked Sendable {
    // @unchecked Sendable: `descriptor` is set once and only closed in deinit.

    /// The port number.
    public let port: Int
    private let descriptor: Int32

    /// Binds a free loopback port without listening on it.
    /// - Throws: ``RedisServerError`` when no socket can be bound.
    public init() throws {
        (descriptor, port) = try LoopbackSocket.bind()
    }

    deinit { close(descriptor) }
}

/// A TCP socket bound to a free port on 127.0.0.1, for test servers and refused ports.
public enum LoopbackSocket {
    /// Binds a new socket (close-on-exec) to a free loopback port; with `backlog`, also listens, and
    /// lets the port be reused right after a previous listener closed.
    /// - Returns: the descriptor, which the caller closes, and the port.
    /// - Throws: ``RedisServerError`` naming the failed call and `errno`'s text.
    public static func bind(listeningWithBacklog backlog: Int32? = nil) throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RedisServerError("socket(): \(String(cString: strerror(errno)))") }
        if backlog != nil {
            // Not for a refused port: on Linux another SO_REUSEADDR socket could then bind it too.
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, backlog.map({ listen(fd, $0) == 0 }) ?? true else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw RedisServerError("bind()/listen() on 127.0.0.1: \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

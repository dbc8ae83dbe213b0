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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServerError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw RedisServerError("bind() failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

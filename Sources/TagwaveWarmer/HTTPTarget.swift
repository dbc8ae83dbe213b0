/// An `http://` URL taken apart for one HTTP/1.1 GET.
///
/// Only plain `http://` is accepted: warm targets are backends on the private network, and the
/// warmer carries no TLS stack (no new dependency, no libcurl). `https://` is refused with an error
/// saying so, as are credentials in the URL and bytes that would break the request line.
struct HTTPTarget: Sendable, Hashable {
    /// The host as written (a name, an IPv4 address, or an IPv6 address without brackets).
    var host: String
    /// The TCP port (80 when the URL names none).
    var port: Int
    /// The request target: path and query, `/` when the URL has none; the fragment is dropped.
    var requestTarget: String
    /// The `Host` header's value.
    var hostHeader: String

    /// Whether `target` is routed to the HTTP warmer: it starts with a URL scheme.
    static func looksLikeURL(_ target: String) -> Bool {
        guard let colon = target.firstIndex(of: ":") else { return false }
        let scheme = target[..<colon]
        return !scheme.isEmpty && target[colon...].hasPrefix("://")
            && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }

    /// Parses `url`.
    /// - Throws: ``WarmerError`` (`invalidTarget`) saying what to change.
    init(parsing url: String) throws(WarmerError) {
        func invalid(_ reason: String) -> WarmerError {
            WarmerError(.invalidTarget, "warm target \(url) \(reason)", target: url)
        }
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
            throw invalid("is not an http:// URL")
        }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" else {
            if scheme == "https" {
                throw invalid(
                    "uses https, which the warmer does not speak (it has no TLS): warm backends over http:// on the "
                        + "private network, or register a closure warmer that calls the backend your way")
            }
            throw invalid("uses the scheme \(scheme): only http:// URLs are warmed by HTTP GET")
        }
        if let bad = url.utf8.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw invalid(
                "contains the byte 0x\(String(bad, radix: 16)) (a space or control character): percent-encode it")
        }
        let rest = url[url.index(colon, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else {
            throw invalid(
                "carries credentials (user@host): the warmer sends none; let the backend accept warm requests from the worker"
            )
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw invalid("has an unclosed [ in its IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("has text after its IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw invalid("has no host") }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("has the port \"\(portText)\", which is not a number from 1 to 65535")
            }
            port = value
        }
        var path = rest[authorityEnd...]
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
        self.host = String(host)
        self.port = port
        self.requestTarget = path.isEmpty ? "/" : path.hasPrefix("?") ? "/" + path : String(path)
        self.hostHeader = String(authority)
    }
}

/// A classroom session, as the API returns it.
struct Session: Codable, Sendable, Hashable {
    var id: String
    var teacherId: String
    var schoolId: String?
    var title: String
    var startsAt: String?
    var createdAt: String
}

/// The body of `POST /sessions`.
struct NewSession: Codable, Sendable {
    var teacherId: String
    var schoolId: String?
    var title: String
    var startsAt: String?
}

/// The seed's response envelope: `{"success": true, "data": …}`.
struct Envelope<Data: Codable & Sendable>: Codable, Sendable {
    var success = true
    var data: Data
}

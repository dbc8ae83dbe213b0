import TagwaveLedger
import TagwaveRedis

/// Where each consumer group and consumer stands in the stream (`tagwave offsets`): Redis's view
/// (`XINFO GROUPS`, `XINFO CONSUMERS`) next to the ledger's (`consumer_offsets`).
public struct OffsetsReport: Sendable, Hashable, Encodable {
    /// One consumer of a group.
    public struct Consumer: Sendable, Hashable, Encodable {
        /// Its name.
        public var name: String
        /// Entries it holds delivered and unacknowledged (Redis); nil when Redis no longer knows it.
        public var pending: Int?
        /// Milliseconds since it last read or acknowledged (Redis).
        public var idleMilliseconds: Int?
        /// The newest entry delivered to it (ledger).
        public var lastDeliveredID: String?
        /// The newest entry it acknowledged (ledger).
        public var lastAckedID: String?
        /// When the ledger last recorded its position.
        public var updatedAt: String?
        /// False when the group no longer has it (removed after idling; its history stays in the ledger).
        public var inGroup: Bool
    }

    /// One consumer group.
    public struct Group: Sendable, Hashable, Encodable {
        /// Its name.
        public var name: String
        /// The newest entry delivered to the group.
        public var lastDeliveredID: String?
        /// Entries delivered to the group and not acknowledged.
        public var pending: Int
        /// Entries not yet delivered to the group; nil when Redis cannot tell.
        public var lag: Int?
        /// Its consumers, by name.
        public var consumers: [Consumer]
    }

    /// The stream.
    public var stream: String
    /// Entries in it.
    public var length: Int
    /// The newest entry id it generated.
    public var lastGeneratedID: String?
    /// Its groups, by name.
    public var groups: [Group]
}

/// Reads ``OffsetsReport``s.
public struct OffsetsReader: Sendable {
    let redis: any RedisCommanding
    let ledger: Ledger?

    /// A reader; without a ledger the report has Redis's view only.
    public init(redis: any RedisCommanding, ledger: Ledger?) {
        self.redis = redis
        self.ledger = ledger
    }

    /// The positions of every group and consumer of `stream`.
    ///
    /// - Throws: ``OperationsError`` (`notFound`) when the stream does not exist; `RedisError`; ``LedgerError``.
    public func read(stream: String) async throws -> OffsetsReport {
        let info: StreamInfo
        do {
            info = try await redis.xinfoStream(stream)
        } catch let error as RedisError where error.serverMessage?.contains("no such key") == true {
            throw OperationsError(
                .notFound,
                "no stream \(stream) in Redis: nothing was published and no worker has started on it (check --stream)")
        }
        let recorded = try await ledger?.offsets().filter { $0.stream == stream } ?? []
        var groups: [OffsetsReport.Group] = []
        for group in try await redis.xinfoGroups(stream).sorted(by: { $0.name < $1.name }) {
            let live = try await redis.xinfoConsumers(stream, group: group.name)
            let fromLedger = Dictionary(
                recorded.filter { $0.group == group.name }.map { ($0.consumer, $0) }, uniquingKeysWith: { a, _ in a })
            var names = Set(live.map(\.name))
            names.formUnion(fromLedger.keys)
            let consumers = names.sorted().map { name in
                let redisView = live.first { $0.name == name }
                let ledgerView = fromLedger[name]
                return OffsetsReport.Consumer(
                    name: name, pending: redisView.map { Int($0.pending) },
                    idleMilliseconds: redisView.map { Int($0.idleMilliseconds) },
                    lastDeliveredID: ledgerView?.lastDeliveredID, lastAckedID: ledgerView?.lastAckedID,
                    updatedAt: ledgerView?.updatedAt.description, inGroup: redisView != nil)
            }
            groups.append(
                OffsetsReport.Group(
                    name: group.name, lastDeliveredID: group.lastDeliveredID?.description, pending: Int(group.pending),
                    lag: group.lag.map(Int.init), consumers: consumers))
        }
        return OffsetsReport(
            stream: stream, length: Int(info.length), lastGeneratedID: info.lastGeneratedID?.description, groups: groups
        )
    }
}

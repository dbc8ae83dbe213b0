/// One migration this program carries, and whether the ledger has it.
public struct MigrationStatus: Sendable, Hashable {
    /// Its number: 1 for `0001_initial.sql`.
    public var version: Int
    /// Its file name, e.g. `0001_initial.sql`.
    public var name: String
    /// SHA-256 of its SQL, 64 hexadecimal digits.
    public var checksum: String
    /// When it was applied to this ledger; nil while pending.
    public var appliedAt: LedgerTimestamp?

    /// True once applied.
    public var isApplied: Bool { appliedAt != nil }

    /// A migration's status.
    public init(version: Int, name: String, checksum: String, appliedAt: LedgerTimestamp?) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
    }
}

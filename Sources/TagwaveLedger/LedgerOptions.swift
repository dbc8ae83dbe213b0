/// How ``Ledger/open(path:logger:options:)`` opens a ledger.
public struct LedgerOptions: Sendable {
    /// What a committed batch survives, SQLite's `synchronous` setting in WAL mode.
    public enum Durability: Sendable {
        /// `synchronous=NORMAL`: a commit survives the process being killed at any moment
        /// (SIGKILL, a crash); a power loss or kernel panic may undo the last commits. The default:
        /// fast, and the stream still holds every entry that was not acknowledged.
        case survivesProcessCrash
        /// `synchronous=FULL`: a commit also survives a power loss, at the cost of an `fsync` per
        /// commit.
        case survivesPowerLoss
    }

    /// Create the file when it is missing (its directory must exist). Default true; read-only
    /// tools pass false, so a mistyped path is an error instead of a new empty ledger.
    public var createIfMissing: Bool
    /// How long a write waits for another process's transaction before failing with
    /// ``LedgerError/Code/busy``. Default 5 seconds.
    public var busyTimeout: Duration
    /// What a commit survives. Default ``Durability/survivesProcessCrash``.
    public var durability: Durability
    /// Apply pending migrations when opening. Default true. When false, applied migrations are
    /// still verified, pending ones are left for ``Ledger/migrationStatus()`` to report.
    public var applyMigrations: Bool

    /// Options; every parameter has the documented default.
    public init(
        createIfMissing: Bool = true,
        busyTimeout: Duration = .seconds(5),
        durability: Durability = .survivesProcessCrash,
        applyMigrations: Bool = true
    ) {
        self.createIfMissing = createIfMissing
        self.busyTimeout = busyTimeout
        self.durability = durability
        self.applyMigrations = applyMigrations
    }
}

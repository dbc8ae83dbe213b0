extension SQLiteDatabase {
    /// When a transaction takes its locks.
    public enum TransactionKind: Sendable {
        /// `BEGIN DEFERRED`: a read snapshot at the first read, the write lock at the first write.
        /// Use it for consistent reads; a write inside it may fail with ``SQLiteError/Code/busy``
        /// without waiting, when another connection wrote first.
        case deferred
        /// `BEGIN IMMEDIATE`: the write lock at once, waiting up to the busy timeout. Use it for
        /// every transaction that writes.
        case immediate
        /// `BEGIN EXCLUSIVE`: like ``immediate``; in WAL mode readers still proceed.
        case exclusive

        var beginSQL: String {
            switch self {
            case .deferred: "BEGIN DEFERRED"
            case .immediate: "BEGIN IMMEDIATE"
            case .exclusive: "BEGIN EXCLUSIVE"
            }
        }
    }
}

extension String.UTF8View {
    /// Calls `body` with the string's UTF-8 bytes: in place when they are contiguous (native and
    /// small strings are), else copied once. Walking the view itself goes through its index type a
    /// byte at a time, which the ledger's per-event writers cannot afford.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try withContiguousStorageIfAvailable(body) { return result }
        return try Array(self).withUnsafeBufferPointer(body)
    }
}

import CSQLite

/// A compiled SQL statement: bind parameters, step through rows, read columns, reset, repeat.
///
/// Parameter indexes start at 1 (`?` number one), column indexes at 0, as in SQLite's C API.
/// Like its ``SQLiteDatabase``, a statement is confined to the database's thread.
///
/// ```swift
/// let select = try database.cachedStatement("SELECT id, body FROM notes WHERE id > ?")
/// try select.bind(Int64(10), at: 1)
/// while try select.step() == .row {
///     print(select.int64(at: 0), select.string(at: 1) ?? "NULL")
/// }
/// ```
public final class SQLiteStatement {
    /// What one ``step()`` produced.
    public enum StepResult: Sendable {
        /// A row is ready: read it with the column getters.
        case row
        /// The statement has finished; ``reset()`` it to run it again.
        case done
    }

    private var pointer: OpaquePointer?
    private let handle: SQLiteHandle
    /// The bytes of the text and blob parameters, which SQLite reads in place (`SQLITE_STATIC`).
    private let storage = ParameterStorage()

    init(pointer: OpaquePointer, handle: SQLiteHandle) {
        self.pointer = pointer
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(pointer)
        storage.deallocate()
    }

    /// The statement's SQL text.
    public var sql: String {
        guard let pointer, let text = sqlite3_sql(pointer) else { return "" }
        return String(cString: text)
    }

    // MARK: Binding

    /// Binds a 64-bit integer to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(livePointer(), index, value))
    }

    /// Binds an integer to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Int, at index: Int32) throws {
        try check(sqlite3_bind_int64(livePointer(), index, Int64(value)))
    }

    /// Binds a floating-point number to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Double, at index: Int32) throws {
        try check(sqlite3_bind_double(livePointer(), index, value))
    }

    /// Binds UTF-8 text to parameter `index` (1-based). The bytes are copied (into the
    /// statement's own storage for the parameter, reused by the next binding of the same size or
    /// smaller, so a statement run row after row allocates nothing per value).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/tooBig`` past SQLite's length limit).
    public func bind(_ value: String, at index: Int32) throws {
        let pointer = try livePointer()
        var value = value
        let resultCode = value.withUTF8 { buffer -> Int32 in
            let bytes = UnsafeRawBufferPointer(buffer)
            guard let (text, destructor) = storage.keep(bytes, for: index) else {
                return sqlite3_bind_text64(pointer, index, "", 0, tagwave_sqlite_transient(), UInt8(SQLITE_UTF8))
            }
            return sqlite3_bind_text64(
                pointer, index, text.assumingMemoryBound(to: CChar.self), UInt64(bytes.count), destructor,
                UInt8(SQLITE_UTF8))
        }
        try check(resultCode)
    }

    /// Binds UTF-8 text given as bytes to parameter `index` (1-based), copied as
    /// ``bind(_:at:)-(String,_)`` copies text: for text built in a reusable buffer, without a
    /// `String` per value. The bytes must be valid UTF-8.
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/tooBig`` past SQLite's length limit).
    public func bind(utf8 bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let pointer = try livePointer()
        guard let (text, destructor) = storage.keep(bytes, for: index) else {
            return try check(sqlite3_bind_text64(pointer, index, "", 0, tagwave_sqlite_transient(), UInt8(SQLITE_UTF8)))
        }
        try check(sqlite3_bind_text64(
            pointer, index, text.assumingMemoryBound(to: CChar.self), UInt64(bytes.count), destructor, UInt8(SQLITE_UTF8)))
    }

    /// Binds bytes as a blob to parameter `index` (1-based), copied as ``bind(_:at:)-(String,_)``
    /// copies text. An empty array binds an empty blob, not `NULL`.
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/tooBig`` past SQLite's length limit).
    public func bind(_ value: [UInt8], at index: Int32) throws {
        let pointer = try livePointer()
        let resultCode = value.withUnsafeBytes { bytes in
            guard let (blob, destructor) = storage.keep(bytes, for: index) else {
                return sqlite3_bind_zeroblob(pointer, index, 0)
            }
            return sqlite3_bind_blob64(pointer, index, blob, UInt64(bytes.count), destructor)
        }
        try check(resultCode)
    }

    /// Binds `NULL` to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bindNull(at index: Int32) throws {
        try check(sqlite3_bind_null(livePointer(), index))
    }

    /// Binds `value`, or `NULL` when it is nil, to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Int64?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds `value`, or `NULL` when it is nil, to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Int?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds `value`, or `NULL` when it is nil, to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: Double?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds `value`, or `NULL` when it is nil, to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: String?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds `value`, or `NULL` when it is nil, to parameter `index` (1-based).
    ///
    /// - Throws: ``SQLiteError`` (``SQLiteError/Code/range`` for an index out of range).
    public func bind(_ value: [UInt8]?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Sets every parameter back to `NULL`.
    public func clearBindings() {
        guard let pointer, handle.pointer != nil else { return }
        sqlite3_clear_bindings(pointer)
    }

    /// The index of the parameter written `:name`, `@name` or `$name` (pass the prefix too), or nil
    /// when the statement has no such parameter.
    public func parameterIndex(named name: String) -> Int32? {
        guard let pointer else { return nil }
        let index = sqlite3_bind_parameter_index(pointer, name)
        return index == 0 ? nil : index
    }

    /// The number of parameters the statement takes.
    public var parameterCount: Int32 {
        guard let pointer else { return 0 }
        return sqlite3_bind_parameter_count(pointer)
    }

    // MARK: Running

    /// Runs the statement to its next row, or to its end.
    ///
    /// - Returns: ``StepResult/row`` when a row is ready to read, ``StepResult/done`` at the end.
    /// - Throws: ``SQLiteError``; the statement must then be ``reset()`` before it runs again.
    @discardableResult
    public func step() throws -> StepResult {
        let resultCode = sqlite3_step(try livePointer())
        switch resultCode {
        case SQLITE_ROW: return .row
        case SQLITE_DONE: return .done
        default: throw error(resultCode)
        }
    }

    /// Runs the statement to its end, discarding rows, then resets it: the one call for an
    /// `INSERT`, `UPDATE`, `DELETE` or a statement like `BEGIN`.
    ///
    /// Bindings are kept. ``SQLiteDatabase/changes`` tells how many rows it changed.
    ///
    /// - Throws: ``SQLiteError``; the statement is reset either way.
    public func execute() throws {
        let pointer = try livePointer()
        var resultCode = sqlite3_step(pointer)
        while resultCode == SQLITE_ROW {
            resultCode = sqlite3_step(pointer)
        }
        guard resultCode == SQLITE_DONE else {
            let failure = error(resultCode)
            sqlite3_reset(pointer)
            throw failure
        }
        sqlite3_reset(pointer)
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    ///
    /// - Throws: ``SQLiteError`` when the latest ``step()`` failed (the statement is reset
    ///   either way).
    public func reset() throws {
        let resultCode = sqlite3_reset(try livePointer())
        guard resultCode == SQLITE_OK else { throw error(resultCode) }
    }

    /// Rewinds without reporting the previous step's failure (already thrown by ``step()``).
    func resetIgnoringError() {
        guard let pointer else { return }
        sqlite3_reset(pointer)
    }

    /// Finalizes now (the database does this for its cached statements when it closes).
    func finalize() {
        sqlite3_finalize(pointer)
        pointer = nil
        storage.deallocate()
    }

    // MARK: Reading the current row

    /// The number of columns in a result row.
    public var columnCount: Int32 {
        guard let pointer else { return 0 }
        return sqlite3_column_count(pointer)
    }

    /// The name of column `index` (0-based), as the `SELECT` names it.
    public func columnName(at index: Int32) -> String {
        guard let pointer, let name = sqlite3_column_name(pointer, index) else { return "" }
        return String(cString: name)
    }

    /// True when column `index` (0-based) of the current row is `NULL`.
    public func isNull(at index: Int32) -> Bool {
        guard let pointer else { return true }
        return sqlite3_column_type(pointer, index) == SQLITE_NULL
    }

    /// Column `index` (0-based) as a 64-bit integer; `NULL` reads as 0.
    public func int64(at index: Int32) -> Int64 {
        guard let pointer else { return 0 }
        return sqlite3_column_int64(pointer, index)
    }

    /// Column `index` (0-based) as an integer; `NULL` reads as 0.
    public func int(at index: Int32) -> Int {
        Int(int64(at: index))
    }

    /// Column `index` (0-based) as a 64-bit integer, or nil when it is `NULL`.
    public func optionalInt64(at index: Int32) -> Int64? {
        isNull(at: index) ? nil : int64(at: index)
    }

    /// Column `index` (0-based) as a floating-point number; `NULL` reads as 0.
    public func double(at index: Int32) -> Double {
        guard let pointer else { return 0 }
        return sqlite3_column_double(pointer, index)
    }

    /// Column `index` (0-based) as text, or nil when it is `NULL`. Invalid UTF-8 is repaired
    /// with replacement characters.
    public func string(at index: Int32) -> String? {
        guard let pointer, sqlite3_column_type(pointer, index) != SQLITE_NULL else { return nil }
        guard let text = sqlite3_column_text(pointer, index) else { return "" }
        let count = Int(sqlite3_column_bytes(pointer, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` (0-based) as bytes, or nil when it is `NULL`.
    public func blob(at index: Int32) -> [UInt8]? {
        guard let pointer, sqlite3_column_type(pointer, index) != SQLITE_NULL else { return nil }
        guard let bytes = sqlite3_column_blob(pointer, index) else { return [] }
        let count = Int(sqlite3_column_bytes(pointer, index))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    // MARK: Errors

    private func livePointer() throws -> OpaquePointer {
        guard let pointer, handle.pointer != nil else {
            throw SQLiteError(
                resultCode: SQLITE_MISUSE,
                message: "the statement's database was closed",
                sql: pointer.map { String(cString: sqlite3_sql($0)) }
            )
        }
        return pointer
    }

    private func check(_ resultCode: Int32, line: Int = #line) throws {
        guard resultCode == SQLITE_OK else { throw error(resultCode, line: line) }
    }

    private func error(_ resultCode: Int32, line: Int = #line) -> SQLiteError {
        SQLiteError(resultCode: resultCode, handle: handle.pointer, sql: sql, file: #fileID, line: line)
    }
}

/// One buffer per text or blob parameter, holding the bytes bound to it for as long as SQLite may
/// read them: until the parameter is bound again or the statement is finalized. Without SQLite's
/// lookaside allocator (Debian builds it with `SQLITE_OMIT_LOOKASIDE`), letting SQLite copy each
/// value (`SQLITE_TRANSIENT`) costs a `malloc` and a `free` per value per row.
private final class ParameterStorage {
    /// Values longer than this are left to SQLite to copy, so no buffer stays large.
    static let largestKept = 4096

    private var buffers: [UnsafeMutableRawBufferPointer?] = []

    /// Where SQLite should read `bytes` bound to parameter `index`, and how to bind them; nil for
    /// no bytes.
    func keep(
        _ bytes: UnsafeRawBufferPointer, for index: Int32
    ) -> (UnsafeRawPointer, sqlite3_destructor_type?)? {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return nil }
        guard bytes.count <= Self.largestKept, index >= 1 else { return (source, tagwave_sqlite_transient()) }
        let slot = Int(index) - 1
        if slot >= buffers.count { buffers.append(contentsOf: repeatElement(nil, count: slot + 1 - buffers.count)) }
        var buffer = buffers[slot]
        if let current = buffer, current.count < bytes.count {
            // SQLite still points at the old bytes until the new binding replaces them: freed
            // only after it has, which is before this returns to anything that could step.
            retired = current
            buffer = nil
        }
        if buffer == nil {
            buffer = .allocate(byteCount: max(bytes.count, 64), alignment: 16)
            buffers[slot] = buffer
        }
        guard let target = buffer?.baseAddress else { return (source, tagwave_sqlite_transient()) }
        target.copyMemory(from: source, byteCount: bytes.count)
        return (UnsafeRawPointer(target), tagwave_sqlite_static())
    }

    /// A buffer replaced by a larger one, freed at the next ``keep(_:for:)`` or ``deallocate()``.
    private var retired: UnsafeMutableRawBufferPointer? {
        didSet { oldValue?.deallocate() }
    }

    func deallocate() {
        for buffer in buffers { buffer?.deallocate() }
        buffers = []
        retired = nil
    }
}

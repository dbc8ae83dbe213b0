/// One `migrations/NNNN_name.sql` file, compiled into this module by the `EmbedMigrations`
/// build-tool plugin (the list is `EmbeddedMigration.all`, in the generated
/// `EmbeddedMigrations.swift`).
struct EmbeddedMigration: Sendable {
    /// The number the file name starts with: 1 for `0001_initial.sql`.
    let version: Int
    /// The file name, e.g. `0001_initial.sql`.
    let fileName: String
    /// The file's text, byte for byte.
    let sql: String
    /// SHA-256 of the file's bytes, 64 hexadecimal digits.
    let checksum: String

    init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
        self.checksum = SHA256.hex(sql.utf8)
    }

    /// The path people know the file by: `migrations/0001_initial.sql`.
    var displayPath: String { "migrations/" + fileName }
}

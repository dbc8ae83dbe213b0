#ifndef TAGWAVE_CSQLITE_SHIM_H
#define TAGWAVE_CSQLITE_SHIM_H
#include <sqlite3.h>
// SQLITE_TRANSIENT is a macro cast Swift cannot import: expose it as a function.
static inline sqlite3_destructor_type tagwave_sqlite_transient(void) { return SQLITE_TRANSIENT; }
// SQLITE_STATIC is a null destructor: SQLite reads the bytes in place and never frees them.
static inline sqlite3_destructor_type tagwave_sqlite_static(void) { return SQLITE_STATIC; }
// sqlite3_config is variadic, which Swift cannot call: expose the one setting Tagwave changes.
// Memory statistics take a global mutex around every allocation; Tagwave never reads them.
// Effective only before SQLite initializes (the first open in the process); SQLITE_MISUSE after.
static inline int tagwave_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif

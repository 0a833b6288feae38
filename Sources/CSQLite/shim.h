#ifndef VENEER_CSQLITE_SHIM_H
#define VENEER_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift cannot import as a macro: a bound
// text is copied by SQLite before the call returns.
static inline int veneer_sqlite3_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

// Process-wide settings, before the first connection: no memory statistics. SQLite keeps them by default,
// under a global mutex taken by every allocation it makes; nothing here reads them.
static inline int veneer_sqlite3_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif

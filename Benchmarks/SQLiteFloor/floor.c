// What SQLite itself costs per event for the ledger's events table: the worker's row inserted with
// prepared statements from C, 1,000 rows per transaction, WAL, synchronous=NORMAL, memory statistics
// off, the system library. Run by scripts/bench-sqlite-floor, which passes the events table and its
// indexes as the migrations leave them.
//
//   floor SCHEMA.sql DATABASE VARIANT      VARIANT: ledger | schema-4 | no-tag-index | no-unique-id | bare-table
//
// ledger:       as the ledger writes a batch (migration 0005): the rows, one event_blocks row and one
//               block_tags document of the batch's distinct tags.
// schema-4:     as schema 4 wrote it: a tag document per event, and the (occurred_at_ms, type) index.
// no-tag-index: the ledger without the block's tag document; no-unique-id: without UNIQUE on event_id.
// bare-table:   the rows alone: no index, no block, no document.
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double thread_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void run(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "floor: %s\n  in: %.200s\n", error, sql);
        exit(1);
    }
}

static void blank(char *schema, const char *from, size_t length) {
    char *at = strstr(schema, from);
    if (at != NULL) memset(at, ' ', length ? length : strlen(at));
}

static void hex(char *out, const char *text) {
    static const char digits[] = "0123456789ABCDEF";
    for (; *text; text++) {
        *out++ = digits[(unsigned char)*text >> 4];
        *out++ = digits[*text & 15];
    }
    *out = 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: floor SCHEMA.sql DATABASE VARIANT\n");
        return 2;
    }
    const char *variant = argv[3];
    int schema_4 = !strcmp(variant, "schema-4");
    int bare = !strcmp(variant, "bare-table");
    if (!schema_4 && !bare && strcmp(variant, "ledger") && strcmp(variant, "no-tag-index") && strcmp(variant, "no-unique-id")) {
        fprintf(stderr, "floor: unknown variant %s\n", variant);
        return 2;
    }
    int per_event_document = schema_4;
    int block_document = !schema_4 && !bare && strcmp(variant, "no-tag-index");
    int blocks = !schema_4 && !bare;
    int unique_id = strcmp(variant, "no-unique-id") && !bare;

    static char schema[1 << 16];
    FILE *file = fopen(argv[1], "r");
    if (file == NULL) { perror(argv[1]); return 1; }
    schema[fread(schema, 1, sizeof schema - 1, file)] = 0;
    fclose(file);
    if (!unique_id) blank(schema, "UNIQUE", 6);

    // As the ledger does (SQLiteDatabase.processConfiguration): no memory statistics, whose global
    // mutex is taken around every allocation (and Debian's SQLite allocates often: OMIT_LOOKASIDE).
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db;
    if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "floor: cannot open %s\n", argv[2]);
        return 1;
    }
    run(db, "PRAGMA journal_mode=WAL");
    run(db, "PRAGMA synchronous=NORMAL");
    run(db, schema);
    if (bare) blank(schema, "CREATE INDEX events_by_status", 0);
    run(db, "CREATE VIRTUAL TABLE event_tags USING fts5(tags, content='', columnsize=0, detail=none, tokenize='ascii')");
    run(db, "CREATE TABLE event_blocks (first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, "
        "first_occurred_at_ms INTEGER NOT NULL, last_occurred_at_ms INTEGER NOT NULL, CHECK (last_seq >= first_seq)) STRICT");
    run(db, "CREATE INDEX event_blocks_by_last_occurrence ON event_blocks (last_occurred_at_ms)");
    if (schema_4) run(db, "CREATE INDEX events_by_time_type ON events (occurred_at_ms, type)");

    char insert_sql[2048];
    snprintf(insert_sql, sizeof insert_sql,
        "INSERT INTO events (event_id, stream, stream_id, stream_ms, stream_seq, type, source, occurred_at_ms, "
        "received_at_ms, payload, metadata, traceparent, status, attempts, worker, processed_at_ms, duration_us, "
        "entries_removed, error, invalidation_handler, invalidation_started_at_ms, invalidation_duration_us, "
        "invalidation_tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23)%s", unique_id ? " ON CONFLICT (event_id) DO NOTHING" : "");
    sqlite3_stmt *insert, *document, *block, *begin, *commit;
    sqlite3_prepare_v2(db, insert_sql, -1, &insert, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO event_tags (rowid, tags) VALUES (?1, ?2)", -1, &document, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO event_blocks VALUES (?1, ?2, ?3, ?4)", -1, &block, NULL);
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);

    const long long start_ms = 1764633600000LL;
    const int rows = 200000;
    static char group[1 << 17];
    double total = 0, committing = 0;
    for (int batch = 0; batch < rows / 1000; batch++) {
        double started = thread_seconds();
        sqlite3_step(begin);
        sqlite3_reset(begin);
        size_t group_length = 0;
        long long group_first = -1;
        for (int i = batch * 1000; i < (batch + 1) * 1000; i++) {
            char id[32], stream_id[48], payload[160], tags[192], teacher[32], school[32], doc[160], h1[64], h2[64];
            snprintf(id, sizeof id, "evt-%d", i);
            snprintf(stream_id, sizeof stream_id, "%lld-%d", start_ms + i / 300, i % 300);
            snprintf(payload, sizeof payload, "{\"teacherId\": \"t%d\", \"schoolId\": \"s%d\", \"sessionId\": \"x%d\"}", i % 1000, i % 50, i);
            snprintf(teacher, sizeof teacher, "teacher:t%d", i % 1000);
            snprintf(school, sizeof school, "school:s%d", i % 50);
            snprintf(tags, sizeof tags, "[{\"tag\":\"%s\",\"removed\":1},{\"tag\":\"%s\",\"removed\":0}]", teacher, school);
            hex(h1, teacher);
            hex(h2, school);
            snprintf(doc, sizeof doc, "%s %s", h1, h2);
            sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 2, "bench:events", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 3, stream_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(insert, 4, start_ms + i / 300);
            sqlite3_bind_int64(insert, 5, i % 300);
            sqlite3_bind_text(insert, 6, "session.created", -1, SQLITE_STATIC);
            sqlite3_bind_null(insert, 7);
            sqlite3_bind_int64(insert, 8, start_ms + i / 300);
            sqlite3_bind_int64(insert, 9, start_ms + batch);
            sqlite3_bind_text(insert, 10, payload, -1, SQLITE_TRANSIENT);
            sqlite3_bind_null(insert, 11);
            sqlite3_bind_null(insert, 12);
            sqlite3_bind_text(insert, 13, "processed", -1, SQLITE_STATIC);
            sqlite3_bind_int(insert, 14, 1);
            sqlite3_bind_text(insert, 15, "bench", -1, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 16, start_ms + batch);
            sqlite3_bind_int(insert, 17, 1234);
            sqlite3_bind_int(insert, 18, 1);
            sqlite3_bind_null(insert, 19);
            sqlite3_bind_text(insert, 20, "rules", -1, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 21, start_ms + batch);
            sqlite3_bind_int(insert, 22, 321);
            sqlite3_bind_text(insert, 23, tags, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(insert) != SQLITE_DONE) {
                fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db));
                return 1;
            }
            sqlite3_reset(insert);
            long long seq = sqlite3_last_insert_rowid(db);
            if (per_event_document) {
                sqlite3_bind_int64(document, 1, seq);
                sqlite3_bind_text(document, 2, doc, -1, SQLITE_TRANSIENT);
                sqlite3_step(document);
                sqlite3_reset(document);
            }
            if (group_first < 0) group_first = seq;
            // The batch's distinct tags: its 1,000 teachers and the 50 schools of its first 50 events.
            if (block_document) {
                if (group_length > 0) group[group_length++] = ' ';
                group_length += strlen(strcpy(group + group_length, h1));
                if (i % 1000 < 50) {
                    group[group_length++] = ' ';
                    group_length += strlen(strcpy(group + group_length, h2));
                }
            }
        }
        if (blocks) {
            sqlite3_bind_int64(block, 1, group_first);
            sqlite3_bind_int64(block, 2, group_first + 999);
            sqlite3_bind_int64(block, 3, start_ms + batch * 1000 / 300);
            sqlite3_bind_int64(block, 4, start_ms + (batch * 1000 + 999) / 300);
            sqlite3_step(block);
            sqlite3_reset(block);
        }
        if (block_document) {
            sqlite3_bind_int64(document, 1, group_first);
            sqlite3_bind_text(document, 2, group, (int)group_length, SQLITE_STATIC);
            sqlite3_step(document);
            sqlite3_reset(document);
        }
        double commit_started = thread_seconds();
        sqlite3_step(commit);
        sqlite3_reset(commit);
        double ended = thread_seconds();
        committing += ended - commit_started;
        total += ended - started;
    }
    printf("%-20s %.2f µs per event (commit %.2f µs), %d events\n", variant, total / rows * 1e6, committing / rows * 1e6, rows);
    sqlite3_close(db);
    return 0;
}

/* lt-catalog.h: the SQLite catalog — rules, notify configs, API key ids, streams, sessions,
 * slices, recording files, index files, the upload and callback outboxes, events.
 *
 * One worker thread owns the database connection (WAL, synchronous=NORMAL; FULL for the
 * few transitions that delete data). Every job runs there and completes on the
 * GMainContext that was thread-default when it was queued, through its GTask. Schema
 * changes are numbered migrations applied in order at open (PRAGMA user_version).
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "lt-rule.h"

G_BEGIN_DECLS

#define LT_CATALOG_ERROR (lt_catalog_error_quark ())

typedef enum
{
  LT_CATALOG_ERROR_FAILED,
  LT_CATALOG_ERROR_CORRUPT,     /* integrity check failed / not a database */
  LT_CATALOG_ERROR_TOO_NEW,     /* schema version newer than this build knows */
  LT_CATALOG_ERROR_CONSTRAINT,  /* unique or foreign key violation */
  LT_CATALOG_ERROR_NOT_FOUND,
  LT_CATALOG_ERROR_CLOSED,      /* job queued after lt_catalog_close() */
} LtCatalogError;

GQuark lt_catalog_error_quark (void);

#define LT_TYPE_CATALOG (lt_catalog_get_type ())
G_DECLARE_FINAL_TYPE (LtCatalog, lt_catalog, LT, CATALOG, GObject)

/* A job runs on the worker thread with the open connection. It returns a result (freed
 * with the result_free given to lt_catalog_run_async when nobody takes it) or NULL and
 * sets @error. Jobs must not block on the main thread. */
typedef gpointer (*LtCatalogJobFunc) (sqlite3   *db,
                                      gpointer   data,
                                      GError   **error);

LtCatalog *lt_catalog_new              (const char           *path);
const char *lt_catalog_get_path        (LtCatalog            *self);
/* Opens (creating if needed) and migrates. */
void       lt_catalog_open_async       (LtCatalog            *self,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean   lt_catalog_open_finish      (LtCatalog            *self,
                                        GAsyncResult         *result,
                                        GError              **error);
/* Convenience for startup paths and tests: blocks the calling thread until the worker
 * has opened and migrated the catalog (no main context is iterated meanwhile). */
gboolean   lt_catalog_open_sync        (LtCatalog            *self,
                                        GError              **error);
/* Finishes queued jobs, checkpoints and closes; later jobs fail with CLOSED. Blocks. */
void       lt_catalog_close            (LtCatalog            *self);
int        lt_catalog_get_schema_version (LtCatalog          *self);

void       lt_catalog_run_async        (LtCatalog            *self,
                                        LtCatalogJobFunc      func,
                                        gpointer              data,
                                        GDestroyNotify        data_free,
                                        GDestroyNotify        result_free,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gpointer   lt_catalog_run_finish       (LtCatalog            *self,
                                        GAsyncResult         *result,
                                        GError              **error);
/* Blocks the calling thread until the job ran on the worker (never call on the worker). */
gpointer   lt_catalog_run_sync         (LtCatalog            *self,
                                        LtCatalogJobFunc      func,
                                        gpointer              data,
                                        GError              **error);

/* Rules (one row per triplet; unique). Results: GPtrArray of LtRule for list. */
void       lt_catalog_insert_rule_async  (LtCatalog *self, LtRule *rule, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_insert_rule_finish (LtCatalog *self, GAsyncResult *result, GError **error);
/* Replaces the rule of the same triplet; NOT_FOUND when there is none. */
void       lt_catalog_update_rule_async  (LtCatalog *self, LtRule *rule, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_update_rule_finish (LtCatalog *self, GAsyncResult *result, GError **error);
void       lt_catalog_delete_rule_async  (LtCatalog *self, const char *domain, const char *app,
                                          const char *stream, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_delete_rule_finish (LtCatalog *self, GAsyncResult *result, GError **error);
void       lt_catalog_list_rules_async   (LtCatalog *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *lt_catalog_list_rules_finish  (LtCatalog *self, GAsyncResult *result, GError **error);

/* API access keys: only the id and metadata are stored here; the secret is in the keyring. */
typedef struct
{
  char   *access_key_id;
  char   *description;
  gint64  create_time;   /* Unix seconds */
  gboolean enabled;
} LtApiKeyInfo;

void       lt_api_key_info_free          (LtApiKeyInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtApiKeyInfo, lt_api_key_info_free)

void       lt_catalog_insert_api_key_async  (LtCatalog *self, const char *access_key_id,
                                             const char *description, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_insert_api_key_finish (LtCatalog *self, GAsyncResult *result, GError **error);
void       lt_catalog_delete_api_key_async  (LtCatalog *self, const char *access_key_id,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_delete_api_key_finish (LtCatalog *self, GAsyncResult *result, GError **error);
/* GPtrArray of LtApiKeyInfo */
void       lt_catalog_list_api_keys_async   (LtCatalog *self, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *lt_catalog_list_api_keys_finish  (LtCatalog *self, GAsyncResult *result, GError **error);

/* Events: an append-only log shown in the console and used by later issues. */
void       lt_catalog_add_event_async    (LtCatalog *self, const char *kind, const char *subject,
                                          const char *message, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean   lt_catalog_add_event_finish   (LtCatalog *self, GAsyncResult *result, GError **error);

/* ------------------------------------------------------------------------------------
 * Additions (catalog owner). Everything below is additive; the contract above is unchanged.
 *
 * Schema and units (the tables are created in lt-catalog-schema.c, which documents each
 * column): rules, notify_configs, api_keys, api_nonces, storage_targets, streams,
 * ingest_sources, sessions, session_pauses, recording_files, slices, index_files,
 * upload_outbox, upload_parts, callback_outbox, events.
 *   - A column whose name ends in `_us` holds microseconds: a wall-clock instant as
 *     microseconds since the Unix epoch, UTC (the unit of g_get_real_time()), or a duration
 *     (`duration_us`). All media timing, sessions, outboxes and events use it.
 *   - Every other time column (`create_time`, `update_time`, `first_seen`, `last_seen`,
 *     `expire_time`) holds Unix seconds, UTC: configuration records, as the API shows them.
 * Slices overlapping [a, b) of one stream are found with the (stream_id, start_time_us)
 * index: `stream_id = ? AND start_time_us >= a - <longest slice> AND start_time_us < b`,
 * then `start_time_us + duration_us > a`.
 * Retention deletes per stream (`stream_id = ? AND start_time_us < ?`), which uses the same
 * index; there is deliberately no catalog-wide time index on slices.
 * ------------------------------------------------------------------------------------ */

/* The schema version this build migrates to (the number of migrations). */
int        lt_catalog_get_latest_schema_version (void);

/* Like lt_catalog_run_async(), but the job runs with PRAGMA synchronous=FULL, so that what
 * it commits survives a power loss, not only a crash of the process (WAL with NORMAL can
 * roll back the last commits on power loss). Use it for the few transitions that delete
 * data or whose loss would resurrect something (retention, deleting a rule or an API key,
 * removing a spool file's record after upload). Finish with lt_catalog_run_finish(). */
void       lt_catalog_run_durable_async (LtCatalog           *self,
                                         LtCatalogJobFunc     func,
                                         gpointer             data,
                                         GDestroyNotify       data_free,
                                         GDestroyNotify       result_free,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gpointer   lt_catalog_run_durable_sync  (LtCatalog           *self,
                                         LtCatalogJobFunc     func,
                                         gpointer             data,
                                         GError             **error);

/* Helpers for job functions. Worker thread only, with the connection handed to the job.
 *
 * A job that succeeds without a natural result returns GINT_TO_POINTER (TRUE): NULL always
 * means failure. After every job the worker resets the statements it handed out and rolls
 * back a transaction the job left open (a job that leaves one open on success is a bug).
 *
 * lt_catalog_stmt(): the prepared statement for @sql (first statement only), cached per SQL
 * text for the life of the connection, reset and with cleared bindings. Handing out the same
 * SQL again resets it, so do not nest two uses of one SQL text. Bind with sqlite3_bind_*()
 * (SQLITE_TRANSIENT for strings that do not outlive the statement's use). */
sqlite3_stmt *lt_catalog_stmt         (sqlite3       *db,
                                       const char    *sql,
                                       GError       **error);
/* Runs one or more statements that return no rows (uncached; schema, pragmas). */
gboolean   lt_catalog_exec            (sqlite3       *db,
                                       const char    *sql,
                                       GError       **error);
/* Steps a statement that changes rows (INSERT/UPDATE/DELETE, also … RETURNING when the
 * returned row is not needed) and resets it. */
gboolean   lt_catalog_step_done       (sqlite3_stmt  *stmt,
                                       GError       **error);
/* Steps a query: TRUE with a row to read, FALSE at the end or on error (then @error is set;
 * test it). The statement is reset at the end or on error. */
gboolean   lt_catalog_next_row        (sqlite3_stmt  *stmt,
                                       GError       **error);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. A failed commit rolls back. */
gboolean   lt_catalog_begin           (sqlite3       *db,
                                       GError       **error);
gboolean   lt_catalog_commit          (sqlite3       *db,
                                       GError       **error);
void       lt_catalog_rollback        (sqlite3       *db);
/* Sets @error from SQLite result code @rc (an extended code) and the connection's message,
 * prefixed with @context: UNIQUE, PRIMARY KEY and FOREIGN KEY violations become
 * LT_CATALOG_ERROR_CONSTRAINT, SQLITE_CORRUPT and SQLITE_NOTADB become
 * LT_CATALOG_ERROR_CORRUPT, anything else LT_CATALOG_ERROR_FAILED. Returns FALSE. */
gboolean   lt_catalog_set_sqlite_error (GError      **error,
                                        sqlite3      *db,
                                        int           rc,
                                        const char   *context);

/* Bind @text (NULL binds SQL NULL) or @value to parameter @index; FALSE with @error set
 * (may be NULL) when SQLite refuses. */
gboolean   lt_catalog_bind_text       (sqlite3_stmt  *stmt,
                                       int            index,
                                       const char    *text,
                                       GError       **error);
gboolean   lt_catalog_bind_int64      (sqlite3_stmt  *stmt,
                                       int            index,
                                       gint64         value,
                                       GError       **error);
/* A copy of text column @column of the current row; NULL for SQL NULL. */
char      *lt_catalog_column_dup      (sqlite3_stmt  *stmt,
                                       int            column);

/* API keys: enable or disable one (a disabled key is refused by the API); NOT_FOUND when
 * there is none. Disabling is written durably. */
void       lt_catalog_set_api_key_enabled_async  (LtCatalog *self, const char *access_key_id,
                                                  gboolean enabled, GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
gboolean   lt_catalog_set_api_key_enabled_finish (LtCatalog *self, GAsyncResult *result,
                                                  GError **error);

/* Events, newest first. */
typedef struct
{
  gint64  id;
  gint64  time_us;       /* microseconds since the Unix epoch, UTC */
  char   *kind;
  char   *subject;
  char   *message;
} LtCatalogEvent;

void       lt_catalog_event_free         (LtCatalogEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtCatalogEvent, lt_catalog_event_free)

/* At most @limit events with an id below @before_id (0: the newest), newest first.
 * Result: GPtrArray of LtCatalogEvent. */
void       lt_catalog_list_events_async  (LtCatalog *self, gint64 before_id, guint limit,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *lt_catalog_list_events_finish (LtCatalog *self, GAsyncResult *result, GError **error);

G_END_DECLS

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
/* Convenience for startup paths and tests: runs the main loop of the thread-default
 * context until the open completes. */
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

G_END_DECLS

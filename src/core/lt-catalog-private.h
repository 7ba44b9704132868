/* lt-catalog-private.h: what the catalog's own files share — the job queue with a source
 * tag (for the typed calls in lt-catalog-config.c) and the schema migrations
 * (lt-catalog-schema.c). Not for other modules: they use lt-catalog.h. */
#pragma once

#include "lt-catalog.h"

G_BEGIN_DECLS

/* Queues @func like lt_catalog_run_async() with @source_tag on the task, so that typed
 * _finish functions can check their results. @data is freed with @data_free on the
 * caller's context once the task has completed. */
void      _lt_catalog_queue              (LtCatalog           *self,
                                          LtCatalogJobFunc     func,
                                          gpointer             data,
                                          GDestroyNotify       data_free,
                                          GDestroyNotify       result_free,
                                          gboolean             durable,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data,
                                          gpointer             source_tag);

/* The number of migrations, i.e. the newest schema version. */
int       _lt_catalog_schema_latest      (void);
/* Brings the open database @db to the newest schema, one migration per transaction.
 * Sets *@version to the resulting version. LT_CATALOG_ERROR_TOO_NEW when the file's
 * version is newer than this build knows (nothing is written then). */
gboolean  _lt_catalog_schema_migrate     (sqlite3             *db,
                                          int                 *version,
                                          GError             **error);

G_END_DECLS

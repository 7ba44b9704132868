/* lt-retention.h: retention (SPEC 5) — slice records older than a configurable age (default
 * 3 months) and index-file records (default 6 months) are dropped from the catalog; the
 * files in the local spool are deleted only when the operator's spool retention says so
 * (0 days, the default: never). The engine runs it at start and then every hour, with the
 * settings "slice-retention-days", "index-retention-days" and "spool-retention-days".
 */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

#define LT_RETENTION_DEFAULT_SLICE_DAYS  90
#define LT_RETENTION_DEFAULT_INDEX_DAYS  180

typedef struct
{
  gint64   now_us;
  guint    slice_days;    /* slice records ending before now − this are dropped; 0: never */
  guint    index_days;    /* index-file records created before now − this; 0: never */
  guint    spool_days;    /* local files of records ending before now − this; 0: never */
  const char *local_root; /* the local target's root: only files under it are deleted */
} LtRetentionPolicy;

typedef struct
{
  guint64  slices_dropped;
  guint64  index_files_dropped;
  guint64  files_deleted;
} LtRetentionResult;

/* One pass, in bounded batches so that recording is never held up. Never touches a slice
 * of an open session, nor a file still waiting for upload. */
void      lt_retention_run_async   (LtCatalog               *catalog,
                                    const LtRetentionPolicy *policy,
                                    GCancellable            *cancellable,
                                    GAsyncReadyCallback      callback,
                                    gpointer                 user_data);
gboolean  lt_retention_run_finish  (LtCatalog               *catalog,
                                    GAsyncResult            *result,
                                    LtRetentionResult       *out_result,
                                    GError                 **error);

G_END_DECLS

/* lt-export.h: export a time range of a stream's recording as one MP4 file — the TS slices
 * that overlap the range, remuxed (never re-encoded) into a single fragment-free MP4, with
 * progress. An extra the cloud lacks (issue 5).
 */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

#define LT_EXPORT_ERROR (lt_export_error_quark ())

typedef enum
{
  LT_EXPORT_ERROR_FAILED,
  LT_EXPORT_ERROR_NO_CONTENT,   /* no slice in the range */
  LT_EXPORT_ERROR_MISSING_FILE, /* a slice's file is gone from the local spool */
} LtExportError;

GQuark lt_export_error_quark (void);

#define LT_TYPE_EXPORT (lt_export_get_type ())
G_DECLARE_FINAL_TYPE (LtExport, lt_export, LT, EXPORT, GObject)

/* Exports the slices of (@domain, @app, @stream) overlapping [@start_us, @end_us) to
 * @destination (written as a hidden temporary file next to it, renamed when complete; an
 * existing file is replaced only then). */
LtExport *lt_export_new           (LtCatalog     *catalog,
                                   const char    *domain,
                                   const char    *app,
                                   const char    *stream,
                                   gint64         start_us,
                                   gint64         end_us,
                                   GFile         *destination);
/* "progress": 0.0 … 1.0, notified on the main context (at most ~10 times a second). */
double    lt_export_get_progress  (LtExport      *self);
/* "duration-us": the media time being exported, known once the slices are read. */
gint64    lt_export_get_duration  (LtExport      *self);
/* Runs once. Cancelling stops it and removes the temporary file (G_IO_ERROR_CANCELLED). */
void      lt_export_run_async     (LtExport      *self,
                                   GCancellable  *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer       user_data);
gboolean  lt_export_run_finish    (LtExport      *self,
                                   GAsyncResult  *result,
                                   GError       **error);

G_END_DECLS

/* lt-api-index.h: the index-file actions of the control API (SPEC section 5):
 * CreateLiveStreamRecordIndexFiles, DescribeLiveStreamRecordIndexFile and
 * DescribeLiveStreamRecordIndexFiles.
 */
#pragma once

#include "lt-api-server.h"
#include "lt-catalog.h"

G_BEGIN_DECLS

/* @local_storage_root: the local target's root (lt_storage_default_local_root()). */
void lt_api_index_register (LtApiServer *server,
                            LtCatalog   *catalog,
                            const char  *local_storage_root);

/* Parameter checks the timeline actions (lt-api-timeline.c) share; each returns FALSE
 * after returning the error to @request. */
/* DomainName, AppName and StreamName, all required. */
gboolean _lt_api_require_stream (LtApiRequest  *request,
                                 const char   **domain,
                                 const char   **app,
                                 const char   **stream);
/* StartTime and EndTime (Unix seconds), required, well-formed, EndTime the later. */
gboolean _lt_api_require_times  (LtApiRequest  *request,
                                 gint64        *start_time,
                                 gint64        *end_time);

G_END_DECLS

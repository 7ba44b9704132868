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

G_END_DECLS

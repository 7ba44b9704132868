/* lt-storage.h: the built-in local folder target (SPEC section 7), named "local", whose
 * buckets are sub-folders created when needed. The S3-compatible targets and the check of
 * a rule's OssEndpoint/OssBucket against every target are in lt-storage-targets.h; this
 * file's bucket check knows only the local target and refuses any other endpoint with
 * InvalidOssBucket.NotFound.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LT_STORAGE_LOCAL_TARGET "local"

/* The local target's root: DATA_DIR/storage when a data dir was given on the command line,
 * else the user's Videos folder under "Livetape". */
char     *lt_storage_default_local_root (const char  *data_dir);
/* Whether @endpoint names the built-in local folder target (case-insensitive). */
gboolean  lt_storage_is_local_endpoint  (const char  *endpoint);
/* Makes sure @bucket of the target named by @endpoint exists and is writable, creating a
 * local bucket folder when needed. Blocking file I/O: call it from a worker thread. Fails
 * with LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND and a message that says why. */
gboolean  lt_storage_prepare_bucket     (const char  *local_root,
                                         const char  *endpoint,
                                         const char  *bucket,
                                         GError     **error);

G_END_DECLS

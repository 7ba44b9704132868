/* lt-storage.h: storage targets (SPEC section 7).
 *
 * For now the one built-in target: the local folder named "local", whose buckets are
 * sub-folders created when needed. S3-compatible targets come with the sync engine; until
 * then a rule naming any other endpoint has no bucket to write to and is refused with
 * InvalidOssBucket.NotFound rather than accepted and silently never stored.
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

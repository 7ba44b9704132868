/* lt-sync-engine.h: the sync engine (SPEC section 7) — every recording safely in object
 * storage.
 *
 * The recorder writes everything into a local spool. For the built-in "local" target the
 * spool is the destination and nothing is uploaded. For an S3 target the files are written
 * to SPOOL/<target>/<bucket>/<object key> (lt_sync_engine_spool_root()) and every finished
 * slice, playlist (again whenever a live playlist changes: one pending row per object key,
 * re-pointed; finally with ENDLIST), recording file and index file is queued in the
 * catalog's upload_outbox, in the same transaction as its own catalog row where the caller
 * has one (_lt_sync_enqueue_in_transaction()).
 *
 * Uploads: bounded concurrency, an optional bandwidth cap, FIFO by id, a failing or paused
 * target does not hold up the others; a playlist waits until the slices queued before it on
 * its target are stored. Every PUT and part carries Content-MD5 and its ETag is checked (a
 * slice's MD5 comes from the recorder, which hashed it while writing it, so it is not read
 * twice; a stale one is dropped and the file hashed afresh);
 * files above the multipart threshold go multipart (parts ≥ 8 MiB, ≤ 10,000 parts), each
 * stored part recorded in upload_parts so that a restart resumes with ListParts without
 * sending them again. Transient errors back off (full jitter, capped at 20 s); a skewed
 * clock is corrected from the server's Date and retried at once; a refusal (access denied,
 * no such bucket, bad key) stops the target with a message ("target-failing") until the
 * operator retries; a missing local file fails that row with its reason.
 *
 * A spool file is removed only after its verified upload and the keep period
 * (spool-keep-days); the slice's or file's catalog row becomes 'uploaded'.
 *
 * Main context only. */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

#define LT_SYNC_ENGINE_ERROR (lt_sync_engine_error_quark ())

typedef enum
{
  LT_SYNC_ENGINE_ERROR_FAILED,
  LT_SYNC_ENGINE_ERROR_NOT_FOUND,       /* no such row / target */
  LT_SYNC_ENGINE_ERROR_UNSAFE_KEY,      /* an object key or bucket that could leave the spool */
  LT_SYNC_ENGINE_ERROR_MISSING_FILE,    /* the local file is gone */
  LT_SYNC_ENGINE_ERROR_INTEGRITY,       /* the stored object's ETag does not match the file */
} LtSyncEngineError;

GQuark lt_sync_engine_error_quark (void);

/* What an outbox row uploads (the catalog's kind column). */
typedef enum
{
  LT_SYNC_KIND_SLICE,
  LT_SYNC_KIND_PLAYLIST,
  LT_SYNC_KIND_FILE,
  LT_SYNC_KIND_INDEX,
} LtSyncKind;

/* "slice", "playlist", "file", "index". */
const char *lt_sync_kind_to_string (LtSyncKind kind);

/* Defaults (the gschema keys of the same meaning). */
#define LT_SYNC_DEFAULT_CONCURRENCY          4
#define LT_SYNC_DEFAULT_MULTIPART_THRESHOLD  (64 * 1024 * 1024)
#define LT_SYNC_MIN_PART_SIZE                (8 * 1024 * 1024)
#define LT_SYNC_MAX_PARTS                    10000
#define LT_SYNC_DEFAULT_KEEP_DAYS            7

/* ---- LtSyncFailure: one failed outbox row, for the console ------------------------- */

#define LT_TYPE_SYNC_FAILURE (lt_sync_failure_get_type ())
G_DECLARE_FINAL_TYPE (LtSyncFailure, lt_sync_failure, LT, SYNC_FAILURE, GObject)

gint64      lt_sync_failure_get_id         (LtSyncFailure *self);
const char *lt_sync_failure_get_target     (LtSyncFailure *self);
const char *lt_sync_failure_get_bucket     (LtSyncFailure *self);
const char *lt_sync_failure_get_object_key (LtSyncFailure *self);
LtSyncKind  lt_sync_failure_get_kind       (LtSyncFailure *self);
const char *lt_sync_failure_get_last_error (LtSyncFailure *self);
guint       lt_sync_failure_get_attempts   (LtSyncFailure *self);

/* ---- per-target figures ------------------------------------------------------------ */

typedef struct
{
  char    *target;
  guint    queue_length;      /* rows pending or uploading */
  guint    failures;          /* rows failed (see the failures model) */
  double   throughput;        /* bytes/s over the last few seconds */
  char    *current_key;       /* the object being sent (the oldest in flight), or NULL */
  guint64  current_sent;      /* its bytes sent so far */
  guint64  current_size;      /* its size */
  gboolean paused;
  gboolean failing;
  char    *last_error;        /* why the target is failing, or NULL */
} LtSyncTargetStatus;

void lt_sync_target_status_free (LtSyncTargetStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtSyncTargetStatus, lt_sync_target_status_free)

/* ---- LtSyncEngine ------------------------------------------------------------------ */

#define LT_TYPE_SYNC_ENGINE (lt_sync_engine_get_type ())
G_DECLARE_FINAL_TYPE (LtSyncEngine, lt_sync_engine, LT, SYNC_ENGINE, GObject)

/* @targets: an LtStorageTargets (typed as GObject so that this header does not need it);
 * may be NULL in tests, which then give each target a client with
 * lt_sync_engine_set_target_client(). @spool_folder: the spool's root. */
LtSyncEngine *lt_sync_engine_new                (LtCatalog    *catalog,
                                                 GObject      *targets,
                                                 const char   *spool_folder);
const char   *lt_sync_engine_get_spool_folder   (LtSyncEngine *self);
/* The LtStorageTargets given to lt_sync_engine_new() (transfer none), or NULL. */
GObject      *lt_sync_engine_get_targets        (LtSyncEngine *self);

/* Settings; each may change while running. */
void          lt_sync_engine_set_concurrency    (LtSyncEngine *self,
                                                 guint         n);
/* Bytes per second over all uploads; 0: no cap. */
void          lt_sync_engine_set_bandwidth_limit (LtSyncEngine *self,
                                                  guint64       bytes_per_s);
void          lt_sync_engine_set_multipart_threshold (LtSyncEngine *self,
                                                      guint64       bytes);
/* Days a verified spool copy is kept; 0: removed right after its verified upload. */
void          lt_sync_engine_set_keep_days      (LtSyncEngine *self,
                                                 guint         days);
/* For tests: scales every backoff delay (default 1.0); and the I/O timeout of the clients
 * the engine makes from the targets (ms, default 30000: each connect, read or write step;
 * a server that stops answering fails the attempt after it, which is then retried). */
void          lt_sync_engine_set_backoff_scale  (LtSyncEngine *self,
                                                 double        scale);
void          lt_sync_engine_set_request_timeout (LtSyncEngine *self,
                                                  guint         timeout_ms);
/* For tests and headless setups without the targets object: @client (an LtS3Client)
 * uploads to target @name, for the client's bucket. A client given here is used instead of
 * one made from the target's settings and keyring. */
void          lt_sync_engine_set_target_client  (LtSyncEngine *self,
                                                 const char   *name,
                                                 GObject      *client);

/* Resets rows left 'uploading' by a crash to 'pending', aborts multipart uploads no row
 * owns, and starts uploading. The catalog must be open. */
void          lt_sync_engine_start              (LtSyncEngine *self);
/* Stops: uploads in flight are cancelled, their rows go back to pending (their stored
 * parts are kept for the next start). Blocks until the rows are written. Idempotent. */
void          lt_sync_engine_shutdown           (LtSyncEngine *self);
/* Looks for new rows now (the engine also looks every second). */
void          lt_sync_engine_kick               (LtSyncEngine *self);

/* Where a recording of an S3 target is spooled: SPOOL/<target> (the recorder's storage
 * root; the bucket and object key follow). NULL with LT_SYNC_ENGINE_ERROR_UNSAFE_KEY when
 * @target is not a safe folder name. */
char         *lt_sync_engine_spool_root         (LtSyncEngine *self,
                                                 const char   *target,
                                                 GError      **error);
/* SPOOL/<target>/<bucket>/<object_key>, or NULL (UNSAFE_KEY) when any part could leave
 * the spool folder. */
char         *lt_sync_engine_spool_path         (LtSyncEngine *self,
                                                 const char   *target,
                                                 const char   *bucket,
                                                 const char   *object_key,
                                                 GError      **error);

/* Queues an upload (row id in @callback: lt_sync_engine_enqueue_finish). A playlist with a
 * pending row for the same target, bucket and key re-points that row instead. */
void          lt_sync_engine_enqueue_async      (LtSyncEngine *self,
                                                 const char   *target,
                                                 const char   *bucket,
                                                 const char   *object_key,
                                                 const char   *local_path,
                                                 LtSyncKind    kind,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer      user_data);
gint64        lt_sync_engine_enqueue_finish     (LtSyncEngine *self,
                                                 GAsyncResult *result,
                                                 GError      **error);

/* The targets with rows or state, sorted (a NULL-terminated array; g_strfreev). */
char        **lt_sync_engine_list_targets       (LtSyncEngine *self);
/* The figures of @target (never NULL; zeros for a target without rows). */
LtSyncTargetStatus *lt_sync_engine_get_target_status (LtSyncEngine *self,
                                                      const char   *target);
/* A GListModel of LtSyncFailure (transfer none), oldest first; kept up to date. */
GListModel   *lt_sync_engine_get_failures       (LtSyncEngine *self);

/* Puts the failed row @id back in the queue (and its target out of "failing"). */
void          lt_sync_engine_retry_async        (LtSyncEngine *self,
                                                 gint64        id,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer      user_data);
gboolean      lt_sync_engine_retry_finish       (LtSyncEngine *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
/* Every failed row of @target back in the queue, and the target out of "failing". */
void          lt_sync_engine_retry_all_async    (LtSyncEngine *self,
                                                 const char   *target,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer      user_data);
gboolean      lt_sync_engine_retry_all_finish   (LtSyncEngine *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
/* Pauses or resumes uploads to @target (with the targets object: stored there too). A
 * pause lets the uploads in flight finish. */
void          lt_sync_engine_pause              (LtSyncEngine *self,
                                                 const char   *target);
void          lt_sync_engine_resume             (LtSyncEngine *self,
                                                 const char   *target);

/* Signals:
 *   "changed" ()                       — figures or failures changed (at most ~4 per second)
 *   "target-failing" (const char *target, const char *message)
 *                                      — a target stopped with an error the operator must fix
 *   "row-done" (gint64 id, const char *target, const char *object_key)
 *                                      — an upload was verified (for tests and the log) */

/* The name of the S3 target a rule's OssEndpoint names (transfer full), or NULL when it
 * names the local target or none. */
char         *lt_sync_engine_resolve_target     (LtSyncEngine *self,
                                                 const char   *endpoint);

/* Where objects of @bucket on S3 target @target are read from: "http(s)://host[:port]/
 * bucket/" (path style) or "http(s)://bucket.host[:port]/"; append the URI-encoded key.
 * NULL when @target is not an S3 target. */
char         *lt_sync_engine_dup_bucket_url     (LtSyncEngine *self,
                                                 const char   *target,
                                                 const char   *bucket);

/* ---- hooks into other modules ------------------------------------------------------ */

/* The hooks that send other modules' files here are declared with them:
 * _lt_recording_manager_set_sync_engine() (lt-recording-manager.h) and
 * _lt_index_files_set_sync_engine() (lt-index-files.h). */

/* Worker thread only, for the catalog jobs of other modules: */

/* Inserts an upload row inside the caller's transaction on @db (or re-points the pending
 * row of a playlist with the same key). @depends_on: the newest slice row a playlist names
 * (the playlist waits until every slice row of its target up to that one is stored), -1
 * for every row queued before it, or 0. @source_id: the slices row (kind slice) or
 * recording_files row (playlist, file) that becomes 'uploaded' with it, or 0.
 * @content_md5: what the writer hashed of the file's @size bytes, or NULL: 32 hex digits
 * (a TS slice), or a recording file's block MD5s ("BLOCK:MD5,…", "-" for unknown blocks),
 * used when its multipart parts are that size. While the file still has @size bytes its
 * upload sends those MD5s instead of hashing first; a server that refuses one (BadDigest)
 * or an ETag that differs drops them, and the file is hashed afresh. Returns the row id,
 * 0 on error (@error set). */
gint64        _lt_sync_enqueue_in_transaction   (sqlite3      *db,
                                                 const char   *target,
                                                 const char   *bucket,
                                                 const char   *object_key,
                                                 const char   *local_path,
                                                 LtSyncKind    kind,
                                                 gint64        size,
                                                 const char   *content_md5,
                                                 gint64        depends_on,
                                                 gint64        source_id,
                                                 GError      **error);

G_END_DECLS

/* lt-storage-targets.h: the storage targets (SPEC section 7) — the built-in local folder
 * target "local" and the S3-compatible targets the operator adds — kept in the catalog's
 * storage_targets table, each S3 target's secret key in the keyring
 * (LT_SECRET_KIND_STORAGE_TARGET, id = the target's name). A rule's OssEndpoint resolves to
 * a target by its name or its endpoint's host[:port] (lt_storage_targets_resolve).
 *
 * LtStorageTargets is a GListModel of LtStorageTarget, "local" first, then sorted by name.
 * The sync engine reads the targets and sets their run-time state (state, last-error);
 * the console and `livetape --add-storage-target` change them only through this object.
 * Main context only. */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"
#include "lt-enum-types.h"
#include "lt-secret-store.h"

G_BEGIN_DECLS

#define LT_STORAGE_TARGETS_ERROR (lt_storage_targets_error_quark ())

typedef enum
{
  LT_STORAGE_TARGETS_ERROR_FAILED,
  LT_STORAGE_TARGETS_ERROR_INVALID_NAME,
  LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT,
  LT_STORAGE_TARGETS_ERROR_INVALID_REGION,
  LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET,
  LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID,
  LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,      /* missing, or with control characters */
  LT_STORAGE_TARGETS_ERROR_EXISTS,              /* a target has this name (any case) */
  LT_STORAGE_TARGETS_ERROR_NOT_FOUND,
  LT_STORAGE_TARGETS_ERROR_BUILT_IN,            /* "local" cannot be changed or removed */
  LT_STORAGE_TARGETS_ERROR_KEYRING,             /* the secret key could not be stored or
                                                 * read: the message says why */
  LT_STORAGE_TARGETS_ERROR_BUCKET_NOT_FOUND,    /* test connection: no such bucket */
  LT_STORAGE_TARGETS_ERROR_NOT_WRITABLE,        /* test connection: the bucket refuses writes */
  LT_STORAGE_TARGETS_ERROR_ACCESS_DENIED,       /* test connection: wrong key or no permission */
  LT_STORAGE_TARGETS_ERROR_UNREACHABLE,         /* test connection: no answer (network, TLS,
                                                 * timeout) */
} LtStorageTargetsError;

GQuark lt_storage_targets_error_quark (void);

typedef enum
{
  LT_STORAGE_TARGET_KIND_LOCAL,
  LT_STORAGE_TARGET_KIND_S3,
} LtStorageTargetKind;

/* Run-time state, set by the sync engine (never stored): UNKNOWN until it has tried. */
typedef enum
{
  LT_STORAGE_TARGET_STATE_UNKNOWN,
  LT_STORAGE_TARGET_STATE_OK,
  LT_STORAGE_TARGET_STATE_FAILING,
  LT_STORAGE_TARGET_STATE_PAUSED,
} LtStorageTargetState;

/* Limits the validation enforces. */
#define LT_STORAGE_TARGET_NAME_MAX      63
#define LT_STORAGE_TARGET_SECRET_MAX    1024

/* ---- LtStorageTarget ------------------------------------------------------------------ */

#define LT_TYPE_STORAGE_TARGET (lt_storage_target_get_type ())
G_DECLARE_FINAL_TYPE (LtStorageTarget, lt_storage_target, LT, STORAGE_TARGET, GObject)

/* A detached S3 target, for lt_storage_targets_add_async()/_update_async(). Not validated
 * here (see lt_storage_target_check). @region NULL or "": "us-east-1"; @bucket NULL: none
 * (rules name theirs); @access_key_id NULL or "": anonymous requests. */
LtStorageTarget     *lt_storage_target_new_s3          (const char      *name,
                                                        const char      *endpoint,
                                                        const char      *region,
                                                        const char      *bucket,
                                                        gboolean         path_style,
                                                        const char      *access_key_id);
/* Checks every field; the first problem is an LT_STORAGE_TARGETS_ERROR with a message for
 * the operator. */
gboolean             lt_storage_target_check           (LtStorageTarget *self,
                                                        GError         **error);

/* Whether @name can name a new S3 target: [a-z0-9-], 1–63 bytes, starting with a letter
 * or digit, not "local" (BUILT_IN). */
gboolean             lt_storage_target_check_name      (const char      *name,
                                                        GError         **error);

/* Lower case, [a-z0-9-], 1–63 bytes, starting with a letter or digit. */
const char          *lt_storage_target_get_name        (LtStorageTarget *self);
LtStorageTargetKind  lt_storage_target_get_kind        (LtStorageTarget *self);
/* S3: "http(s)://host[:port]" (no path, no trailing slash); local: NULL. */
const char          *lt_storage_target_get_endpoint    (LtStorageTarget *self);
/* S3: the endpoint's host (IPv6 without brackets) and port (the scheme's default when the
 * URL names none); local: NULL and 0. */
const char          *lt_storage_target_get_host        (LtStorageTarget *self);
guint                lt_storage_target_get_port        (LtStorageTarget *self);
const char          *lt_storage_target_get_region      (LtStorageTarget *self);
/* The default bucket, or NULL. */
const char          *lt_storage_target_get_bucket      (LtStorageTarget *self);
gboolean             lt_storage_target_get_path_style  (LtStorageTarget *self);
/* Whether the endpoint is https. */
gboolean             lt_storage_target_get_use_tls     (LtStorageTarget *self);
/* NULL for anonymous requests (and for "local"). */
const char          *lt_storage_target_get_access_key_id (LtStorageTarget *self);
/* Local: the folder the buckets are in; S3: NULL. */
const char          *lt_storage_target_get_local_root  (LtStorageTarget *self);
gboolean             lt_storage_target_get_paused      (LtStorageTarget *self);
LtStorageTargetState lt_storage_target_get_state       (LtStorageTarget *self);
/* Why the target is failing (for the console), or NULL. */
const char          *lt_storage_target_get_last_error  (LtStorageTarget *self);
/* S3: the URL prefix of @bucket's objects, ending in "/" (path-style
 * "endpoint/bucket/", virtual-hosted "scheme://bucket.host/"); local: NULL. Reads only
 * what a target is created with, so any thread may call it while holding a reference. */
char                *lt_storage_target_dup_bucket_url  (LtStorageTarget *self,
                                                        const char      *bucket);
/* For the sync engine: its view of the target; notifies "state" and "last-error". */
void                 lt_storage_target_set_state       (LtStorageTarget      *self,
                                                        LtStorageTargetState  state,
                                                        const char           *last_error);

/* ---- LtStorageTargets ----------------------------------------------------------------- */

#define LT_TYPE_STORAGE_TARGETS (lt_storage_targets_get_type ())
G_DECLARE_FINAL_TYPE (LtStorageTargets, lt_storage_targets, LT, STORAGE_TARGETS, GObject)

/* @local_root: the folder of the built-in "local" target (lt_storage_default_local_root). */
LtStorageTargets *lt_storage_targets_new            (LtCatalog        *catalog,
                                                     LtSecretStore    *secrets,
                                                     const char       *local_root);
LtSecretStore    *lt_storage_targets_get_secret_store (LtStorageTargets *self);
/* Loads the S3 targets from the catalog ("local" is always there, also before). */
void              lt_storage_targets_load_async     (LtStorageTargets *self,
                                                     GCancellable     *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer          user_data);
gboolean          lt_storage_targets_load_finish    (LtStorageTargets *self,
                                                     GAsyncResult     *result,
                                                     GError          **error);

/* The target named @name (case-insensitive), or NULL (transfer none). */
LtStorageTarget  *lt_storage_targets_lookup         (LtStorageTargets *self,
                                                     const char       *name);
/* The target a rule's OssEndpoint means (transfer none): NULL or "" or "local" → the local
 * target; else the target with that name (case-insensitive), else the first (by name)
 * whose endpoint host[:port] equals @endpoint (case-insensitive; a port equal to the
 * scheme's default may be given or left out; IPv6 in brackets). NULL when none. */
LtStorageTarget  *lt_storage_targets_resolve        (LtStorageTargets *self,
                                                     const char       *endpoint);

/* Adds the S3 target @target (not kept; its name is folded to lower case). @secret_key:
 * the secret access key, required (non-empty) when the target has an access key id and
 * refused without one. The key goes to the keyring first, then the row to the catalog (a
 * row never exists without its key; a failed row clears the key again). Errors:
 * INVALID_* (validation), EXISTS, KEYRING, FAILED. */
void              lt_storage_targets_add_async      (LtStorageTargets *self,
                                                     LtStorageTarget  *target,
                                                     const char       *secret_key,
                                                     GCancellable     *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer          user_data);
gboolean          lt_storage_targets_add_finish     (LtStorageTargets *self,
                                                     GAsyncResult     *result,
                                                     GError          **error);
/* Changes the settings of the target named like @target (the object in the list is kept
 * and notifies). @secret_key NULL keeps the stored key; a non-empty one replaces it; ""
 * clears it (only without an access key id). NOT_FOUND, BUILT_IN for "local". */
void              lt_storage_targets_update_async   (LtStorageTargets *self,
                                                     LtStorageTarget  *target,
                                                     const char       *secret_key,
                                                     GCancellable     *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer          user_data);
gboolean          lt_storage_targets_update_finish  (LtStorageTargets *self,
                                                     GAsyncResult     *result,
                                                     GError          **error);
/* Removes the target named @name and clears its key (a key the keyring cannot clear is
 * a logged problem: the target is gone either way). NOT_FOUND, BUILT_IN for "local". */
void              lt_storage_targets_remove_async   (LtStorageTargets *self,
                                                     const char       *name,
                                                     GCancellable     *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer          user_data);
gboolean          lt_storage_targets_remove_finish  (LtStorageTargets *self,
                                                     GAsyncResult     *result,
                                                     GError          **error);
/* Pauses or resumes uploads to the target named @name (stored; "paused" notifies).
 * NOT_FOUND, BUILT_IN for "local". */
void              lt_storage_targets_set_paused_async  (LtStorageTargets *self,
                                                        const char       *name,
                                                        gboolean          paused,
                                                        GCancellable     *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer          user_data);
gboolean          lt_storage_targets_set_paused_finish (LtStorageTargets *self,
                                                        GAsyncResult     *result,
                                                        GError          **error);

/* The secret access key of @target (transfer full; wipe it after use). "" for a target
 * without an access key id (anonymous) and for "local". KEYRING with the keyring's reason
 * when it cannot be read (missing, locked, timed out), NOT_FOUND when the keyring has no
 * key for it. */
void              lt_storage_targets_lookup_secret_async  (LtStorageTargets *self,
                                                           LtStorageTarget  *target,
                                                           GCancellable     *cancellable,
                                                           GAsyncReadyCallback callback,
                                                           gpointer          user_data);
char             *lt_storage_targets_lookup_secret_finish (LtStorageTargets *self,
                                                           GAsyncResult     *result,
                                                           GError          **error);

/* Checks that @bucket (NULL: the target's default bucket) of @target exists and can be
 * written: for "local" the bucket folder is created when needed and a file written and
 * removed in it; for S3 the bucket is asked for (HEAD) and a small object written and
 * deleted, with the key from the keyring. @timeout_ms bounds the whole check (0: 15 s).
 * Errors: BUCKET_NOT_FOUND, NOT_WRITABLE, ACCESS_DENIED, UNREACHABLE, KEYRING,
 * INVALID_BUCKET (no bucket given and no default). */
void              lt_storage_targets_test_connection_async  (LtStorageTargets *self,
                                                             LtStorageTarget  *target,
                                                             const char       *bucket,
                                                             guint             timeout_ms,
                                                             GCancellable     *cancellable,
                                                             GAsyncReadyCallback callback,
                                                             gpointer          user_data);
gboolean          lt_storage_targets_test_connection_finish (LtStorageTargets *self,
                                                             GAsyncResult     *result,
                                                             GError          **error);

/* For the rule store: whether a rule's OssEndpoint @endpoint resolves to a target whose
 * @bucket exists and can be written — the local target's bucket folder is made when
 * needed (lt_storage_prepare_bucket); an S3 target gets a test connection bounded by
 * @timeout_ms. Fails with LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND (no such target, no
 * such bucket, and also an unreachable target, denied access or a locked keyring: the
 * rule is refused rather than stored unverified; the message says which) or
 * LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED. */
void              lt_storage_targets_check_rule_bucket_async  (LtStorageTargets *self,
                                                               const char       *endpoint,
                                                               const char       *bucket,
                                                               guint             timeout_ms,
                                                               GCancellable     *cancellable,
                                                               GAsyncReadyCallback callback,
                                                               gpointer          user_data);
gboolean          lt_storage_targets_check_rule_bucket_finish (LtStorageTargets *self,
                                                               GAsyncResult     *result,
                                                               GError          **error);

/* Signal "changed" (const char *name): a target was added, changed or removed. */

G_END_DECLS

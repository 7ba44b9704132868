/* lt-engine.h: the one object that owns Livetape's core services — the catalog, the rule
 * store, the secret store, the control API, the ingest (stream registry, RTMP ingest
 * server, demo source, pull sources), the recording manager and the callbacks (notify
 * store, callback queue) — shared by the console and the headless daemon. The sync engine
 * (issue 6) joins them here. */
#pragma once

#include <gio/gio.h>

#include "lt-api-server.h"
#include "lt-catalog.h"
#include "lt-demo-source.h"
#include "lt-ingest-server.h"
#include "lt-pull-source.h"
#include "lt-recording-manager.h"
#include "lt-rule-store.h"
#include "lt-stream-registry.h"
#include "lt-secret-store.h"
#include "lt-storage-targets.h"
#include "lt-sync-engine.h"

G_BEGIN_DECLS

/* Added: the engine's own errors. */
#define LT_ENGINE_ERROR (lt_engine_error_quark ())

typedef enum
{
  LT_ENGINE_ERROR_FAILED,
  LT_ENGINE_ERROR_INVALID_LISTEN,   /* not "HOST:PORT" / "[IPv6]:PORT" */
  LT_ENGINE_ERROR_NOT_STARTED,      /* the catalog is not open yet (or was shut down) */
  LT_ENGINE_ERROR_SOURCE_EXISTS,    /* a pull source or the demo has this identity */
} LtEngineError;

GQuark lt_engine_error_quark (void);

#define LT_TYPE_ENGINE (lt_engine_get_type ())
G_DECLARE_FINAL_TYPE (LtEngine, lt_engine, LT, ENGINE, GObject)

/* @data_dir: where the catalog, spool and settings live; NULL for the XDG defaults
 * ($XDG_DATA_HOME/livetape). */
LtEngine      *lt_engine_new                (const char   *data_dir);
const char    *lt_engine_get_data_dir       (LtEngine     *self);
/* The root of the built-in "local" storage target (see lt-storage.h). */
const char    *lt_engine_get_local_storage_root (LtEngine *self);
/* "HOST:PORT" for the control API (default LT_API_DEFAULT_LISTEN); NULL disables it. */
void           lt_engine_set_api_listen     (LtEngine     *self,
                                             const char   *listen);
const char    *lt_engine_get_api_listen     (LtEngine     *self);

/* Opens the catalog, loads the rules, registers the API actions and listens. */
void           lt_engine_start_async        (LtEngine     *self,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer      user_data);
gboolean       lt_engine_start_finish       (LtEngine     *self,
                                             GAsyncResult *result,
                                             GError      **error);
/* Stops the API, finishes catalog jobs and closes it. Idempotent. */
void           lt_engine_shutdown           (LtEngine     *self);

LtCatalog     *lt_engine_get_catalog        (LtEngine     *self);
LtRuleStore   *lt_engine_get_rule_store     (LtEngine     *self);
LtSecretStore *lt_engine_get_secret_store   (LtEngine     *self);
LtApiServer   *lt_engine_get_api_server     (LtEngine     *self);

/* Creates an API access key: the id goes to the catalog, the secret to the keyring. */
void           lt_engine_create_access_key_async  (LtEngine     *self,
                                                   const char   *description,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer      user_data);
gboolean       lt_engine_create_access_key_finish (LtEngine     *self,
                                                   GAsyncResult *result,
                                                   char        **access_key_id,
                                                   char        **access_key_secret,
                                                   GError      **error);

/* Added. Checks the syntax of a control API address: "HOST:PORT" or "[IPv6]:PORT", HOST an
 * IP address or "localhost" (what the API server can bind), PORT 0–65535 (0 picks a free
 * port). */
gboolean       lt_engine_check_api_listen   (const char   *listen,
                                             GError      **error);
/* "http://HOST:PORT/" with the port actually listened on, or NULL when the API is not
 * listening. */
char          *lt_engine_dup_api_url        (LtEngine     *self);
/* After a successful start: why the control API could not listen (e.g. the address is in
 * use), or NULL when it listens or is disabled. The engine runs either way. */
const GError  *lt_engine_get_api_error      (LtEngine     *self);
/* The "io.github.livetape.Livetape" settings (a keyfile in the data dir when one was given),
 * or NULL when the schema is not installed; then built-in defaults apply. */
GSettings     *lt_engine_get_settings       (LtEngine     *self);

/* Added (ingest wiring, issue 3). ---------------------------------------------------- */

/* Whether start brings up the ingest (nginx, the demo and the pull sources); default TRUE.
 * Set before start. Tests that need no streams turn it off. */
void           lt_engine_set_ingest_enabled (LtEngine     *self,
                                             gboolean      enabled);
gboolean       lt_engine_get_ingest_enabled (LtEngine     *self);
/* A command-line run against a data directory a daemon may be using right now (access
 * keys, signing keys, storage targets): start opens the catalog and loads the stores and
 * nothing else — no recovery of the recordings, no callback or upload queues, no retention,
 * no control API, no ingest — so that the daemon's recordings and queues are left alone.
 * Default FALSE. Set before start. */
void           lt_engine_set_command_mode   (LtEngine     *self,
                                             gboolean      command_mode);
/* The RTMP ingest port, 1–65535; 0 (default) takes the "ingest-port" setting (1935). Set
 * before start. */
void           lt_engine_set_ingest_port    (LtEngine     *self,
                                             guint         port);
/* The streams online now (push, pull, demo). Always there, empty while the ingest is off. */
LtStreamRegistry *lt_engine_get_stream_registry (LtEngine *self);
/* The RTMP ingest server, from a successful start on (NULL before, or with the ingest
 * off). It fails on its own (nginx missing, port in use: see its state and last-error);
 * the engine runs either way. */
LtIngestServer *lt_engine_get_ingest_server (LtEngine     *self);
/* The demo source, from a successful start on (NULL before or with the ingest off). */
LtDemoSource  *lt_engine_get_demo_source    (LtEngine     *self);
/* The pull sources kept in the catalog: a GListModel of LtPullSource (empty before start). */
GListModel    *lt_engine_get_pull_sources   (LtEngine     *self);

/* Whether the demo stream is on (the "demo-enabled" property). The first start records
 * the demo source in the catalog, enabled, so that a new install has a stream at once;
 * turning it off is remembered there. */
gboolean       lt_engine_get_demo_enabled   (LtEngine     *self);
void           lt_engine_set_demo_enabled_async  (LtEngine     *self,
                                                  gboolean      enabled,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer      user_data);
gboolean       lt_engine_set_demo_enabled_finish (LtEngine     *self,
                                                  GAsyncResult *result,
                                                  GError      **error);

/* Added (recording, issue 3). ---------------------------------------------------------- */

/* The recording manager (always there; it follows the streams from a successful start on). */
LtRecordingManager *lt_engine_get_recording_manager (LtEngine *self);

/* Pull sources (see lt-engine-sources.c). Each is a row of the catalog's ingest_sources
 * and an LtPullSource in lt_engine_get_pull_sources(). @domain NULL or "" takes the host
 * of @uri (or the default domain). Errors: LT_PULL_SOURCE_ERROR_* for a bad URI or name,
 * LT_ENGINE_ERROR_SOURCE_EXISTS when the identity is taken (another source, the demo). */
void          lt_engine_add_pull_source_async     (LtEngine     *self,
                                                   const char   *uri,
                                                   const char   *domain,
                                                   const char   *app,
                                                   const char   *stream,
                                                   gboolean      enabled,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer      user_data);
/* Transfer full: the new source, already in the list. */
LtPullSource *lt_engine_add_pull_source_finish    (LtEngine     *self,
                                                   GAsyncResult *result,
                                                   GError      **error);
/* Replaces @source's settings: a new LtPullSource takes its place in the list (the old
 * one is disabled). */
void          lt_engine_update_pull_source_async  (LtEngine     *self,
                                                   LtPullSource *source,
                                                   const char   *uri,
                                                   const char   *domain,
                                                   const char   *app,
                                                   const char   *stream,
                                                   gboolean      enabled,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer      user_data);
LtPullSource *lt_engine_update_pull_source_finish (LtEngine     *self,
                                                   GAsyncResult *result,
                                                   GError      **error);
/* Turns @source on or off and remembers it in the catalog. */
void          lt_engine_set_pull_source_enabled_async  (LtEngine     *self,
                                                        LtPullSource *source,
                                                        gboolean      enabled,
                                                        GCancellable *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer      user_data);
gboolean      lt_engine_set_pull_source_enabled_finish (LtEngine     *self,
                                                        GAsyncResult *result,
                                                        GError      **error);
void          lt_engine_remove_pull_source_async  (LtEngine     *self,
                                                   LtPullSource *source,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer      user_data);
gboolean      lt_engine_remove_pull_source_finish (LtEngine     *self,
                                                   GAsyncResult *result,
                                                   GError      **error);

/* Added (callbacks, issue 4). -------------------------------------------------------- */

/* The callback settings per domain and their signing keys (always there). */
LtNotifyStore   *lt_engine_get_notify_store   (LtEngine *self);
/* The persistent callback outbox (always there; delivering from a successful start on). */
LtCallbackQueue *lt_engine_get_callback_queue (LtEngine *self);

/* Added (storage targets, issue 6). ------------------------------------------------- */

/* The storage targets: "local" and the S3 targets kept in the catalog (loaded at start,
 * before the rules; always there). A rule's OssEndpoint/OssBucket is checked against them
 * when it is added or replaced. */
LtStorageTargets *lt_engine_get_storage_targets (LtEngine *self);

/* Added (sync engine, issue 6). */

/* The sync engine: uploads to the S3 targets from the catalog's upload queue (always
 * there; uploading from a successful start on, after recovery). */
LtSyncEngine     *lt_engine_get_sync_engine     (LtEngine *self);

G_END_DECLS

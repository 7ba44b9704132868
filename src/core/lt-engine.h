/* lt-engine.h: the one object that owns Livetape's core services — the catalog, the rule
 * store, the secret store and the control API — shared by the console and the headless
 * daemon. Later issues add the ingest, the recorder, callbacks and sync here. */
#pragma once

#include <gio/gio.h>

#include "lt-api-server.h"
#include "lt-catalog.h"
#include "lt-rule-store.h"
#include "lt-secret-store.h"

G_BEGIN_DECLS

/* Added: the engine's own errors. */
#define LT_ENGINE_ERROR (lt_engine_error_quark ())

typedef enum
{
  LT_ENGINE_ERROR_FAILED,
  LT_ENGINE_ERROR_INVALID_LISTEN,   /* not "HOST:PORT" / "[IPv6]:PORT" */
  LT_ENGINE_ERROR_NOT_STARTED,      /* the catalog is not open yet (or was shut down) */
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

G_END_DECLS

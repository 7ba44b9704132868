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

#define LT_TYPE_ENGINE (lt_engine_get_type ())
G_DECLARE_FINAL_TYPE (LtEngine, lt_engine, LT, ENGINE, GObject)

/* @data_dir: where the catalog, spool and settings live; NULL for the XDG defaults
 * ($XDG_DATA_HOME/livetape). */
LtEngine      *lt_engine_new                (const char   *data_dir);
const char    *lt_engine_get_data_dir       (LtEngine     *self);
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

G_END_DECLS

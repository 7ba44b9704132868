/* lt-engine-private.h: the engine's instance struct, shared by the files that implement
 * LtEngine (lt-engine.c, lt-engine-sources.c). Nothing outside them includes it. */
#pragma once

#include "lt-engine.h"

G_BEGIN_DECLS

struct _LtEngine
{
  GObject        parent_instance;

  char          *data_dir;
  gboolean       data_dir_given;
  GError        *data_dir_error;

  char          *api_listen;
  gboolean       api_listen_set;

  GSettings     *settings;
  LtCatalog     *catalog;
  LtRuleStore   *rule_store;
  LtSecretStore *secret_store;
  LtApiServer   *api_server;
  char          *local_storage_root;
  GError        *api_error;      /* why the control API does not listen, or NULL */

  gboolean        ingest_enabled;
  gboolean        command_mode;  /* only the catalog and the stores (lt_engine_set_command_mode) */
  guint           ingest_port;   /* as set; 0: the setting */
  LtStreamRegistry *registry;
  LtIngestServer *ingest_server;
  LtDemoSource   *demo_source;
  GListStore     *pull_sources;
  gboolean        demo_enabled;
  char           *default_domain;  /* for pull sources without one; set by start_ingest */
  LtRecordingManager *recording;
  LtNotifyStore      *notify;
  LtCallbackQueue    *callbacks;
  LtStorageTargets   *storage_targets;   /* storage targets (issue 6) */
  LtSyncEngine       *sync;              /* the sync engine (issue 6) */

  /* Retention (lt-retention.c): the hourly pass, one at a time; the source is removed
   * and the pass cancelled at shutdown. */
  guint           retention_source;
  GCancellable   *retention_cancellable;

  guint          starting : 1;
  guint          started : 1;
  guint          catalog_opening : 1;
  guint          shut_down : 1;
};

G_END_DECLS

/* lt-notify-store.h: the callback settings per domain (SPEC section 4) — NotifyUrl,
 * NeedStatusNotify, OnDemandUrl — kept in the catalog's notify_configs table, and each
 * domain's signing key, kept in the keyring (LT_SECRET_KIND_NOTIFY_SIGNING), made when the
 * domain's settings are added and removed with them. The API actions
 * Add/Update/Delete/DescribeLiveRecordNotifyConfig (lt-api-notify.c) and the console
 * change them only through this object. A GListModel of LtNotifyConfig (boxed in
 * LtNotifyConfigObject items), sorted by domain. Main context only. */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"
#include "lt-secret-store.h"

G_BEGIN_DECLS

#define LT_NOTIFY_ERROR (lt_notify_error_quark ())

typedef enum
{
  LT_NOTIFY_ERROR_FAILED,
  LT_NOTIFY_ERROR_MISSING_PARAMETER,        /* MissingParameter (DomainName, NotifyUrl) */
  LT_NOTIFY_ERROR_INVALID_DOMAIN,           /* InvalidDomainName.Malformed */
  LT_NOTIFY_ERROR_INVALID_NOTIFY_URL,       /* InvalidNotifyUrl.Malformed */
  LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL,    /* InvalidOnDemandUrl.Malformed */
  LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS,    /* ConfigAlreadyExists, 400 */
  LT_NOTIFY_ERROR_CONFIG_NOT_FOUND,         /* InvalidConfig.NotFound, 404 */
  LT_NOTIFY_ERROR_KEYRING,                  /* the signing key could not be kept: the
                                             * message says why; nothing was stored */
} LtNotifyError;

GQuark       lt_notify_error_quark       (void);
const char  *lt_notify_error_code_name   (LtNotifyError code);
guint        lt_notify_error_http_status (LtNotifyError code);

typedef struct
{
  char     *domain;
  char     *notify_url;           /* NULL: no file/status callbacks */
  gboolean  need_status_notify;
  char     *on_demand_url;        /* NULL: OnDemand 1 rules do not record */
  gint64    create_time;          /* Unix seconds */
  gint64    update_time;
} LtNotifyConfig;

#define LT_TYPE_NOTIFY_CONFIG (lt_notify_config_get_type ())
GType           lt_notify_config_get_type (void) G_GNUC_CONST;
LtNotifyConfig *lt_notify_config_copy     (const LtNotifyConfig *config);
void            lt_notify_config_free     (LtNotifyConfig       *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtNotifyConfig, lt_notify_config_free)
/* Validates (URLs with lt_outbound_check_url, the domain like a rule's DomainName). */
gboolean        lt_notify_config_check    (const LtNotifyConfig *config,
                                           GError              **error);

#define LT_TYPE_NOTIFY_STORE (lt_notify_store_get_type ())
G_DECLARE_FINAL_TYPE (LtNotifyStore, lt_notify_store, LT, NOTIFY_STORE, GObject)

LtNotifyStore *lt_notify_store_new          (LtCatalog      *catalog,
                                             LtSecretStore  *secrets);
/* Loads the settings and the signing keys (a key the keyring cannot give is a logged
 * problem, not a failure: those callbacks go out unsigned until it can). */
void           lt_notify_store_load_async   (LtNotifyStore  *self,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean       lt_notify_store_load_finish  (LtNotifyStore  *self,
                                             GAsyncResult   *result,
                                             GError        **error);
/* The settings of @domain (case-insensitive), or NULL (transfer none). */
const LtNotifyConfig *lt_notify_store_lookup (LtNotifyStore *self,
                                              const char    *domain);
/* The signing key of @domain (transfer full), or NULL. */
char          *lt_notify_store_dup_signing_key (LtNotifyStore *self,
                                                const char    *domain);
void           lt_notify_store_add_async    (LtNotifyStore        *self,
                                             const LtNotifyConfig *config,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean       lt_notify_store_add_finish   (LtNotifyStore  *self,
                                             GAsyncResult   *result,
                                             GError        **error);
/* Replaces the settings of config->domain; CONFIG_NOT_FOUND when there are none. */
void           lt_notify_store_update_async (LtNotifyStore        *self,
                                             const LtNotifyConfig *config,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean       lt_notify_store_update_finish (LtNotifyStore *self,
                                              GAsyncResult  *result,
                                              GError       **error);
void           lt_notify_store_remove_async (LtNotifyStore  *self,
                                             const char     *domain,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean       lt_notify_store_remove_finish (LtNotifyStore *self,
                                              GAsyncResult  *result,
                                              GError       **error);
/* Signal "changed" (const char *domain): a domain's settings were added, updated or
 * removed. The object is a GListModel of LtNotifyConfigObject (below), sorted by domain. */

#define LT_TYPE_NOTIFY_CONFIG_OBJECT (lt_notify_config_object_get_type ())
G_DECLARE_FINAL_TYPE (LtNotifyConfigObject, lt_notify_config_object, LT, NOTIFY_CONFIG_OBJECT,
                      GObject)
const LtNotifyConfig *lt_notify_config_object_get_config (LtNotifyConfigObject *self);

G_END_DECLS

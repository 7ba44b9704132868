/* lt-secret-store.h: secrets (API access key secrets now; storage-target keys and callback
 * signing keys later) in the Secret Service keyring through libsecret. Nothing secret is
 * ever written to a file, the catalog or a log. Every call is asynchronous with a timeout:
 * a missing or locked keyring is a clear LT_SECRET_STORE_ERROR, never a hang. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LT_SECRET_STORE_ERROR (lt_secret_store_error_quark ())

typedef enum
{
  LT_SECRET_STORE_ERROR_FAILED,
  LT_SECRET_STORE_ERROR_UNAVAILABLE,  /* no Secret Service on the bus, or it timed out */
  LT_SECRET_STORE_ERROR_LOCKED,       /* the collection is locked and could not be unlocked */
  LT_SECRET_STORE_ERROR_NOT_FOUND,
} LtSecretStoreError;

GQuark lt_secret_store_error_quark (void);

/* What a secret is for; part of the libsecret schema attributes. */
#define LT_SECRET_KIND_API_KEY         "api-key"
#define LT_SECRET_KIND_STORAGE_TARGET  "storage-target"
#define LT_SECRET_KIND_NOTIFY_SIGNING  "notify-signing"

#define LT_TYPE_SECRET_STORE (lt_secret_store_get_type ())
G_DECLARE_FINAL_TYPE (LtSecretStore, lt_secret_store, LT, SECRET_STORE, GObject)

/* @instance scopes the secrets to one data directory (e.g. its catalog path), so two
 * Livetape instances on one keyring never see each other's secrets. */
LtSecretStore *lt_secret_store_new          (const char     *instance);
void           lt_secret_store_set_timeout  (LtSecretStore  *self,
                                             guint           timeout_ms);
/* Added: the instance the secrets are scoped to, and the per-call timeout (default 10 s;
 * must be > 0). */
const char    *lt_secret_store_get_instance (LtSecretStore  *self);
guint          lt_secret_store_get_timeout  (LtSecretStore  *self);

void           lt_secret_store_store_async  (LtSecretStore  *self,
                                             const char     *kind,
                                             const char     *id,
                                             const char     *label,
                                             const char     *secret,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean       lt_secret_store_store_finish (LtSecretStore  *self,
                                             GAsyncResult   *result,
                                             GError        **error);
/* NOT_FOUND when there is no such secret. */
void           lt_secret_store_lookup_async (LtSecretStore  *self,
                                             const char     *kind,
                                             const char     *id,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
char          *lt_secret_store_lookup_finish (LtSecretStore *self,
                                              GAsyncResult  *result,
                                              GError       **error);
void           lt_secret_store_clear_async  (LtSecretStore  *self,
                                             const char     *kind,
                                             const char     *id,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean       lt_secret_store_clear_finish (LtSecretStore  *self,
                                             GAsyncResult   *result,
                                             GError        **error);

G_END_DECLS

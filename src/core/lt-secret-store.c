/* lt-secret-store.c: secrets in the Secret Service keyring (libsecret).
 *
 * Every operation is one GTask that walks the same steps: get the service (and a session to
 * carry secrets), look at the default collection, unlock it if it is locked, then store,
 * look up or clear the item. A timer runs over the whole walk: when it fires the libsecret
 * calls are cancelled and the task fails at once with UNAVAILABLE (LOCKED while waiting for
 * an unlock), because a keyring that waits for a password prompt nobody can see never
 * answers by itself. Secrets only ever travel in SecretValues and are never logged.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <string.h>

#include "lt-secret-store.h"

#define DEFAULT_TIMEOUT_MS 10000

struct _LtSecretStore
{
  GObject  parent_instance;

  char    *instance;
  guint    timeout_ms;
};

G_DEFINE_TYPE (LtSecretStore, lt_secret_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (lt-secret-store-error-quark, lt_secret_store_error)

enum {
  PROP_0,
  PROP_INSTANCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* xdg:schema is stored with each item (SECRET_SCHEMA_NONE), so lookups only ever match
 * Livetape's own items. */
static const SecretSchema lt_secret_schema = {
  "io.github.livetape.Livetape.Secret",
  SECRET_SCHEMA_NONE,
  {
    { "instance", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "id", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

typedef enum
{
  OP_STORE,
  OP_LOOKUP,
  OP_CLEAR,
} OpKind;

typedef struct
{
  OpKind         kind;
  GHashTable    *attributes;
  char          *label;
  SecretValue   *value;
  SecretService *service;
  /* Ours: cancelled by the timer or when the caller's cancellable fires. */
  GCancellable  *cancellable;
  GCancellable  *caller_cancellable;
  gulong         caller_cancelled_id;
  GSource       *timeout_source;
  guint          timeout_ms;
  gboolean       unlocking;
  gboolean       returned;
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  if (op->caller_cancelled_id != 0)
    g_cancellable_disconnect (op->caller_cancellable, op->caller_cancelled_id);
  g_clear_object (&op->caller_cancellable);
  if (op->timeout_source != NULL)
    {
      g_source_destroy (op->timeout_source);
      g_clear_pointer (&op->timeout_source, g_source_unref);
    }
  g_clear_pointer (&op->attributes, g_hash_table_unref);
  g_clear_pointer (&op->label, g_free);
  g_clear_pointer (&op->value, secret_value_unref);
  g_clear_object (&op->service);
  g_clear_object (&op->cancellable);
  g_free (op);
}

/* Returns FALSE when the task already completed (the timer won the race); the late
 * libsecret answer is then dropped. */
static gboolean
op_begin_return (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->returned)
    return FALSE;

  op->returned = TRUE;
  if (op->timeout_source != NULL)
    {
      g_source_destroy (op->timeout_source);
      g_clear_pointer (&op->timeout_source, g_source_unref);
    }
  return TRUE;
}

static void
op_return_error (GTask  *task,
                 GError *error)
{
  if (op_begin_return (task))
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static double
timeout_seconds (Op *op)
{
  return op->timeout_ms / 1000.0;
}

/* A D-Bus message to embed in a sentence of ours, without its final period. */
static char *
clause (const char *message)
{
  gsize len = strlen (message);

  while (len > 0 && (message[len - 1] == '.' || g_ascii_isspace (message[len - 1])))
    len--;
  return g_strndup (message, len);
}

static const char *
unlock_hint (void)
{
  return _("Start a Secret Service such as GNOME Keyring and unlock it; on a server, run "
           "Livetape under dbus-run-session with gnome-keyring-daemon --unlock (see the "
           "README).");
}

static gboolean
is_bus_failure (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* Maps a libsecret/GDBus error to LT_SECRET_STORE_ERROR with context; takes @error. */
static void
op_fail (GTask  *task,
         GError *error)
{
  Op *op = g_task_get_task_data (task);
  g_autofree char *reason = NULL;
  GError *mapped;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      error->domain == LT_SECRET_STORE_ERROR)
    {
      /* Ours already; or cancelled, which (the timer returns the task before it cancels)
       * can only be the caller's doing. */
      op_return_error (task, error);
      return;
    }

  reason = clause (error->message);
  if (op->kind == OP_STORE &&
      (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
       g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
       g_error_matches (error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT)))
    /* gnome-keyring without a login keyring: the default alias names a collection that
     * was never created, because creating it needs a password prompt. */
    mapped = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE,
                          _("The keyring has no default collection to keep secrets in "
                            "(%s). %s"), reason, unlock_hint ());
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    mapped = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED,
                          _("The keyring is locked. %s"), unlock_hint ());
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT))
    mapped = g_error_new_literal (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND,
                                  _("The secret is not in the keyring."));
  else if (op->service == NULL || is_bus_failure (error))
    mapped = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE,
                          _("No keyring (Secret Service) is available: %s. %s"),
                          reason, unlock_hint ());
  else if (op->unlocking)
    mapped = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED,
                          _("The keyring is locked and could not be unlocked: %s. %s"),
                          reason, unlock_hint ());
  else
    mapped = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_FAILED,
                          _("The keyring failed: %s."), reason);

  g_error_free (error);
  op_return_error (task, mapped);
}

static gboolean
op_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error;

  if (op->unlocking)
    error = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED,
                         _("The keyring is locked and was not unlocked within %g s. %s"),
                         timeout_seconds (op), unlock_hint ());
  else
    error = g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE,
                         _("The keyring did not answer within %g s (it may be waiting for a "
                           "password prompt that cannot be shown). %s"),
                         timeout_seconds (op), unlock_hint ());

  /* Return first so that the cancelled libsecret callback finds the task done. */
  op_return_error (task, error);
  g_cancellable_cancel (op->cancellable);

  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *caller_cancellable,
                     gpointer      user_data)
{
  GCancellable *ours = user_data;

  g_cancellable_cancel (ours);
}

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_service_store_finish (SECRET_SERVICE (source), result, &error))
    {
      op_fail (task, error);
      return;
    }

  if (op_begin_return (task))
    g_task_return_boolean (task, TRUE);
}

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretValue) value = NULL;
  GError *error = NULL;
  const char *text;

  value = secret_service_lookup_finish (SECRET_SERVICE (source), result, &error);
  if (error != NULL)
    {
      op_fail (task, error);
      return;
    }

  if (value == NULL)
    {
      op_return_error (task, g_error_new_literal (LT_SECRET_STORE_ERROR,
                                                  LT_SECRET_STORE_ERROR_NOT_FOUND,
                                                  _("The secret is not in the keyring.")));
      return;
    }

  text = secret_value_get_text (value);
  if (text == NULL)
    {
      op_return_error (task, g_error_new_literal (LT_SECRET_STORE_ERROR,
                                                  LT_SECRET_STORE_ERROR_FAILED,
                                                  _("The secret in the keyring is not text.")));
      return;
    }

  if (op_begin_return (task))
    g_task_return_pointer (task, g_strdup (text), g_free);
}

static void
clear_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_service_clear_finish (SECRET_SERVICE (source), result, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND,
                                     _("The secret is not in the keyring."));
      op_fail (task, error);
      return;
    }

  if (op_begin_return (task))
    g_task_return_boolean (task, TRUE);
}

static void
op_perform (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op->unlocking = FALSE;

  switch (op->kind)
    {
    case OP_STORE:
      secret_service_store (op->service, &lt_secret_schema, op->attributes,
                            SECRET_COLLECTION_DEFAULT, op->label, op->value,
                            op->cancellable, store_cb, g_object_ref (task));
      break;

    case OP_LOOKUP:
      secret_service_lookup (op->service, &lt_secret_schema, op->attributes,
                             op->cancellable, lookup_cb, g_object_ref (task));
      break;

    case OP_CLEAR:
      secret_service_clear (op->service, &lt_secret_schema, op->attributes,
                            op->cancellable, clear_cb, g_object_ref (task));
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Unlocking is done by hand (the Secret Service's Unlock method, then
 * secret_service_prompt() when the service wants a password) rather than with
 * secret_service_unlock(): libsecret 0.20.5 leaks an array on every unlock that prompts,
 * which the sanitizer run would report. */

static void
unlock_done (GTask    *task,
             GVariant *unlocked)
{
  /* A dismissed or failed prompt unlocks nothing and is not an error for the service. */
  if (unlocked == NULL || g_variant_n_children (unlocked) == 0)
    {
      op_return_error (task, g_error_new (LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED,
                                          _("The keyring is locked and was not unlocked. %s"),
                                          unlock_hint ()));
      return;
    }

  op_perform (task);
}

static void
unlock_prompted_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) unlocked = NULL;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  unlocked = secret_service_prompt_finish (SECRET_SERVICE (source), result, &error);
  if (error != NULL)
    {
      op_fail (task, error);
      return;
    }
  if (op->returned)
    return;

  unlock_done (task, unlocked);
}

static void
unlock_prompt_created_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GObject) prompt = NULL;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  prompt = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, &error);
  if (prompt == NULL)
    {
      op_fail (task, error);
      return;
    }
  if (op->returned)
    return;

  secret_service_prompt (op->service, SECRET_PROMPT (prompt), G_VARIANT_TYPE ("ao"),
                         op->cancellable, unlock_prompted_cb, g_object_ref (task));
}

static void
unlock_called_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) unlocked = NULL;
  Op *op = g_task_get_task_data (task);
  GDBusProxy *service = G_DBUS_PROXY (source);
  const char *prompt_path;
  GError *error = NULL;

  reply = g_dbus_proxy_call_finish (service, result, &error);
  if (reply == NULL)
    {
      op_fail (task, error);
      return;
    }
  if (op->returned)
    return;

  g_variant_get (reply, "(@ao&o)", &unlocked, &prompt_path);
  if (g_strcmp0 (prompt_path, "/") == 0)
    {
      unlock_done (task, unlocked);
      return;
    }

  /* What libsecret does for its own prompts; no properties to load on a prompt. */
  g_async_initable_new_async (SECRET_TYPE_PROMPT, G_PRIORITY_DEFAULT, op->cancellable,
                              unlock_prompt_created_cb, g_object_ref (task),
                              "g-flags", G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                              "g-name", g_dbus_proxy_get_name (service),
                              "g-connection", g_dbus_proxy_get_connection (service),
                              "g-object-path", prompt_path,
                              "g-interface-name", "org.freedesktop.Secret.Prompt",
                              NULL);
}

static void
collection_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretCollection) collection = NULL;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  const char *path;

  collection = secret_collection_for_alias_finish (result, &error);
  if (error != NULL)
    {
      op_fail (task, error);
      return;
    }
  if (op->returned)
    return;

  /* Checked up front so that a locked keyring is reported as LOCKED; without a default
   * collection libsecret creates one when storing. */
  if (collection == NULL || !secret_collection_get_locked (collection))
    {
      op_perform (task);
      return;
    }

  op->unlocking = TRUE;
  path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection));
  g_dbus_proxy_call (G_DBUS_PROXY (op->service), "Unlock",
                     g_variant_new ("(@ao)", g_variant_new_objv (&path, 1)),
                     G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, op->cancellable,
                     unlock_called_cb, g_object_ref (task));
}

static void
service_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(SecretService) service = NULL;
  GError *error = NULL;

  service = secret_service_get_finish (result, &error);
  if (service == NULL)
    {
      op_fail (task, error);
      return;
    }
  if (op->returned)
    return;

  op->service = g_steal_pointer (&service);
  secret_collection_for_alias (op->service, SECRET_COLLECTION_DEFAULT,
                               SECRET_COLLECTION_NONE, op->cancellable,
                               collection_cb, g_object_ref (task));
}

static GTask *
op_start (LtSecretStore       *self,
          OpKind               kind,
          const char          *secret_kind,
          const char          *id,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  GTask *task;
  Op *op;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  op = g_new0 (Op, 1);
  op->kind = kind;
  op->timeout_ms = self->timeout_ms;
  op->cancellable = g_cancellable_new ();
  op->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (op->attributes, (gpointer) "instance", g_strdup (self->instance));
  g_hash_table_insert (op->attributes, (gpointer) "kind", g_strdup (secret_kind));
  g_hash_table_insert (op->attributes, (gpointer) "id", g_strdup (id));
  g_task_set_task_data (task, op, op_free);

  if (cancellable != NULL)
    {
      op->caller_cancellable = g_object_ref (cancellable);
      op->caller_cancelled_id = g_cancellable_connect (cancellable,
                                                       G_CALLBACK (caller_cancelled_cb),
                                                       g_object_ref (op->cancellable),
                                                       g_object_unref);
    }

  /* The source holds a ref on the task (g_task_attach_source). */
  op->timeout_source = g_timeout_source_new (self->timeout_ms);
  g_task_attach_source (task, op->timeout_source, op_timeout_cb);

  return task;
}

static void
op_run (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  secret_service_get (SECRET_SERVICE_OPEN_SESSION, op->cancellable, service_cb,
                      g_object_ref (task));
}

/* The store and clear _finish: checks that @result is our task from @source_tag. */
static gboolean
finish_boolean (LtSecretStore  *self,
                GAsyncResult   *result,
                gpointer        source_tag,
                GError        **error)
{
  g_return_val_if_fail (LT_IS_SECRET_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lt_secret_store_finalize (GObject *object)
{
  LtSecretStore *self = LT_SECRET_STORE (object);

  g_clear_pointer (&self->instance, g_free);

  G_OBJECT_CLASS (lt_secret_store_parent_class)->finalize (object);
}

static void
lt_secret_store_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LtSecretStore *self = LT_SECRET_STORE (object);

  switch (prop_id)
    {
    case PROP_INSTANCE:
      g_value_set_string (value, self->instance);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_secret_store_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  LtSecretStore *self = LT_SECRET_STORE (object);

  switch (prop_id)
    {
    case PROP_INSTANCE:
      self->instance = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_secret_store_class_init (LtSecretStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_secret_store_finalize;
  object_class->get_property = lt_secret_store_get_property;
  object_class->set_property = lt_secret_store_set_property;

  properties[PROP_INSTANCE] =
    g_param_spec_string ("instance", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_secret_store_init (LtSecretStore *self)
{
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
}

LtSecretStore *
lt_secret_store_new (const char *instance)
{
  g_return_val_if_fail (instance != NULL && *instance != '\0', NULL);

  return g_object_new (LT_TYPE_SECRET_STORE, "instance", instance, NULL);
}

const char *
lt_secret_store_get_instance (LtSecretStore *self)
{
  g_return_val_if_fail (LT_IS_SECRET_STORE (self), NULL);

  return self->instance;
}

void
lt_secret_store_set_timeout (LtSecretStore *self,
                             guint          timeout_ms)
{
  g_return_if_fail (LT_IS_SECRET_STORE (self));
  g_return_if_fail (timeout_ms > 0);

  self->timeout_ms = timeout_ms;
}

guint
lt_secret_store_get_timeout (LtSecretStore *self)
{
  g_return_val_if_fail (LT_IS_SECRET_STORE (self), 0);

  return self->timeout_ms;
}

void
lt_secret_store_store_async (LtSecretStore       *self,
                             const char          *kind,
                             const char          *id,
                             const char          *label,
                             const char          *secret,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Op *op;

  g_return_if_fail (LT_IS_SECRET_STORE (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (id != NULL);
  g_return_if_fail (secret != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (self, OP_STORE, kind, id, cancellable, callback, user_data,
                   lt_secret_store_store_async);
  op = g_task_get_task_data (task);
  op->value = secret_value_new (secret, -1, "text/plain");
  if (label != NULL)
    op->label = g_strdup (label);
  else
    op->label = g_strdup_printf ("Livetape %s %s", kind, id);

  op_run (task);
}

gboolean
lt_secret_store_store_finish (LtSecretStore  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  return finish_boolean (self, result, lt_secret_store_store_async, error);
}

void
lt_secret_store_lookup_async (LtSecretStore       *self,
                              const char          *kind,
                              const char          *id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_SECRET_STORE (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (self, OP_LOOKUP, kind, id, cancellable, callback, user_data,
                   lt_secret_store_lookup_async);
  op_run (task);
}

char *
lt_secret_store_lookup_finish (LtSecretStore  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (LT_IS_SECRET_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_secret_store_lookup_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lt_secret_store_clear_async (LtSecretStore       *self,
                             const char          *kind,
                             const char          *id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_SECRET_STORE (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = op_start (self, OP_CLEAR, kind, id, cancellable, callback, user_data,
                   lt_secret_store_clear_async);
  op_run (task);
}

gboolean
lt_secret_store_clear_finish (LtSecretStore  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  return finish_boolean (self, result, lt_secret_store_clear_async, error);
}

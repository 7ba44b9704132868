/* lt-storage-targets.c: the storage targets — the built-in "local" folder target and the
 * S3-compatible ones kept in the catalog's storage_targets table, their secret keys in the
 * keyring.
 *
 * Like the rule and notify stores, every load, add, update, remove and pause is queued
 * and runs alone (lt-op-queue): the list is checked (exists / not found), the keyring and
 * the catalog are written, and only then does the list change (items-changed or property
 * notifications, then "changed") before the caller's callback runs. A write that has
 * started is never abandoned; cancelling only takes effect while an operation waits.
 *
 * Secret keys travel only as far as the keyring: they are never kept in the list, never
 * written to the catalog and never logged.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-op-queue.h"
#include "lt-rule.h"
#include "lt-storage.h"
#include "lt-storage-targets.h"
#include "lt-storage-targets-private.h"

#define SUCCESS GINT_TO_POINTER (TRUE)
#define DEFAULT_REGION "us-east-1"
#define DEFAULT_TEST_TIMEOUT_MS 15000
#define ENDPOINT_MAX 255
#define ACCESS_KEY_ID_MAX 128
#define REGION_MAX 63

G_DEFINE_QUARK (lt-storage-targets-error-quark, lt_storage_targets_error)

static gboolean
is_empty (const char *s)
{
  return s == NULL || *s == '\0';
}

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **str,
         const char  *value)
{
  if (g_strcmp0 (*str, value) == 0)
    return FALSE;
  g_free (*str);
  *str = g_strdup (value);
  return TRUE;
}

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

/* ---- LtStorageTarget ------------------------------------------------------------------ */

struct _LtStorageTarget
{
  GObject              parent_instance;

  char                *name;
  LtStorageTargetKind  kind;
  char                *endpoint;
  char                *host;
  guint                port;
  char                *region;
  char                *bucket;
  gboolean             path_style;
  gboolean             use_tls;
  char                *access_key_id;
  char                *local_root;
  gboolean             paused;
  gint64               create_time;
  gint64               update_time;

  LtStorageTargetState state;
  char                *last_error;

  /* Set by lt_storage_target_new_s3() when the endpoint is not a URL we accept; checked
   * by lt_storage_target_check(). */
  gboolean             endpoint_bad;
};

G_DEFINE_FINAL_TYPE (LtStorageTarget, lt_storage_target, G_TYPE_OBJECT)

enum {
  TARGET_PROP_0,
  TARGET_PROP_NAME,
  TARGET_PROP_KIND,
  TARGET_PROP_ENDPOINT,
  TARGET_PROP_REGION,
  TARGET_PROP_BUCKET,
  TARGET_PROP_PATH_STYLE,
  TARGET_PROP_USE_TLS,
  TARGET_PROP_ACCESS_KEY_ID,
  TARGET_PROP_PAUSED,
  TARGET_PROP_STATE,
  TARGET_PROP_LAST_ERROR,
  TARGET_N_PROPS
};

static GParamSpec *target_properties[TARGET_N_PROPS];

static void
lt_storage_target_finalize (GObject *object)
{
  LtStorageTarget *self = LT_STORAGE_TARGET (object);

  g_free (self->name);
  g_free (self->endpoint);
  g_free (self->host);
  g_free (self->region);
  g_free (self->bucket);
  g_free (self->access_key_id);
  g_free (self->local_root);
  g_free (self->last_error);

  G_OBJECT_CLASS (lt_storage_target_parent_class)->finalize (object);
}

static void
lt_storage_target_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LtStorageTarget *self = LT_STORAGE_TARGET (object);

  switch (prop_id)
    {
    case TARGET_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case TARGET_PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case TARGET_PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case TARGET_PROP_REGION:
      g_value_set_string (value, self->region);
      break;
    case TARGET_PROP_BUCKET:
      g_value_set_string (value, self->bucket);
      break;
    case TARGET_PROP_PATH_STYLE:
      g_value_set_boolean (value, self->path_style);
      break;
    case TARGET_PROP_USE_TLS:
      g_value_set_boolean (value, self->use_tls);
      break;
    case TARGET_PROP_ACCESS_KEY_ID:
      g_value_set_string (value, self->access_key_id);
      break;
    case TARGET_PROP_PAUSED:
      g_value_set_boolean (value, self->paused);
      break;
    case TARGET_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case TARGET_PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_storage_target_class_init (LtStorageTargetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = lt_storage_target_finalize;
  object_class->get_property = lt_storage_target_get_property;

  target_properties[TARGET_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);
  target_properties[TARGET_PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, LT_TYPE_STORAGE_TARGET_KIND,
                       LT_STORAGE_TARGET_KIND_LOCAL, flags);
  target_properties[TARGET_PROP_ENDPOINT] =
    g_param_spec_string ("endpoint", NULL, NULL, NULL, flags);
  target_properties[TARGET_PROP_REGION] =
    g_param_spec_string ("region", NULL, NULL, NULL, flags);
  target_properties[TARGET_PROP_BUCKET] =
    g_param_spec_string ("bucket", NULL, NULL, NULL, flags);
  target_properties[TARGET_PROP_PATH_STYLE] =
    g_param_spec_boolean ("path-style", NULL, NULL, FALSE, flags);
  target_properties[TARGET_PROP_USE_TLS] =
    g_param_spec_boolean ("use-tls", NULL, NULL, FALSE, flags);
  target_properties[TARGET_PROP_ACCESS_KEY_ID] =
    g_param_spec_string ("access-key-id", NULL, NULL, NULL, flags);
  target_properties[TARGET_PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL, FALSE, flags);
  target_properties[TARGET_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LT_TYPE_STORAGE_TARGET_STATE,
                       LT_STORAGE_TARGET_STATE_UNKNOWN, flags);
  target_properties[TARGET_PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, TARGET_N_PROPS, target_properties);
}

static void
lt_storage_target_init (LtStorageTarget *self)
{
}

/* Splits an endpoint URL into its normalized form "scheme://host[:port]", host and port.
 * Only http and https, a host, an optional port; no user info, path, query or fragment. */
static gboolean
parse_endpoint (const char  *url,
                char       **normalized,
                char       **host_out,
                guint       *port_out,
                gboolean    *tls_out)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *host = NULL;
  const char *scheme;
  const char *path;
  gboolean tls;
  int port;

  if (is_empty (url) || strlen (url) > ENDPOINT_MAX)
    return FALSE;
  for (const char *p = url; *p != '\0'; p++)
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f || *p == '\\' || *p == '%')
      return FALSE;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    tls = TRUE;
  else if (g_ascii_strcasecmp (scheme, "http") == 0)
    tls = FALSE;
  else
    return FALSE;

  path = g_uri_get_path (uri);
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL || !(path[0] == '\0' || g_str_equal (path, "/")))
    return FALSE;

  if (is_empty (g_uri_get_host (uri)))
    return FALSE;
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  if (strchr (host, ':') != NULL)
    {
      if (!g_hostname_is_ip_address (host))
        return FALSE;
    }
  else
    {
      /* Letters, digits, hyphens and dots: a DNS name or an IPv4 address. */
      gsize len = strlen (host);

      if (len > 253 || host[0] == '.' || host[0] == '-' || strstr (host, "..") != NULL)
        return FALSE;
      for (gsize i = 0; i < len; i++)
        if (!(g_ascii_isalnum (host[i]) || host[i] == '-' || host[i] == '.'))
          return FALSE;
    }

  port = g_uri_get_port (uri);
  if (port == 0 || port > 65535)
    return FALSE;

  if (normalized != NULL)
    {
      gboolean v6 = strchr (host, ':') != NULL;

      if (port < 0)
        *normalized = g_strdup_printf ("%s://%s%s%s", tls ? "https" : "http",
                                       v6 ? "[" : "", host, v6 ? "]" : "");
      else
        *normalized = g_strdup_printf ("%s://%s%s%s:%d", tls ? "https" : "http",
                                       v6 ? "[" : "", host, v6 ? "]" : "", port);
    }
  if (port_out != NULL)
    *port_out = port > 0 ? (guint) port : (tls ? 443 : 80);
  if (tls_out != NULL)
    *tls_out = tls;
  if (host_out != NULL)
    *host_out = g_steal_pointer (&host);
  return TRUE;
}

LtStorageTarget *
lt_storage_target_new_s3 (const char *name,
                          const char *endpoint,
                          const char *region,
                          const char *bucket,
                          gboolean    path_style,
                          const char *access_key_id)
{
  LtStorageTarget *self = g_object_new (LT_TYPE_STORAGE_TARGET, NULL);

  self->kind = LT_STORAGE_TARGET_KIND_S3;
  self->name = name != NULL ? g_ascii_strdown (name, -1) : NULL;
  if (!parse_endpoint (endpoint, &self->endpoint, &self->host, &self->port, &self->use_tls))
    {
      self->endpoint_bad = TRUE;
      self->endpoint = g_strdup (endpoint);
    }
  self->region = g_strdup (is_empty (region) ? DEFAULT_REGION : region);
  self->bucket = is_empty (bucket) ? NULL : g_strdup (bucket);
  self->path_style = !!path_style;
  self->access_key_id = is_empty (access_key_id) ? NULL : g_strdup (access_key_id);
  return self;
}

static LtStorageTarget *
target_new_local (const char *local_root)
{
  LtStorageTarget *self = g_object_new (LT_TYPE_STORAGE_TARGET, NULL);

  self->kind = LT_STORAGE_TARGET_KIND_LOCAL;
  self->name = g_strdup (LT_STORAGE_LOCAL_TARGET);
  self->local_root = g_strdup (local_root);
  self->state = LT_STORAGE_TARGET_STATE_OK;
  return self;
}

static LtStorageTarget *
target_copy (LtStorageTarget *other)
{
  LtStorageTarget *self = g_object_new (LT_TYPE_STORAGE_TARGET, NULL);

  self->kind = other->kind;
  self->name = g_strdup (other->name);
  self->endpoint = g_strdup (other->endpoint);
  self->host = g_strdup (other->host);
  self->port = other->port;
  self->region = g_strdup (other->region);
  self->bucket = g_strdup (other->bucket);
  self->path_style = other->path_style;
  self->use_tls = other->use_tls;
  self->access_key_id = g_strdup (other->access_key_id);
  self->local_root = g_strdup (other->local_root);
  self->paused = other->paused;
  self->create_time = other->create_time;
  self->update_time = other->update_time;
  self->endpoint_bad = other->endpoint_bad;
  return self;
}

/* Also used for names typed on the command line before any target exists. */
gboolean
lt_storage_target_check_name (const char  *name,
                              GError     **error)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gboolean ok = len >= 1 && len <= LT_STORAGE_TARGET_NAME_MAX &&
                (g_ascii_islower (name[0]) || g_ascii_isdigit (name[0]));

  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '-';

  if (!ok)
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_NAME,
                   _("A storage target’s name must be 1 to %d lowercase letters, digits or "
                     "hyphens, starting with a letter or digit"),
                   LT_STORAGE_TARGET_NAME_MAX);
      return FALSE;
    }
  if (g_str_equal (name, LT_STORAGE_LOCAL_TARGET))
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN,
                   _("“%s” is the built-in local folder target; choose another name"),
                   LT_STORAGE_LOCAL_TARGET);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_bucket_name (const char *s)
{
  gsize len = strlen (s);
  gboolean all_digits_and_dots = TRUE;

  if (len < 3 || len > 63)
    return FALSE;
  if (!(g_ascii_islower (s[0]) || g_ascii_isdigit (s[0])) ||
      !(g_ascii_islower (s[len - 1]) || g_ascii_isdigit (s[len - 1])))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!(g_ascii_islower (s[i]) || g_ascii_isdigit (s[i]) || s[i] == '.' || s[i] == '-'))
        return FALSE;
      all_digits_and_dots = all_digits_and_dots && (g_ascii_isdigit (s[i]) || s[i] == '.');
    }
  if (strstr (s, "..") != NULL || strstr (s, ".-") != NULL || strstr (s, "-.") != NULL)
    return FALSE;
  /* Not an IPv4 address. */
  return !all_digits_and_dots;
}

gboolean
lt_storage_target_check (LtStorageTarget  *self,
                         GError          **error)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), FALSE);

  if (self->kind == LT_STORAGE_TARGET_KIND_LOCAL)
    return TRUE;

  if (!lt_storage_target_check_name (self->name, error))
    return FALSE;

  if (self->endpoint_bad || self->endpoint == NULL)
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT,
                   _("The endpoint must be an http:// or https:// address with a host and an "
                     "optional port, without user name, path or query (for example "
                     "https://s3.example.com or http://127.0.0.1:9000)"));
      return FALSE;
    }

  {
    gsize len = strlen (self->region);
    gboolean ok = len >= 1 && len <= REGION_MAX;

    for (gsize i = 0; ok && i < len; i++)
      ok = g_ascii_isalnum (self->region[i]) || self->region[i] == '-' ||
           self->region[i] == '_';
    if (!ok)
      {
        g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_REGION,
                     _("The region must be 1 to %d letters, digits, hyphens or underscores "
                       "(for example us-east-1)"), REGION_MAX);
        return FALSE;
      }
  }

  if (self->bucket != NULL && !is_bucket_name (self->bucket))
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET,
                   _("A bucket name must be 3 to 63 lowercase letters, digits, dots or "
                     "hyphens, start and end with a letter or digit, and not look like an IP "
                     "address"));
      return FALSE;
    }

  if (self->access_key_id != NULL)
    {
      gsize len = strlen (self->access_key_id);
      gboolean ok = len >= 1 && len <= ACCESS_KEY_ID_MAX;

      for (gsize i = 0; ok && i < len; i++)
        ok = g_ascii_isalnum (self->access_key_id[i]) ||
             strchr ("._~+=-", self->access_key_id[i]) != NULL;
      if (!ok)
        {
          g_set_error (error, LT_STORAGE_TARGETS_ERROR,
                       LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID,
                       _("The access key id must be 1 to %d letters, digits or the characters "
                         ". _ ~ + = -"), ACCESS_KEY_ID_MAX);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_secret (LtStorageTarget  *target,
              const char       *secret,
              gboolean          required_when_keyed,
              GError          **error)
{
  if (secret == NULL || *secret == '\0')
    {
      if (target->access_key_id != NULL && required_when_keyed)
        {
          g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,
                       _("A target with an access key id needs its secret access key"));
          return FALSE;
        }
      return TRUE;
    }

  if (target->access_key_id == NULL)
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,
                   _("A secret access key was given without an access key id"));
      return FALSE;
    }
  if (strlen (secret) > LT_STORAGE_TARGET_SECRET_MAX || !g_utf8_validate (secret, -1, NULL))
    {
      g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,
                   _("The secret access key must be valid UTF-8 of at most %d bytes"),
                   LT_STORAGE_TARGET_SECRET_MAX);
      return FALSE;
    }
  for (const char *p = secret; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,
                     _("The secret access key must not contain control characters"));
        return FALSE;
      }
  return TRUE;
}

const char *
lt_storage_target_get_name (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->name;
}

LtStorageTargetKind
lt_storage_target_get_kind (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), LT_STORAGE_TARGET_KIND_LOCAL);
  return self->kind;
}

const char *
lt_storage_target_get_endpoint (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->endpoint;
}

const char *
lt_storage_target_get_host (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->host;
}

guint
lt_storage_target_get_port (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), 0);
  return self->port;
}

const char *
lt_storage_target_get_region (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->region;
}

const char *
lt_storage_target_get_bucket (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->bucket;
}

gboolean
lt_storage_target_get_path_style (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), FALSE);
  return self->path_style;
}

char *
lt_storage_target_dup_bucket_url (LtStorageTarget *self,
                                  const char      *bucket)
{
  const char *sep;

  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  g_return_val_if_fail (bucket != NULL, NULL);

  if (self->kind != LT_STORAGE_TARGET_KIND_S3 || self->endpoint == NULL)
    return NULL;
  if (self->path_style)
    return g_strdup_printf ("%s/%s/", self->endpoint, bucket);
  /* Virtual-hosted: the bucket in front of the host. */
  sep = strstr (self->endpoint, "://");
  if (sep == NULL)
    return NULL;
  return g_strdup_printf ("%.*s%s.%s/", (int) (sep + 3 - self->endpoint), self->endpoint,
                          bucket, sep + 3);
}

gboolean
lt_storage_target_get_use_tls (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), FALSE);
  return self->use_tls;
}

const char *
lt_storage_target_get_access_key_id (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->access_key_id;
}

const char *
lt_storage_target_get_local_root (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->local_root;
}

gboolean
lt_storage_target_get_paused (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), FALSE);
  return self->paused;
}

LtStorageTargetState
lt_storage_target_get_state (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), LT_STORAGE_TARGET_STATE_UNKNOWN);
  return self->state;
}

const char *
lt_storage_target_get_last_error (LtStorageTarget *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGET (self), NULL);
  return self->last_error;
}

void
lt_storage_target_set_state (LtStorageTarget      *self,
                             LtStorageTargetState  state,
                             const char           *last_error)
{
  g_return_if_fail (LT_IS_STORAGE_TARGET (self));

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), target_properties[TARGET_PROP_STATE]);
    }
  if (set_str (&self->last_error, last_error))
    g_object_notify_by_pspec (G_OBJECT (self), target_properties[TARGET_PROP_LAST_ERROR]);
}

/* Takes over @from's settings (not its run-time state), notifying what changed. */
static void
target_assign (LtStorageTarget *self,
               LtStorageTarget *from)
{
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  if (set_str (&self->endpoint, from->endpoint))
    g_object_notify_by_pspec (object, target_properties[TARGET_PROP_ENDPOINT]);
  set_str (&self->host, from->host);
  self->port = from->port;
  if (set_str (&self->region, from->region))
    g_object_notify_by_pspec (object, target_properties[TARGET_PROP_REGION]);
  if (set_str (&self->bucket, from->bucket))
    g_object_notify_by_pspec (object, target_properties[TARGET_PROP_BUCKET]);
  if (self->path_style != from->path_style)
    {
      self->path_style = from->path_style;
      g_object_notify_by_pspec (object, target_properties[TARGET_PROP_PATH_STYLE]);
    }
  if (self->use_tls != from->use_tls)
    {
      self->use_tls = from->use_tls;
      g_object_notify_by_pspec (object, target_properties[TARGET_PROP_USE_TLS]);
    }
  if (set_str (&self->access_key_id, from->access_key_id))
    g_object_notify_by_pspec (object, target_properties[TARGET_PROP_ACCESS_KEY_ID]);
  self->update_time = from->update_time;
  g_object_thaw_notify (object);
}

static void
target_set_paused (LtStorageTarget *self,
                   gboolean         paused)
{
  if (self->paused == !!paused)
    return;
  self->paused = !!paused;
  g_object_notify_by_pspec (G_OBJECT (self), target_properties[TARGET_PROP_PAUSED]);
}

/* ---- the store ------------------------------------------------------------------------ */

struct _LtStorageTargets
{
  GObject        parent_instance;

  LtCatalog     *catalog;
  LtSecretStore *secrets;
  GPtrArray     *items;   /* LtStorageTarget: [0] is "local", then sorted by name */
  LtOpQueue      ops;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LtStorageTargets, lt_storage_targets, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GType
lt_storage_targets_get_item_type (GListModel *model)
{
  return LT_TYPE_STORAGE_TARGET;
}

static guint
lt_storage_targets_get_n_items (GListModel *model)
{
  return LT_STORAGE_TARGETS (model)->items->len;
}

static gpointer
lt_storage_targets_get_item (GListModel *model,
                             guint       position)
{
  LtStorageTargets *self = LT_STORAGE_TARGETS (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = lt_storage_targets_get_item_type;
  iface->get_n_items = lt_storage_targets_get_n_items;
  iface->get_item = lt_storage_targets_get_item;
}

static void
lt_storage_targets_finalize (GObject *object)
{
  LtStorageTargets *self = LT_STORAGE_TARGETS (object);

  /* Every queued or running task holds a reference on us. */
  g_assert (self->ops.running == NULL);
  g_assert (g_queue_is_empty (&self->ops.pending));

  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_object (&self->secrets);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_storage_targets_parent_class)->finalize (object);
}

static void
lt_storage_targets_class_init (LtStorageTargetsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_storage_targets_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
lt_storage_targets_init (LtStorageTargets *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  g_queue_init (&self->ops.pending);
}

LtStorageTargets *
lt_storage_targets_new (LtCatalog     *catalog,
                        LtSecretStore *secrets,
                        const char    *local_root)
{
  LtStorageTargets *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (LT_IS_SECRET_STORE (secrets), NULL);
  g_return_val_if_fail (local_root != NULL, NULL);

  self = g_object_new (LT_TYPE_STORAGE_TARGETS, NULL);
  self->catalog = g_object_ref (catalog);
  self->secrets = g_object_ref (secrets);
  g_ptr_array_add (self->items, target_new_local (local_root));
  return self;
}

LtSecretStore *
lt_storage_targets_get_secret_store (LtStorageTargets *self)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (self), NULL);
  return self->secrets;
}

static LtStorageTarget *
item (LtStorageTargets *self,
      guint             position)
{
  return g_ptr_array_index (self->items, position);
}

/* Binary search over the S3 targets' (lower-case) names, from index 1: TRUE and the index
 * when found, else FALSE and where it would go. */
static gboolean
find_name (LtStorageTargets *self,
           const char       *name,
           guint            *position)
{
  guint lo = 1;
  guint hi = self->items->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = strcmp (name, item (self, mid)->name);

      if (cmp == 0)
        {
          *position = mid;
          return TRUE;
        }
      if (cmp < 0)
        hi = mid;
      else
        lo = mid + 1;
    }

  *position = lo;
  return FALSE;
}

LtStorageTarget *
lt_storage_targets_lookup (LtStorageTargets *self,
                           const char       *name)
{
  g_autofree char *lower = NULL;
  guint position;

  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  lower = g_ascii_strdown (name, -1);
  if (g_str_equal (lower, LT_STORAGE_LOCAL_TARGET))
    return item (self, 0);
  if (find_name (self, lower, &position))
    return item (self, position);
  return NULL;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port" (lower-cased host); port 0 when none. */
static gboolean
split_host_port (const char  *s,
                 char       **host,
                 guint       *port)
{
  const char *colon;
  guint64 value = 0;

  *port = 0;
  if (s[0] == '[')
    {
      const char *close = strchr (s, ']');

      if (close == NULL)
        return FALSE;
      *host = g_ascii_strdown (s + 1, close - s - 1);
      colon = close[1] == ':' ? close + 1 : NULL;
      if (close[1] != '\0' && colon == NULL)
        {
          g_clear_pointer (host, g_free);
          return FALSE;
        }
    }
  else
    {
      colon = strrchr (s, ':');
      if (colon != NULL && strchr (s, ':') != colon)
        return FALSE;
      *host = g_ascii_strdown (s, colon != NULL ? colon - s : -1);
    }

  if (colon != NULL)
    {
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &value, NULL))
        {
          g_clear_pointer (host, g_free);
          return FALSE;
        }
      *port = (guint) value;
    }
  return TRUE;
}

LtStorageTarget *
lt_storage_targets_resolve (LtStorageTargets *self,
                            const char       *endpoint)
{
  g_autofree char *host = NULL;
  LtStorageTarget *target;
  guint port;

  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (self), NULL);

  if (is_empty (endpoint))
    return item (self, 0);

  target = lt_storage_targets_lookup (self, endpoint);
  if (target != NULL)
    return target;

  if (!split_host_port (endpoint, &host, &port))
    return NULL;

  for (guint i = 1; i < self->items->len; i++)
    {
      LtStorageTarget *candidate = item (self, i);

      if (candidate->host != NULL && g_str_equal (candidate->host, host) &&
          (port == 0 || port == candidate->port))
        {
          /* Without a port in the rule, only a target on the scheme's default port. */
          if (port == 0 && candidate->port != (candidate->use_tls ? 443u : 80u))
            continue;
          return candidate;
        }
    }
  return NULL;
}

static void
emit_changed (LtStorageTargets *self,
              const char       *name)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, name);
}

/* ---- catalog jobs (worker thread) ----------------------------------------------------- */

static gboolean
bind_target (sqlite3_stmt     *stmt,
             LtStorageTarget  *target,
             GError          **error)
{
  return lt_catalog_bind_text (stmt, 1, target->name, error) &&
         lt_catalog_bind_text (stmt, 2, target->endpoint, error) &&
         lt_catalog_bind_text (stmt, 3, target->region, error) &&
         lt_catalog_bind_text (stmt, 4, target->bucket, error) &&
         lt_catalog_bind_int64 (stmt, 5, target->path_style ? 1 : 0, error) &&
         lt_catalog_bind_int64 (stmt, 6, target->use_tls ? 1 : 0, error) &&
         lt_catalog_bind_text (stmt, 7, target->access_key_id, error) &&
         lt_catalog_bind_int64 (stmt, 8, target->paused ? 1 : 0, error) &&
         lt_catalog_bind_int64 (stmt, 9, target->create_time, error) &&
         lt_catalog_bind_int64 (stmt, 10, target->update_time, error);
}

static gboolean
row_changed (sqlite3          *db,
             LtStorageTarget  *target,
             GError          **error)
{
  if (sqlite3_changes (db) > 0)
    return TRUE;

  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND,
               _("There is no storage target named “%s”."), target->name);
  return FALSE;
}

static gpointer
insert_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO storage_targets (name, kind, endpoint, region, bucket,"
                          " path_style, use_tls, access_key_id, paused, create_time, update_time)"
                          " VALUES (?1, 's3', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          error);
  if (stmt == NULL || !bind_target (stmt, data, error) || !lt_catalog_step_done (stmt, error))
    return NULL;
  return SUCCESS;
}

static gpointer
update_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  sqlite3_stmt *stmt;

  /* The create time stays what the row says. */
  stmt = lt_catalog_stmt (db,
                          "UPDATE storage_targets SET endpoint = ?2, region = ?3, bucket = ?4,"
                          " path_style = ?5, use_tls = ?6, access_key_id = ?7, paused = ?8,"
                          " update_time = ?10"
                          " WHERE name = ?1 AND kind = 's3'",
                          error);
  if (stmt == NULL || !bind_target (stmt, data, error) || !lt_catalog_step_done (stmt, error) ||
      !row_changed (db, data, error))
    return NULL;
  return SUCCESS;
}

static gpointer
delete_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  LtStorageTarget *target = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "DELETE FROM storage_targets WHERE name = ?1 AND kind = 's3'",
                          error);
  if (stmt == NULL || !lt_catalog_bind_text (stmt, 1, target->name, error) ||
      !lt_catalog_step_done (stmt, error) || !row_changed (db, target, error))
    return NULL;
  return SUCCESS;
}

static gpointer
list_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT name, endpoint, region, bucket, path_style, access_key_id,"
                          " paused, create_time, update_time"
                          " FROM storage_targets WHERE kind = 's3'",
                          error);
  if (stmt == NULL)
    return NULL;

  targets = g_ptr_array_new_with_free_func (g_object_unref);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      g_autofree char *name = lt_catalog_column_dup (stmt, 0);
      g_autofree char *endpoint = lt_catalog_column_dup (stmt, 1);
      g_autofree char *region = lt_catalog_column_dup (stmt, 2);
      g_autofree char *bucket = lt_catalog_column_dup (stmt, 3);
      g_autofree char *access_key_id = lt_catalog_column_dup (stmt, 5);
      LtStorageTarget *target;

      target = lt_storage_target_new_s3 (name, endpoint, region, bucket,
                                         sqlite3_column_int (stmt, 4) != 0, access_key_id);
      target->paused = sqlite3_column_int (stmt, 6) != 0;
      target->create_time = sqlite3_column_int64 (stmt, 7);
      target->update_time = sqlite3_column_int64 (stmt, 8);
      if (target->paused)
        target->state = LT_STORAGE_TARGET_STATE_PAUSED;
      g_ptr_array_add (targets, target);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&targets);
}

/* ---- operations ----------------------------------------------------------------------- */

typedef enum
{
  OP_LOAD,
  OP_ADD,
  OP_UPDATE,
  OP_REMOVE,
  OP_SET_PAUSED,
} OpKind;

typedef struct
{
  OpKind           kind;
  LtStorageTarget *target;     /* add, update: the new settings; remove, pause: the name */
  char            *secret;     /* add, update: the key to store (NULL: none / keep) */
  gboolean         clear_secret; /* update: "" was given */
  gboolean         paused;
  GError          *row_error;  /* add: why the row was not written (the key is cleared) */
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_clear_object (&op->target);
  g_clear_pointer (&op->secret, free_secret);
  g_clear_error (&op->row_error);
  g_free (op);
}

static void start_running (LtStorageTargets *self);

static void
finish_running (LtStorageTargets *self)
{
  _lt_op_queue_next (&self->ops, (LtOpQueueStartFunc) start_running, self);
}

static void
return_error (LtStorageTargets *self,
              GError           *error)
{
  g_task_return_error (self->ops.running, error);
  finish_running (self);
}

static void
return_success (LtStorageTargets *self)
{
  g_task_return_boolean (self->ops.running, TRUE);
  finish_running (self);
}

static Op *
running_op (LtStorageTargets *self)
{
  return g_task_get_task_data (self->ops.running);
}

static GError *
not_found_error (const char *name)
{
  return g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND,
                      _("There is no storage target named “%s”."), name);
}

static GError *
exists_error (const char *name)
{
  return g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_EXISTS,
                      _("A storage target named “%s” already exists."), name);
}

static GError *
built_in_error (void)
{
  return g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN,
                      _("“%s” is the built-in local folder target; it cannot be changed or "
                        "removed."), LT_STORAGE_LOCAL_TARGET);
}

static GError *
keyring_error (const char   *name,
               const GError *error)
{
  return g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_KEYRING,
                      _("Cannot keep the secret key of storage target “%s” in the keyring: %s"),
                      name, error->message);
}

/* Catalog failures other than the expected ones are the catch-all FAILED. */
static GError *
catalog_failure (GError     *error,
                 const char *context)
{
  GError *out = g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_FAILED,
                             "%s%s", context, error->message);

  g_error_free (error);
  return out;
}

/* Whether the catalog job of an update, remove or pause succeeded. When it did not, the
 * running operation ends with its error: NOT_FOUND (by name) when the row went meanwhile,
 * FAILED with @context otherwise. */
static gboolean
target_job_succeeded (LtStorageTargets *self,
                      GObject          *source,
                      GAsyncResult     *result,
                      const char       *context)
{
  Op *op = running_op (self);
  GError *error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) != NULL)
    return TRUE;
  if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND))
    {
      g_clear_error (&error);
      return_error (self, not_found_error (op->target->name));
    }
  else
    return_error (self, catalog_failure (error, context));
  return FALSE;
}

/* The position of the running operation's target; when it is gone, the operation ends with
 * NOT_FOUND and FALSE comes back. */
static gboolean
find_target (LtStorageTargets *self,
             Op               *op,
             guint            *position)
{
  if (find_name (self, op->target->name, position))
    return TRUE;
  return_error (self, not_found_error (op->target->name));
  return FALSE;
}

static char *
secret_label (LtStorageTarget *target)
{
  /* Translators: the label of the keyring item, shown in Passwords and Keys. */
  return g_strdup_printf (_("Livetape storage target %s (%s)"), target->name, target->endpoint);
}

/* load ---- */

static int
compare_targets (gconstpointer a,
                 gconstpointer b)
{
  return strcmp ((*(LtStorageTarget * const *) a)->name, (*(LtStorageTarget * const *) b)->name);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  g_autoptr(GPtrArray) loaded = NULL;
  g_autoptr(GPtrArray) old = NULL;
  GError *error = NULL;
  guint old_len;

  loaded = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (loaded == NULL)
    {
      return_error (self, catalog_failure (error, _("Could not load the storage targets: ")));
      return;
    }

  g_ptr_array_sort (loaded, compare_targets);
  old_len = self->items->len;
  /* A reload keeps the objects of targets that are still there (their run-time state and
   * whoever watches them), taking over the stored settings. */
  old = g_steal_pointer (&self->items);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->items, g_object_ref (g_ptr_array_index (old, 0)));
  for (guint i = 0; i < loaded->len; i++)
    {
      LtStorageTarget *target = g_ptr_array_index (loaded, i);
      LtStorageTarget *existing = NULL;

      /* A row made by hand that does not pass the checks is left out, not fatal. */
      if (!lt_storage_target_check (target, &error) ||
          (self->items->len > 1 && g_str_equal (item (self, self->items->len - 1)->name,
                                                target->name)))
        {
          g_message ("Ignoring storage target “%s” in the catalog: %s", target->name,
                     error != NULL ? error->message : "duplicate name");
          g_clear_error (&error);
          continue;
        }

      for (guint j = 1; j < old->len && existing == NULL; j++)
        if (g_str_equal (((LtStorageTarget *) g_ptr_array_index (old, j))->name, target->name))
          existing = g_ptr_array_index (old, j);
      if (existing != NULL)
        {
          target_assign (existing, target);
          existing->create_time = target->create_time;
          if (existing->paused != target->paused)
            {
              target_set_paused (existing, target->paused);
              lt_storage_target_set_state (existing,
                                           target->paused ? LT_STORAGE_TARGET_STATE_PAUSED
                                                          : LT_STORAGE_TARGET_STATE_UNKNOWN,
                                           existing->last_error);
            }
          g_ptr_array_add (self->items, g_object_ref (existing));
        }
      else
        g_ptr_array_add (self->items, g_object_ref (target));
    }

  if (old_len > 1 || self->items->len > 1)
    g_list_model_items_changed (G_LIST_MODEL (self), 1, old_len - 1, self->items->len - 1);
  return_success (self);
}

/* add ---- */

static void
add_cleared_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  g_autoptr(GError) error = NULL;

  /* The catalog's error is what the caller needs; a key left behind names no target and
   * is replaced when the target is added again. */
  if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error))
    g_debug ("Could not remove the unused secret key of storage target %s: %s",
             op->target->name, error->message);

  return_error (self, g_steal_pointer (&op->row_error));
}

static void
add_inserted_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  GError *error = NULL;
  guint position;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT))
        {
          g_clear_error (&error);
          op->row_error = exists_error (op->target->name);
        }
      else
        op->row_error = catalog_failure (error, _("Could not save the storage target: "));

      if (op->secret == NULL)
        {
          return_error (self, g_steal_pointer (&op->row_error));
          return;
        }
      /* Not cancellable: the key must not outlive a target the catalog does not have. */
      lt_secret_store_clear_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET,
                                   op->target->name, NULL, add_cleared_cb,
                                   g_object_ref (self));
      return;
    }

  if (find_name (self, op->target->name, &position))
    g_assert_not_reached ();
  g_ptr_array_insert (self->items, position, target_copy (op->target));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
  emit_changed (self, op->target->name);
  return_success (self);
}

static void
add_insert (LtStorageTargets *self,
            Op               *op)
{
  lt_catalog_run_async (self->catalog, insert_job, target_copy (op->target), g_object_unref,
                        NULL, NULL, add_inserted_cb, g_object_ref (self));
}

static void
add_stored_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  g_autoptr(GError) error = NULL;

  if (!lt_secret_store_store_finish (LT_SECRET_STORE (source), result, &error))
    {
      return_error (self, keyring_error (op->target->name, error));
      return;
    }
  add_insert (self, op);
}

static void
start_add (LtStorageTargets *self,
           Op               *op)
{
  g_autofree char *label = NULL;
  guint position;

  if (find_name (self, op->target->name, &position))
    {
      return_error (self, exists_error (op->target->name));
      return;
    }

  if (op->secret == NULL)
    {
      add_insert (self, op);
      return;
    }

  label = secret_label (op->target);
  lt_secret_store_store_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET, op->target->name,
                               label, op->secret, NULL, add_stored_cb, g_object_ref (self));
}

/* update ---- */

static void
update_secret_done_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  g_autoptr(GError) error = NULL;

  if (op->secret != NULL)
    {
      if (!lt_secret_store_store_finish (LT_SECRET_STORE (source), result, &error))
        {
          /* The settings are saved; the old key (if any) stays. */
          return_error (self, keyring_error (op->target->name, error));
          return;
        }
    }
  else if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error) &&
           !g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND))
    g_message ("Could not remove the secret key of storage target %s from the keyring: %s",
               op->target->name, error->message);

  return_success (self);
}

static void
updated_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  guint position;

  if (!target_job_succeeded (self, source, result, _("Could not save the storage target: ")))
    return;

  if (!find_name (self, op->target->name, &position))
    g_assert_not_reached ();
  target_assign (item (self, position), op->target);
  emit_changed (self, op->target->name);

  if (op->secret != NULL)
    {
      g_autofree char *label = secret_label (op->target);

      lt_secret_store_store_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET,
                                   op->target->name, label, op->secret, NULL,
                                   update_secret_done_cb, g_object_ref (self));
    }
  else if (op->clear_secret)
    lt_secret_store_clear_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET,
                                 op->target->name, NULL, update_secret_done_cb,
                                 g_object_ref (self));
  else
    return_success (self);
}

static void
start_update (LtStorageTargets *self,
              Op               *op)
{
  LtStorageTarget *current;
  guint position;

  if (!find_target (self, op, &position))
    return;

  current = item (self, position);
  op->target->create_time = current->create_time;
  op->target->paused = current->paused;
  lt_catalog_run_async (self->catalog, update_job, target_copy (op->target), g_object_unref,
                        NULL, NULL, updated_cb, g_object_ref (self));
}

/* remove ---- */

static void
remove_cleared_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  g_autoptr(GError) error = NULL;

  /* The target is gone either way; a key left behind opens nothing Livetape uses. */
  if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error) &&
      !g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND))
    g_message ("Could not remove the secret key of storage target %s from the keyring: %s",
               op->target->name, error->message);

  return_success (self);
}

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  guint position;
  gboolean had_key;

  if (!target_job_succeeded (self, source, result, _("Could not delete the storage target: ")))
    return;

  if (!find_name (self, op->target->name, &position))
    g_assert_not_reached ();
  had_key = item (self, position)->access_key_id != NULL;
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  emit_changed (self, op->target->name);

  if (!had_key)
    {
      return_success (self);
      return;
    }
  lt_secret_store_clear_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET, op->target->name,
                               NULL, remove_cleared_cb, g_object_ref (self));
}

static void
start_remove (LtStorageTargets *self,
              Op               *op)
{
  guint position;

  if (!find_target (self, op, &position))
    return;

  /* Durable: a target that came back after a power loss would be uploaded to again. */
  lt_catalog_run_durable_async (self->catalog, delete_job, g_object_ref (op->target),
                                g_object_unref, NULL, NULL, removed_cb, g_object_ref (self));
}

/* pause ---- */

static void
paused_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LtStorageTargets) self = user_data;
  Op *op = running_op (self);
  LtStorageTarget *target;
  guint position;

  if (!target_job_succeeded (self, source, result, _("Could not save the storage target: ")))
    return;

  if (!find_name (self, op->target->name, &position))
    g_assert_not_reached ();
  target = item (self, position);
  target_set_paused (target, op->paused);
  if (op->paused)
    lt_storage_target_set_state (target, LT_STORAGE_TARGET_STATE_PAUSED, target->last_error);
  else if (target->state == LT_STORAGE_TARGET_STATE_PAUSED)
    lt_storage_target_set_state (target, LT_STORAGE_TARGET_STATE_UNKNOWN, target->last_error);
  emit_changed (self, op->target->name);
  return_success (self);
}

static void
start_set_paused (LtStorageTargets *self,
                  Op               *op)
{
  LtStorageTarget *copy;
  guint position;

  if (!find_target (self, op, &position))
    return;

  copy = target_copy (item (self, position));
  copy->paused = op->paused;
  copy->update_time = g_get_real_time () / G_USEC_PER_SEC;
  lt_catalog_run_async (self->catalog, update_job, copy, g_object_unref, NULL, NULL,
                        paused_cb, g_object_ref (self));
}

/* ---- the queue ------------------------------------------------------------------------ */

static void
start_running (LtStorageTargets *self)
{
  Op *op = running_op (self);

  switch (op->kind)
    {
    case OP_LOAD:
      lt_catalog_run_async (self->catalog, list_job, NULL, NULL,
                            (GDestroyNotify) g_ptr_array_unref, NULL,
                            list_cb, g_object_ref (self));
      break;
    case OP_ADD:
      start_add (self, op);
      break;
    case OP_UPDATE:
      start_update (self, op);
      break;
    case OP_REMOVE:
      start_remove (self, op);
      break;
    case OP_SET_PAUSED:
      start_set_paused (self, op);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
enqueue (LtStorageTargets    *self,
         Op                  *op,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  GTask *task = _lt_op_queue_task_new (self, op, op_free, source_tag, cancellable, callback,
                                       user_data);

  _lt_op_queue_push (&self->ops, task, (LtOpQueueStartFunc) start_running, self);
}

/* Fails at once (without queueing) for what can be known without the list. */
static void
report_now (LtStorageTargets    *self,
            GError              *error,
            gpointer             source_tag,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_return_error (task, error);
}

static gboolean
finish (LtStorageTargets  *self,
        GAsyncResult      *result,
        gpointer           source_tag,
        GError           **error)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The name as given on a call that names an existing target: "local" is refused. */
static gboolean
check_existing_name (const char  *name,
                     GError     **error)
{
  if (g_ascii_strcasecmp (name, LT_STORAGE_LOCAL_TARGET) == 0)
    {
      g_propagate_error (error, built_in_error ());
      return FALSE;
    }
  return TRUE;
}

/* ---- public API ----------------------------------------------------------------------- */

void
lt_storage_targets_load_async (LtStorageTargets    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Op *op;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (Op, 1);
  op->kind = OP_LOAD;
  enqueue (self, op, lt_storage_targets_load_async, cancellable, callback, user_data);
}

gboolean
lt_storage_targets_load_finish (LtStorageTargets  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  return finish (self, result, lt_storage_targets_load_async, error);
}

void
lt_storage_targets_add_async (LtStorageTargets    *self,
                              LtStorageTarget     *target,
                              const char          *secret_key,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GError *error = NULL;
  gint64 now;
  Op *op;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (LT_IS_STORAGE_TARGET (target));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (target->kind != LT_STORAGE_TARGET_KIND_S3)
    error = built_in_error ();
  if (error == NULL)
    {
      lt_storage_target_check (target, &error);
      if (error == NULL)
        check_secret (target, secret_key, TRUE, &error);
    }
  if (error != NULL)
    {
      report_now (self, error, lt_storage_targets_add_async, callback, user_data);
      return;
    }

  now = g_get_real_time () / G_USEC_PER_SEC;
  op = g_new0 (Op, 1);
  op->kind = OP_ADD;
  op->target = target_copy (target);
  op->target->paused = FALSE;
  op->target->create_time = now;
  op->target->update_time = now;
  op->secret = is_empty (secret_key) ? NULL : g_strdup (secret_key);
  enqueue (self, op, lt_storage_targets_add_async, cancellable, callback, user_data);
}

gboolean
lt_storage_targets_add_finish (LtStorageTargets  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  return finish (self, result, lt_storage_targets_add_async, error);
}

void
lt_storage_targets_update_async (LtStorageTargets    *self,
                                 LtStorageTarget     *target,
                                 const char          *secret_key,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GError *error = NULL;
  Op *op;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (LT_IS_STORAGE_TARGET (target));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (target->kind != LT_STORAGE_TARGET_KIND_S3 ||
      g_strcmp0 (target->name, LT_STORAGE_LOCAL_TARGET) == 0)
    error = built_in_error ();
  if (error == NULL && lt_storage_target_check (target, &error) && secret_key != NULL &&
      *secret_key == '\0' && target->access_key_id != NULL)
    error = g_error_new (LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET,
                         _("A target with an access key id needs its secret access key"));
  if (error == NULL && !is_empty (secret_key))
    check_secret (target, secret_key, FALSE, &error);
  if (error != NULL)
    {
      report_now (self, error, lt_storage_targets_update_async, callback, user_data);
      return;
    }

  op = g_new0 (Op, 1);
  op->kind = OP_UPDATE;
  op->target = target_copy (target);
  op->target->update_time = g_get_real_time () / G_USEC_PER_SEC;
  op->secret = is_empty (secret_key) ? NULL : g_strdup (secret_key);
  /* An anonymous target keeps no key: dropping the access key id drops the key too. */
  op->clear_secret = (secret_key != NULL && *secret_key == '\0') ||
                     (secret_key == NULL && target->access_key_id == NULL);
  enqueue (self, op, lt_storage_targets_update_async, cancellable, callback, user_data);
}

gboolean
lt_storage_targets_update_finish (LtStorageTargets  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return finish (self, result, lt_storage_targets_update_async, error);
}

static Op *
op_for_name (OpKind      kind,
             const char *name)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  op->target = g_object_new (LT_TYPE_STORAGE_TARGET, NULL);
  op->target->kind = LT_STORAGE_TARGET_KIND_S3;
  op->target->name = g_ascii_strdown (name, -1);
  return op;
}

void
lt_storage_targets_remove_async (LtStorageTargets    *self,
                                 const char          *name,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GError *error = NULL;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (!check_existing_name (name, &error))
    {
      report_now (self, error, lt_storage_targets_remove_async, callback, user_data);
      return;
    }
  enqueue (self, op_for_name (OP_REMOVE, name), lt_storage_targets_remove_async, cancellable,
           callback, user_data);
}

gboolean
lt_storage_targets_remove_finish (LtStorageTargets  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return finish (self, result, lt_storage_targets_remove_async, error);
}

void
lt_storage_targets_set_paused_async (LtStorageTargets    *self,
                                     const char          *name,
                                     gboolean             paused,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GError *error = NULL;
  Op *op;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (!check_existing_name (name, &error))
    {
      report_now (self, error, lt_storage_targets_set_paused_async, callback, user_data);
      return;
    }
  op = op_for_name (OP_SET_PAUSED, name);
  op->paused = !!paused;
  enqueue (self, op, lt_storage_targets_set_paused_async, cancellable, callback, user_data);
}

gboolean
lt_storage_targets_set_paused_finish (LtStorageTargets  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  return finish (self, result, lt_storage_targets_set_paused_async, error);
}

/* ---- secrets for the sync engine ------------------------------------------------------ */

static void
secret_looked_up_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtStorageTarget *target = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  char *secret;

  secret = lt_secret_store_lookup_finish (LT_SECRET_STORE (source), result, &error);
  if (secret != NULL)
    g_task_return_pointer (task, secret, (GDestroyNotify) free_secret);
  else if (g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND))
    g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND,
                             _("The keyring has no secret key for storage target “%s”; set "
                               "it again"), target->name);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_KEYRING,
                             _("Cannot read the secret key of storage target “%s” from the "
                               "keyring: %s"), target->name, error->message);
}

void
lt_storage_targets_lookup_secret_async (LtStorageTargets    *self,
                                        LtStorageTarget     *target,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (LT_IS_STORAGE_TARGET (target));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_storage_targets_lookup_secret_async);
  g_task_set_task_data (task, g_object_ref (target), g_object_unref);

  if (target->access_key_id == NULL)
    {
      g_task_return_pointer (task, g_strdup (""), g_free);
      return;
    }

  lt_secret_store_lookup_async (self->secrets, LT_SECRET_KIND_STORAGE_TARGET, target->name,
                                cancellable, secret_looked_up_cb, g_object_ref (task));
}

char *
lt_storage_targets_lookup_secret_finish (LtStorageTargets  *self,
                                         GAsyncResult      *result,
                                         GError           **error)
{
  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lt_storage_targets_lookup_secret_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- test connection ------------------------------------------------------------------ */

/* Runs @thread_func for @task on @bucket of the local folder target @target: a check that
 * touches the disk stays off the main thread. */
static void
run_local_check (GTask           *task,
                 LtStorageTarget *target,
                 const char      *bucket,
                 GTaskThreadFunc  thread_func)
{
  char **args = g_new0 (char *, 3);   /* local_root, bucket */

  args[0] = g_strdup (target->local_root);
  args[1] = g_strdup (bucket);
  g_task_set_task_data (task, args, (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, thread_func);
}

/* Local: the bucket folder can be made, and a file written, synced and removed in it. */
static void
test_local_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  char **args = task_data;   /* local_root, bucket */
  g_autofree char *dir = NULL;
  g_autofree char *probe = NULL;
  g_autoptr(GError) error = NULL;

  if (!lt_storage_prepare_bucket (args[0], LT_STORAGE_LOCAL_TARGET, args[1], &error))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               g_error_matches (error, LT_RULE_ERROR,
                                                LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED)
                               ? LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET
                               : LT_STORAGE_TARGETS_ERROR_NOT_WRITABLE,
                               "%s", error->message);
      return;
    }

  dir = g_build_filename (args[0], args[1], NULL);
  probe = g_build_filename (dir, ".livetape-write-test", NULL);
  if (!g_file_set_contents_full (probe, "livetape", -1, G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 &error))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_NOT_WRITABLE,
                               _("Bucket “%s” in the local storage folder %s cannot be written: "
                                 "%s"), args[1], args[0], error->message);
      return;
    }
  g_unlink (probe);
  g_task_return_boolean (task, TRUE);
}

void
lt_storage_targets_test_connection_async (LtStorageTargets    *self,
                                          LtStorageTarget     *target,
                                          const char          *bucket,
                                          guint                timeout_ms,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (LT_IS_STORAGE_TARGET (target));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_storage_targets_test_connection_async);

  if (is_empty (bucket))
    bucket = target->bucket;
  if (is_empty (bucket) || !is_bucket_name (bucket))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET,
                               is_empty (bucket)
                               ? _("No bucket was given and storage target “%s” has no default "
                                   "bucket")
                               : _("The bucket name given for storage target “%s” is not "
                                   "valid"), target->name);
      return;
    }

  if (target->kind == LT_STORAGE_TARGET_KIND_LOCAL)
    {
      run_local_check (task, target, bucket, test_local_thread);
      return;
    }

  _lt_storage_targets_test_s3 (self, target, bucket,
                               timeout_ms > 0 ? timeout_ms : DEFAULT_TEST_TIMEOUT_MS,
                               g_steal_pointer (&task));
}

gboolean
lt_storage_targets_test_connection_finish (LtStorageTargets  *self,
                                           GAsyncResult      *result,
                                           GError           **error)
{
  return finish (self, result, lt_storage_targets_test_connection_async, error);
}

/* ---- the rule store's bucket check ---------------------------------------------------- */

static void
rule_local_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  char **args = task_data;   /* local_root, bucket */
  GError *error = NULL;

  if (lt_storage_prepare_bucket (args[0], LT_STORAGE_LOCAL_TARGET, args[1], &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

typedef struct
{
  char  *endpoint;
  char  *bucket;
  guint  timeout_ms;
} RuleCheck;

static void
rule_check_free (gpointer data)
{
  RuleCheck *check = data;

  g_free (check->endpoint);
  g_free (check->bucket);
  g_free (check);
}

static void
rule_tested_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  const char *bucket = ((RuleCheck *) g_task_get_task_data (task))->bucket;

  if (lt_storage_targets_test_connection_finish (LT_STORAGE_TARGETS (source), result, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Every reason the bucket cannot be used is InvalidOssBucket.NotFound for the API (the
   * cloud's code for "no such bucket you can write to"); the message says which. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, g_steal_pointer (&error));
  else if (g_error_matches (error, LT_STORAGE_TARGETS_ERROR,
                            LT_STORAGE_TARGETS_ERROR_BUCKET_NOT_FOUND))
    g_task_return_new_error (task, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                             "%s", error->message);
  else
    g_task_return_new_error (task, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                             _("Bucket “%s” cannot be checked, so the rule was not saved: %s"),
                             bucket, error->message);
}

static void check_rule_resolved (LtStorageTargets *self,
                                 GTask            *task,
                                 gboolean          reloaded);

static void
rule_reloaded_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* A failed reload leaves the list as it was: the answer is "no such target". */
  if (!lt_storage_targets_load_finish (LT_STORAGE_TARGETS (source), result, &error))
    g_debug ("Could not reload the storage targets: %s", error->message);
  check_rule_resolved (LT_STORAGE_TARGETS (source), task, TRUE);
}

static void
check_rule_resolved (LtStorageTargets *self,
                     GTask            *task,
                     gboolean          reloaded)
{
  RuleCheck *check = g_task_get_task_data (task);
  const char *endpoint = check->endpoint;
  const char *bucket = check->bucket;
  LtStorageTarget *target;

  target = lt_storage_targets_resolve (self, endpoint);
  if (target == NULL && !reloaded)
    {
      /* `livetape --add-storage-target` may have added it to the catalog while this
       * process runs: look again before refusing. */
      lt_storage_targets_load_async (self, NULL, rule_reloaded_cb, g_object_ref (task));
      return;
    }
  if (target == NULL)
    {
      g_task_return_new_error (task, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                               _("No storage target is named “%s” or has it as its endpoint’s "
                                 "host, so bucket “%s” does not exist (add the target first, "
                                 "for example with livetape --add-storage-target)"),
                               endpoint, bucket);
      return;
    }

  if (target->kind == LT_STORAGE_TARGET_KIND_LOCAL)
    {
      /* As before storage targets: the bucket folder is made when needed. */
      run_local_check (task, target, bucket, rule_local_thread);
      return;
    }

  lt_storage_targets_test_connection_async (self, target, bucket, check->timeout_ms,
                                            g_task_get_cancellable (task), rule_tested_cb,
                                            g_object_ref (task));
}

void
lt_storage_targets_check_rule_bucket_async (LtStorageTargets    *self,
                                            const char          *endpoint,
                                            const char          *bucket,
                                            guint                timeout_ms,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  RuleCheck *check;

  g_return_if_fail (LT_IS_STORAGE_TARGETS (self));
  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (bucket != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_storage_targets_check_rule_bucket_async);
  check = g_new0 (RuleCheck, 1);
  check->endpoint = g_strdup (endpoint);
  check->bucket = g_strdup (bucket);
  check->timeout_ms = timeout_ms;
  g_task_set_task_data (task, check, rule_check_free);
  check_rule_resolved (self, task, FALSE);
}

gboolean
lt_storage_targets_check_rule_bucket_finish (LtStorageTargets  *self,
                                             GAsyncResult      *result,
                                             GError           **error)
{
  return finish (self, result, lt_storage_targets_check_rule_bucket_async, error);
}

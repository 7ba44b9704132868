/* lt-engine.c: the one object that owns the core services.
 *
 * It resolves the data directory (created 0700), opens the settings (a keyfile inside a
 * given data dir, so that several instances never share state), the catalog, the rule
 * store, the keyring-backed secret store and the control API. Start is one async chain:
 * open the catalog → load the rules → register the API actions → listen. API access keys
 * are created here because they span two stores: the secret goes to the keyring first,
 * then the id to the catalog, and a failed insert takes the secret back out, so the
 * catalog never names a key whose secret is missing.
 *
 * The ingest comes up last: the stream registry exists from construction; start loads the
 * demo and pull sources from the catalog's ingest_sources table (recording the demo there,
 * enabled, on the first start), then starts nginx without waiting for it. nginx failing
 * (missing, port in use) never fails the start: the ingest server keeps its state and
 * last error for the console, and retries by itself.
 */
#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/random.h>

#include "lt-api-index.h"
#include "lt-api-notify.h"
#include "lt-api-recording.h"
#include "lt-api-rules.h"
#include "lt-api-streams.h"
#include "lt-api-timeline.h"
#include "lt-engine-private.h"
#include "lt-index-files.h"
#include "lt-retention.h"
#include "lt-storage.h"

#define SETTINGS_SCHEMA_ID   APP_ID
#define SETTINGS_PATH        "/io/github/livetape/Livetape/"
#define ACCESS_KEY_ID_PREFIX "LTAK"
#define ACCESS_KEY_ID_RANDOM_LENGTH 20
#define ACCESS_KEY_SECRET_LENGTH    30
/* Where the first run records the demo stream. */
#define DEMO_BUCKET "demo"
/* How long an exit waits for the recordings to close their files. */
#define RECORDING_SHUTDOWN_TIMEOUT_MS 10000


G_DEFINE_TYPE (LtEngine, lt_engine, G_TYPE_OBJECT)

G_DEFINE_QUARK (lt-engine-error-quark, lt_engine_error)

enum {
  PROP_0,
  PROP_DATA_DIR,
  PROP_API_LISTEN,
  PROP_DEMO_ENABLED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
parse_listen (const char  *listen,
              char       **host_out,
              guint16     *port_out,
              GError     **error)
{
  g_autofree char *host = NULL;
  const char *port_str;
  guint64 port;

  if (listen == NULL || *listen == '\0')
    {
      g_set_error_literal (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                           _("The control API address is empty; expected HOST:PORT."));
      return FALSE;
    }

  if (listen[0] == '[')
    {
      const char *end = strchr (listen, ']');
      g_autofree char *inner = NULL;

      if (end == NULL || end[1] != ':')
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s” is not a control API address; expected HOST:PORT or "
                         "[IPv6]:PORT."), listen);
          return FALSE;
        }
      inner = g_strndup (listen + 1, end - listen - 1);
      if (!g_hostname_is_ip_address (inner) || strchr (inner, ':') == NULL)
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s” is not an IPv6 address."), inner);
          return FALSE;
        }
      host = g_strndup (listen, end - listen + 1);
      port_str = end + 2;
    }
  else
    {
      const char *colon = strrchr (listen, ':');

      if (colon == NULL)
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s” has no port; expected HOST:PORT, e.g. 127.0.0.1:8088."),
                       listen);
          return FALSE;
        }
      host = g_strndup (listen, colon - listen);
      port_str = colon + 1;

      if (strchr (host, ':') != NULL)
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s”: write an IPv6 address in brackets, e.g. [::1]:8088."),
                       listen);
          return FALSE;
        }
      if (*host == '\0')
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s” has no host; expected HOST:PORT, e.g. 127.0.0.1:8088."),
                       listen);
          return FALSE;
        }
      /* What the API server can bind: an address, or both loopbacks for "localhost". */
      if (!g_hostname_is_ip_address (host) && g_ascii_strcasecmp (host, "localhost") != 0)
        {
          g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                       _("“%s” is not an IP address or “localhost”."), host);
          return FALSE;
        }
    }

  if (*port_str == '\0' || strlen (port_str) > 5 ||
      !g_ascii_string_to_unsigned (port_str, 10, 0, G_MAXUINT16, &port, NULL))
    {
      g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN,
                   _("“%s” is not a valid port; expected a number from 0 to 65535."),
                   port_str);
      return FALSE;
    }

  if (host_out != NULL)
    *host_out = g_steal_pointer (&host);
  if (port_out != NULL)
    *port_out = (guint16) port;
  return TRUE;
}

gboolean
lt_engine_check_api_listen (const char  *listen,
                            GError     **error)
{
  return parse_listen (listen, NULL, NULL, error);
}

/* Fills @buf from getrandom(2), the kernel CSPRNG. */
static gboolean
fill_random (guint8  *buf,
             gsize    len,
             GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = getrandom (buf + done, len - done, 0);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot read random bytes: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      done += n;
    }

  return TRUE;
}

/* @length characters drawn uniformly from @alphabet (bytes that would bias the modulo are
 * rejected). */
static char *
random_string (const char  *alphabet,
               gsize        length,
               GError     **error)
{
  gsize n_symbols = strlen (alphabet);
  guint limit = 256 - (256 % n_symbols);
  g_autofree char *out = g_malloc0 (length + 1);
  guint8 buf[64];
  gsize i = 0;

  while (i < length)
    {
      if (!fill_random (buf, sizeof buf, error))
        {
          explicit_bzero (out, length);
          return NULL;
        }
      for (gsize j = 0; j < sizeof buf && i < length; j++)
        {
          if (buf[j] < limit)
            out[i++] = alphabet[buf[j] % n_symbols];
        }
    }
  explicit_bzero (buf, sizeof buf);

  return g_steal_pointer (&out);
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

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **str_pointer,
         const char  *new_str)
{
  if (g_strcmp0 (*str_pointer, new_str) == 0)
    return FALSE;

  g_free (*str_pointer);
  *str_pointer = g_strdup (new_str);
  return TRUE;
}

static void
setup_settings (LtEngine *self)
{
  static gsize said_once = 0;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SETTINGS_SCHEMA_ID, TRUE);

  if (schema == NULL)
    {
      if (g_once_init_enter (&said_once))
        {
          g_debug ("The settings schema %s is not installed; using built-in defaults "
                   "(set GSETTINGS_SCHEMA_DIR to use a build tree's schema)",
                   SETTINGS_SCHEMA_ID);
          g_once_init_leave (&said_once, 1);
        }
      return;
    }

  if (self->data_dir_given)
    {
      g_autofree char *path = g_build_filename (self->data_dir, "settings.ini", NULL);
      g_autoptr(GSettingsBackend) backend =
        g_keyfile_settings_backend_new (path, SETTINGS_PATH, "livetape");

      self->settings = g_settings_new_full (schema, backend,
                                            g_settings_schema_get_path (schema) != NULL
                                            ? NULL : SETTINGS_PATH);
    }
  else
    {
      self->settings = g_settings_new_full (schema, NULL,
                                            g_settings_schema_get_path (schema) != NULL
                                            ? NULL : SETTINGS_PATH);
    }

  if (!self->api_listen_set && g_settings_schema_has_key (schema, "api-listen"))
    {
      g_autofree char *listen = g_settings_get_string (self->settings, "api-listen");

      if (listen != NULL && *listen != '\0')
        set_str (&self->api_listen, listen);
    }
}

/* Whether @key can be read: there are settings and their schema has it (an older schema
 * installed system-wide may lack newer keys, and reading a missing key aborts). */
static gboolean
has_setting (LtEngine   *self,
             const char *key)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  if (self->settings == NULL)
    return FALSE;
  g_object_get (self->settings, "settings-schema", &schema, NULL);
  return schema != NULL && g_settings_schema_has_key (schema, key);
}

/* A rule's OssEndpoint/OssBucket must name a storage target's usable bucket. An S3
 * target is asked (test connection) within this time; the API call waits for it. */
#define RULE_BUCKET_CHECK_TIMEOUT_MS 10000

static void
check_bucket_async (const char          *endpoint,
                    const char          *bucket,
                    gpointer             user_data,
                    GAsyncReadyCallback  callback,
                    gpointer             callback_data)
{
  lt_storage_targets_check_rule_bucket_async (LT_STORAGE_TARGETS (user_data), endpoint, bucket,
                                              RULE_BUCKET_CHECK_TIMEOUT_MS, NULL, callback,
                                              callback_data);
}

static gboolean
check_bucket_finish (GAsyncResult  *result,
                     gpointer       user_data,
                     GError       **error)
{
  return lt_storage_targets_check_rule_bucket_finish (LT_STORAGE_TARGETS (user_data), result,
                                                      error);
}

static char *
dup_signing_key (const char *domain,
                 gpointer    user_data)
{
  return lt_notify_store_dup_signing_key (LT_NOTIFY_STORE (user_data), domain);
}

static void setup_sync (LtEngine *self);

static void
lt_engine_constructed (GObject *object)
{
  LtEngine *self = LT_ENGINE (object);
  g_autofree char *catalog_path = NULL;

  G_OBJECT_CLASS (lt_engine_parent_class)->constructed (object);

  if (self->data_dir == NULL)
    {
      self->data_dir = g_build_filename (g_get_user_data_dir (), "livetape", NULL);
    }
  else
    {
      g_autofree char *given = g_steal_pointer (&self->data_dir);

      /* Absolute, because it also names the keyring instance. */
      self->data_dir = g_canonicalize_filename (given, NULL);
      self->data_dir_given = TRUE;
    }

  if (g_mkdir_with_parents (self->data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      self->data_dir_error = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                                          _("Cannot create the data directory %s: %s"),
                                          self->data_dir, g_strerror (saved_errno));
    }

  if (!self->api_listen_set)
    self->api_listen = g_strdup (LT_API_DEFAULT_LISTEN);

  /* Without its directory the keyfile backend can only warn; start reports the error. */
  if (self->data_dir_error == NULL)
    setup_settings (self);

  catalog_path = g_build_filename (self->data_dir, "catalog.db", NULL);
  self->catalog = lt_catalog_new (catalog_path);
  self->rule_store = lt_rule_store_new (self->catalog);
  self->local_storage_root =
    lt_storage_default_local_root (self->data_dir_given ? self->data_dir : NULL);
  self->secret_store = lt_secret_store_new (self->data_dir);
  self->storage_targets = lt_storage_targets_new (self->catalog, self->secret_store,
                                                  self->local_storage_root);
  lt_rule_store_set_bucket_check_async (self->rule_store, check_bucket_async,
                                        check_bucket_finish,
                                        g_object_ref (self->storage_targets), g_object_unref);
  self->registry = lt_stream_registry_new ();
  self->pull_sources = g_list_store_new (LT_TYPE_PULL_SOURCE);
  self->recording = lt_recording_manager_new (self->catalog, self->rule_store, self->registry,
                                              self->local_storage_root);
  self->notify = lt_notify_store_new (self->catalog, self->secret_store);
  self->callbacks = lt_callback_queue_new (self->catalog);
  lt_callback_queue_set_key_func (self->callbacks, dup_signing_key,
                                  g_object_ref (self->notify), g_object_unref);
  lt_recording_manager_set_notify (self->recording, self->notify, self->callbacks);
  setup_sync (self);
}

/* The sync engine (issue 6): S3 targets record into the spool folder (the "spool-dir"
 * setting, else DATA_DIR/spool) and are uploaded from there. */
static void
setup_sync (LtEngine *self)
{
  g_autofree char *spool = NULL;

  if (has_setting (self, "spool-dir"))
    spool = g_settings_get_string (self->settings, "spool-dir");
  if (spool == NULL || spool[0] == '\0')
    {
      g_free (spool);
      spool = g_build_filename (self->data_dir, "spool", NULL);
    }
  self->sync = lt_sync_engine_new (self->catalog, G_OBJECT (self->storage_targets), spool);
  _lt_recording_manager_set_sync_engine (self->recording, self->sync);
  _lt_index_files_set_sync_engine (self->catalog, self->sync);
}

/* Applies one sync setting (or all with @key NULL) to the sync engine; they may change at
 * any time (Preferences, gsettings). */
static void
apply_sync_settings (LtEngine   *self,
                     const char *key)
{
  if (self->sync == NULL)
    return;
#define WANTS(name) ((key == NULL || g_str_equal (key, name)) && has_setting (self, name))
  if (WANTS ("sync-concurrency"))
    lt_sync_engine_set_concurrency (self->sync,
                                    g_settings_get_uint (self->settings, "sync-concurrency"));
  if (WANTS ("sync-bandwidth-limit"))
    lt_sync_engine_set_bandwidth_limit (self->sync,
                                        g_settings_get_uint64 (self->settings,
                                                               "sync-bandwidth-limit"));
  if (WANTS ("multipart-threshold"))
    lt_sync_engine_set_multipart_threshold (self->sync,
                                            g_settings_get_uint64 (self->settings,
                                                                   "multipart-threshold"));
  if (WANTS ("spool-keep-days"))
    lt_sync_engine_set_keep_days (self->sync,
                                  g_settings_get_uint (self->settings, "spool-keep-days"));
#undef WANTS
}

static void
sync_settings_changed_cb (LtEngine   *self,
                          const char *key,
                          GSettings  *settings)
{
  apply_sync_settings (self, key);
}

/* Applies the sync settings (and follows their changes) and starts uploading: after
 * recovery, which queues what a crash left closed. */
static void
start_sync (LtEngine *self)
{
  apply_sync_settings (self, NULL);
  if (self->settings != NULL)
    g_signal_connect_object (self->settings, "changed",
                             G_CALLBACK (sync_settings_changed_cb), self, G_CONNECT_SWAPPED);
  lt_sync_engine_start (self->sync);
}

static void
lt_engine_dispose (GObject *object)
{
  LtEngine *self = LT_ENGINE (object);

  lt_engine_shutdown (self);

  g_clear_object (&self->api_server);
  g_clear_object (&self->recording);
  if (self->catalog != NULL)
    _lt_index_files_set_sync_engine (self->catalog, NULL);
  g_clear_object (&self->sync);
  g_clear_object (&self->callbacks);
  g_clear_object (&self->notify);
  g_clear_object (&self->demo_source);
  g_clear_object (&self->pull_sources);
  g_clear_object (&self->ingest_server);
  g_clear_object (&self->registry);
  g_clear_object (&self->rule_store);
  g_clear_object (&self->storage_targets);
  g_clear_object (&self->secret_store);
  g_clear_object (&self->catalog);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (lt_engine_parent_class)->dispose (object);
}

static void
lt_engine_finalize (GObject *object)
{
  LtEngine *self = LT_ENGINE (object);

  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->local_storage_root, g_free);
  g_clear_pointer (&self->default_domain, g_free);
  g_clear_error (&self->api_error);
  g_clear_pointer (&self->api_listen, g_free);
  g_clear_error (&self->data_dir_error);

  G_OBJECT_CLASS (lt_engine_parent_class)->finalize (object);
}

static void
lt_engine_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LtEngine *self = LT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;

    case PROP_API_LISTEN:
      g_value_set_string (value, self->api_listen);
      break;

    case PROP_DEMO_ENABLED:
      g_value_set_boolean (value, self->demo_enabled);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_engine_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  LtEngine *self = LT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;

    case PROP_API_LISTEN:
      lt_engine_set_api_listen (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_engine_class_init (LtEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = lt_engine_constructed;
  object_class->dispose = lt_engine_dispose;
  object_class->finalize = lt_engine_finalize;
  object_class->get_property = lt_engine_get_property;
  object_class->set_property = lt_engine_set_property;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_API_LISTEN] =
    g_param_spec_string ("api-listen", NULL, NULL,
                         LT_API_DEFAULT_LISTEN,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DEMO_ENABLED] =
    g_param_spec_boolean ("demo-enabled", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_engine_init (LtEngine *self)
{
  self->ingest_enabled = TRUE;
}

LtEngine *
lt_engine_new (const char *data_dir)
{
  return g_object_new (LT_TYPE_ENGINE, "data-dir", data_dir, NULL);
}

const char *
lt_engine_get_local_storage_root (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->local_storage_root;
}

const char *
lt_engine_get_data_dir (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->data_dir;
}

void
lt_engine_set_api_listen (LtEngine   *self,
                          const char *listen)
{
  g_return_if_fail (LT_IS_ENGINE (self));

  self->api_listen_set = TRUE;
  if (set_str (&self->api_listen, listen))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_LISTEN]);
}

const char *
lt_engine_get_api_listen (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->api_listen;
}

GSettings *
lt_engine_get_settings (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->settings;
}

LtCatalog *
lt_engine_get_catalog (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->catalog;
}

LtRuleStore *
lt_engine_get_rule_store (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->rule_store;
}

LtSecretStore *
lt_engine_get_secret_store (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->secret_store;
}

LtApiServer *
lt_engine_get_api_server (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->api_server;
}

const GError *
lt_engine_get_api_error (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->api_error;
}

char *
lt_engine_dup_api_url (LtEngine *self)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  if (!self->started || self->shut_down || self->api_listen == NULL ||
      self->api_server == NULL || self->api_error != NULL)
    return NULL;

  if (!parse_listen (self->api_listen, &host, NULL, NULL))
    return NULL;

  return g_strdup_printf ("http://%s:%u/", host,
                          (guint) lt_api_server_get_port (self->api_server));
}

/* Start: catalog → rules → API. Each step checks for a shutdown that happened while it
 * was in flight, so that a daemon stopped during start exits quietly. */

static gboolean
start_check_shut_down (LtEngine *self,
                       GTask    *task)
{
  if (!self->shut_down)
    return FALSE;

  self->starting = FALSE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The engine was shut down while starting."));
  return TRUE;
}

static void
start_fail (LtEngine *self,
            GTask    *task,
            GError   *error)
{
  self->starting = FALSE;
  g_task_return_error (task, error);
}

static void start_ingest (LtEngine *self,
                          GTask    *task);
static void start_recording_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data);
static void start_notify_loaded_cb (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data);

static void
start_rules_loaded_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lt_rule_store_load_finish (LT_RULE_STORE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot load the recording rules: "));
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  lt_notify_store_load_async (self->notify, g_task_get_cancellable (task),
                              start_notify_loaded_cb, g_object_ref (task));
}

static void
start_notify_loaded_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lt_notify_store_load_finish (LT_NOTIFY_STORE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot load the callback settings: "));
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  /* A command needs the stores only; what the recordings and queues hold belongs to the
   * engine running them, which may be a daemon on this data directory right now. */
  if (self->command_mode)
    {
      self->starting = FALSE;
      self->started = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Callbacks queued before a crash go out again; then, before any stream, what the last
   * run left of its recordings is recovered. */
  if (has_setting (self, "callback-expiry-hours"))
    lt_callback_queue_set_expiry (self->callbacks,
                                  g_settings_get_uint (self->settings,
                                                       "callback-expiry-hours") * 3600);
  lt_callback_queue_start (self->callbacks);
  lt_recording_manager_start_async (self->recording, g_task_get_cancellable (task),
                                    start_recording_cb, g_object_ref (task));
}

/* Retention (lt-retention.c): a pass after recovery, then every hour; one at a time. The
 * pass's callback holds only a weak reference: shutdown cancels the pass and must not wait
 * for it. ---------------------------------------------------------------------------- */

#define RETENTION_INTERVAL_S 3600

static guint
retention_setting (LtEngine   *self,
                   const char *key,
                   guint       fallback)
{
  return has_setting (self, key) ? g_settings_get_uint (self->settings, key) : fallback;
}

static void
retention_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(LtEngine) self = g_weak_ref_get (weak);
  g_autoptr(GError) error = NULL;
  LtRetentionResult out = { 0, };

  g_weak_ref_clear (weak);
  g_free (weak);

  if (!lt_retention_run_finish (LT_CATALOG (source), result, &out, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
        g_message ("%s", error->message);
    }
  else
    g_debug ("Retention: %" G_GUINT64_FORMAT " slice records, %" G_GUINT64_FORMAT
             " index-file records dropped, %" G_GUINT64_FORMAT " files deleted",
             out.slices_dropped, out.index_files_dropped, out.files_deleted);

  if (self != NULL)
    g_clear_object (&self->retention_cancellable);
}

static void
run_retention (LtEngine *self)
{
  LtRetentionPolicy policy = { 0, };
  GWeakRef *weak;

  /* A pass runs while its cancellable is set; shutdown clears it and sets shut_down. */
  if (self->retention_cancellable != NULL || self->shut_down || self->catalog == NULL)
    return;

  policy.now_us = g_get_real_time ();
  policy.slice_days = retention_setting (self, "slice-retention-days",
                                         LT_RETENTION_DEFAULT_SLICE_DAYS);
  policy.index_days = retention_setting (self, "index-retention-days",
                                         LT_RETENTION_DEFAULT_INDEX_DAYS);
  policy.spool_days = retention_setting (self, "spool-retention-days", 0);
  policy.local_root = self->local_storage_root;

  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  self->retention_cancellable = g_cancellable_new ();
  lt_retention_run_async (self->catalog, &policy, self->retention_cancellable,
                          retention_done_cb, weak);
}

/* The source is removed at shutdown, before self can go. */
static gboolean
retention_tick_cb (gpointer user_data)
{
  run_retention (LT_ENGINE (user_data));
  return G_SOURCE_CONTINUE;
}

static void
start_retention (LtEngine *self)
{
  run_retention (self);
  if (self->retention_source == 0)
    self->retention_source = g_timeout_add_seconds (RETENTION_INTERVAL_S, retention_tick_cb,
                                                    self);
}

static void
stop_retention (LtEngine *self)
{
  g_clear_handle_id (&self->retention_source, g_source_remove);
  if (self->retention_cancellable != NULL)
    g_cancellable_cancel (self->retention_cancellable);
  g_clear_object (&self->retention_cancellable);
}

/* End of retention. ------------------------------------------------------------------- */

static void
start_recording_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lt_recording_manager_start_finish (LT_RECORDING_MANAGER (source), result, &error))
    {
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  /* After recovery: recovery's sessions are ended, so retention sees them as they are. */
  start_retention (self);
  start_sync (self);

  self->api_server = lt_api_server_new (self->catalog, self->secret_store);
  lt_api_rules_register (self->api_server, self->rule_store);
  lt_api_streams_register (self->api_server, self->registry, self->recording);
  lt_api_recording_register (self->api_server, self->recording);
  lt_api_notify_register (self->api_server, self->notify);
  lt_api_timeline_register (self->api_server, self->catalog);
  lt_api_index_register (self->api_server, self->catalog, self->local_storage_root);

  /* A busy address does not stop the engine: the console works without the API and
   * shows why; the daemon, which exists for the API, treats it as fatal. */
  g_clear_error (&self->api_error);
  if (self->api_listen != NULL &&
      !lt_api_server_listen (self->api_server, self->api_listen, &error))
    {
      g_prefix_error (&error, _("Cannot listen on %s: "), self->api_listen);
      lt_api_server_disconnect (self->api_server);
      self->api_error = g_steal_pointer (&error);
    }

  if (!self->ingest_enabled)
    {
      self->starting = FALSE;
      self->started = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  start_ingest (self, task);
}

static void
start_targets_loaded_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lt_storage_targets_load_finish (LT_STORAGE_TARGETS (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot load the storage targets: "));
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  lt_rule_store_load_async (self->rule_store, g_task_get_cancellable (task),
                            start_rules_loaded_cb, g_object_ref (task));
}

static void
start_catalog_opened_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lt_catalog_open_finish (LT_CATALOG (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot open the catalog %s: "),
                        lt_catalog_get_path (self->catalog));
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  /* The storage targets before the rules, which name them. */
  lt_storage_targets_load_async (self->storage_targets, g_task_get_cancellable (task),
                                 start_targets_loaded_cb, g_object_ref (task));
}

void
lt_engine_start_async (LtEngine            *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_engine_start_async);

  if (self->starting || self->started)
    {
      g_task_return_new_error (task, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED,
                               _("The engine is already started."));
      return;
    }
  if (self->shut_down)
    {
      g_task_return_new_error (task, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED,
                               _("The engine was shut down."));
      return;
    }
  if (self->data_dir_error != NULL)
    {
      g_task_return_error (task, g_error_copy (self->data_dir_error));
      return;
    }
  if (self->api_listen != NULL)
    {
      GError *error = NULL;

      if (!lt_engine_check_api_listen (self->api_listen, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  self->starting = TRUE;
  self->catalog_opening = TRUE;
  lt_catalog_open_async (self->catalog, cancellable, start_catalog_opened_cb,
                         g_object_ref (task));
}

gboolean
lt_engine_start_finish (LtEngine      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_engine_start_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lt_engine_shutdown (LtEngine *self)
{
  g_return_if_fail (LT_IS_ENGINE (self));

  if (self->shut_down)
    return;
  self->shut_down = TRUE;

  if (self->api_server != NULL)
    lt_api_server_disconnect (self->api_server);
  stop_retention (self);

  /* The recordings close their files first (an orderly exit ends the sessions), while
   * the catalog still takes their rows. */
  if (self->recording != NULL)
    lt_recording_manager_shutdown (self->recording, RECORDING_SHUTDOWN_TIMEOUT_MS);
  /* Callbacks not delivered stay queued in the catalog for the next start. */
  if (self->callbacks != NULL)
    lt_callback_queue_shutdown (self->callbacks);
  /* Uploads in flight are cancelled; their rows (and stored parts) wait for the next start. */
  if (self->sync != NULL)
    lt_sync_engine_shutdown (self->sync);

  /* Consumers first, then nginx (which blocks until the process is gone). */
  if (self->demo_source != NULL)
    lt_demo_source_stop (self->demo_source);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->pull_sources)); i++)
    {
      g_autoptr(LtPullSource) source =
        g_list_model_get_item (G_LIST_MODEL (self->pull_sources), i);

      lt_pull_source_set_enabled (source, FALSE);
    }
  if (self->ingest_server != NULL)
    lt_ingest_server_stop (self->ingest_server);

  /* Only a catalog that was opened has jobs to finish and a file to checkpoint. */
  if (self->catalog_opening && self->catalog != NULL)
    lt_catalog_close (self->catalog);
}

/* Access keys */

typedef struct
{
  char   *access_key_id;
  char   *access_key_secret;
  char   *description;
  GError *insert_error;
} CreateKeyData;

static void
create_key_data_free (gpointer data)
{
  CreateKeyData *ckd = data;

  g_free (ckd->access_key_id);
  free_secret (ckd->access_key_secret);
  g_free (ckd->description);
  g_clear_error (&ckd->insert_error);
  g_free (ckd);
}

static void
create_key_cleared_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateKeyData *ckd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The catalog error is what the caller needs to see; a failed clean-up leaves an
   * orphan secret that names no key, which is harmless. */
  if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error))
    g_debug ("Could not remove the secret of the access key that was not created: %s",
             error->message);

  g_task_return_error (task, g_steal_pointer (&ckd->insert_error));
}

static void
create_key_inserted_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  CreateKeyData *ckd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lt_catalog_insert_api_key_finish (LT_CATALOG (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot record the access key in the catalog: "));
      ckd->insert_error = error;
      /* Not cancellable: the secret must not outlive a key the catalog does not have. */
      lt_secret_store_clear_async (self->secret_store, LT_SECRET_KIND_API_KEY,
                                   ckd->access_key_id, NULL,
                                   create_key_cleared_cb, g_object_ref (task));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
create_key_stored_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  CreateKeyData *ckd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lt_secret_store_store_finish (LT_SECRET_STORE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot keep the access key secret in the keyring: "));
      g_task_return_error (task, error);
      return;
    }

  lt_catalog_insert_api_key_async (self->catalog, ckd->access_key_id, ckd->description,
                                   g_task_get_cancellable (task),
                                   create_key_inserted_cb, g_object_ref (task));
}

void
lt_engine_create_access_key_async (LtEngine            *self,
                                   const char          *description,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *random_id = NULL;
  g_autofree char *label = NULL;
  CreateKeyData *ckd;
  GError *error = NULL;

  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_engine_create_access_key_async);

  if (!self->started || self->shut_down)
    {
      g_task_return_new_error (task, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED,
                               _("The engine is not running."));
      return;
    }

  ckd = g_new0 (CreateKeyData, 1);
  ckd->description = g_strdup (description != NULL ? description : "");
  g_task_set_task_data (task, ckd, create_key_data_free);

  random_id = random_string ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                             ACCESS_KEY_ID_RANDOM_LENGTH, &error);
  if (random_id == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ckd->access_key_id = g_strconcat (ACCESS_KEY_ID_PREFIX, random_id, NULL);

  ckd->access_key_secret =
    random_string ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                   ACCESS_KEY_SECRET_LENGTH, &error);
  if (ckd->access_key_secret == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* TRANSLATORS: the label of the keyring item, shown in Passwords and Keys. */
  label = g_strdup_printf (_("Livetape API key %s"), ckd->access_key_id);
  lt_secret_store_store_async (self->secret_store, LT_SECRET_KIND_API_KEY,
                               ckd->access_key_id, label, ckd->access_key_secret,
                               cancellable, create_key_stored_cb, g_object_ref (task));
}

gboolean
lt_engine_create_access_key_finish (LtEngine      *self,
                                    GAsyncResult  *result,
                                    char         **access_key_id,
                                    char         **access_key_secret,
                                    GError       **error)
{
  CreateKeyData *ckd;

  g_return_val_if_fail (LT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lt_engine_create_access_key_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  ckd = g_task_get_task_data (G_TASK (result));
  if (access_key_id != NULL)
    *access_key_id = g_strdup (ckd->access_key_id);
  if (access_key_secret != NULL)
    *access_key_secret = g_strdup (ckd->access_key_secret);
  return TRUE;
}

/* Ingest ------------------------------------------------------------------------------ */

typedef struct
{
  char    *kind;
  char    *uri;
  char    *domain;
  char    *app;
  char    *stream;
  gboolean enabled;
  gboolean created;   /* the demo row, made by this start: the first run */
} SourceRow;

static void
source_row_free (gpointer data)
{
  SourceRow *row = data;

  g_free (row->kind);
  g_free (row->uri);
  g_free (row->domain);
  g_free (row->app);
  g_free (row->stream);
  g_free (row);
}

static gboolean
sqlite_fail (sqlite3     *db,
             int          rc,
             GError     **error)
{
  g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED,
               _("Cannot read the ingest sources: %s"),
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

/* Worker thread: records the demo source on the first start (INSERT OR IGNORE: a pull
 * source that took the identity wins, the demo then stays off), then lists every row. */
static gpointer
load_sources_job (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  const char *default_domain = data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (source_row_free);
  sqlite3_stmt *stmt = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean first_run;
  int rc;

  rc = sqlite3_prepare_v2 (db,
                           "INSERT OR IGNORE INTO ingest_sources "
                           "(kind, domain, app, stream, enabled, create_time, update_time) "
                           "SELECT 'demo', ?1, ?2, ?3, 1, ?4, ?4 WHERE NOT EXISTS "
                           "(SELECT 1 FROM ingest_sources WHERE kind = 'demo')",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, default_domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, LT_DEMO_DEFAULT_APP, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, LT_DEMO_DEFAULT_STREAM, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }
  first_run = sqlite3_changes (db) > 0;

  rc = sqlite3_prepare_v2 (db,
                           "SELECT kind, uri, domain, app, stream, enabled "
                           "FROM ingest_sources ORDER BY id",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SourceRow *row = g_new0 (SourceRow, 1);

      row->kind = lt_catalog_column_dup (stmt, 0);
      row->uri = lt_catalog_column_dup (stmt, 1);
      row->domain = lt_catalog_column_dup (stmt, 2);
      row->app = lt_catalog_column_dup (stmt, 3);
      row->stream = lt_catalog_column_dup (stmt, 4);
      row->enabled = sqlite3_column_int (stmt, 5) != 0;
      row->created = first_run && g_strcmp0 (row->kind, "demo") == 0;
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }

  return g_steal_pointer (&rows);
}

static void
set_demo_enabled (LtEngine *self,
                  gboolean  enabled)
{
  enabled = !!enabled;
  if (self->demo_enabled == enabled)
    return;
  self->demo_enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEMO_ENABLED]);
}

static void
ingest_started_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* The server keeps the reason in last-error and retries by itself; the console shows
   * it. Nothing else to do here. */
  if (!lt_ingest_server_start_finish (LT_INGEST_SERVER (source), result, &error))
    g_debug ("The ingest server did not start: %s", error->message);
}

static void
demo_rule_added_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(LtEngine) self = g_weak_ref_get (weak);
  g_autoptr(GError) error = NULL;

  g_weak_ref_clear (weak);
  g_free (weak);

  /* An operator who made a rule of that name already knows what they want: keep theirs. */
  if (!lt_rule_store_add_finish (LT_RULE_STORE (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("The demo stream’s recording rule was not added: %s", error->message);
  /* Not a reference: an engine shut down and dropped meanwhile has nothing to start. */
  if (self != NULL && !self->shut_down && self->demo_enabled)
    lt_demo_source_start (self->demo_source);
}

/* The first run records the demo stream (m3u8 + mp4 into the "demo" bucket of the local
 * target), so that a new user sees a recording happen; the rule is an ordinary one, shown
 * on the Rules page, to change or delete. The demo starts once the rule is in place. */
static void
add_demo_rule (LtEngine *self)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  GWeakRef *weak;

  g_hash_table_insert (params, "DomainName", self->default_domain);
  g_hash_table_insert (params, "AppName", LT_DEMO_DEFAULT_APP);
  g_hash_table_insert (params, "StreamName", LT_DEMO_DEFAULT_STREAM);
  g_hash_table_insert (params, "OssEndpoint", LT_STORAGE_LOCAL_TARGET);
  g_hash_table_insert (params, "OssBucket", DEMO_BUCKET);
  g_hash_table_insert (params, "RecordFormat.1.Format", "m3u8");
  g_hash_table_insert (params, "RecordFormat.1.SliceDuration", "6");
  g_hash_table_insert (params, "RecordFormat.2.Format", "mp4");
  rule = lt_rule_new_from_params (params, now, &error);
  if (rule == NULL)
    {
      /* Only a default domain the rules refuse gets here. */
      g_message ("No recording rule for the demo stream: %s", error->message);
      lt_demo_source_start (self->demo_source);
      return;
    }
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  lt_rule_store_add_async (self->rule_store, rule, NULL, demo_rule_added_cb, weak);
}

static void
start_sources_loaded_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) rows = NULL;
  GError *error = NULL;
  gboolean demo = FALSE;
  gboolean first_run = FALSE;

  rows = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (rows == NULL)
    {
      start_fail (self, task, error);
      return;
    }

  if (start_check_shut_down (self, task))
    return;

  for (guint i = 0; i < rows->len; i++)
    {
      SourceRow *row = g_ptr_array_index (rows, i);

      if (g_strcmp0 (row->kind, "demo") == 0)
        {
          demo = row->enabled;
          first_run = row->created;
        }
      else if (g_strcmp0 (row->kind, "pull") == 0)
        {
          g_autoptr(LtPullSource) pull = NULL;
          g_autoptr(GError) pull_error = NULL;

          pull = lt_pull_source_new (self->registry, row->uri, row->domain, row->app,
                                     row->stream, &pull_error);
          /* A row that no longer passes the checks is kept in the catalog, not run. */
          if (pull == NULL)
            {
              g_debug ("Not starting the pull source %s: %s", row->uri, pull_error->message);
              continue;
            }
          g_list_store_append (self->pull_sources, pull);
          if (row->enabled)
            lt_pull_source_set_enabled (pull, TRUE);
        }
    }

  self->demo_source = lt_demo_source_new (self->ingest_server, NULL, NULL);
  set_demo_enabled (self, demo);
  if (demo && first_run)
    add_demo_rule (self);
  else if (demo)
    lt_demo_source_start (self->demo_source);

  /* Not awaited: the engine runs whether or not nginx comes up. */
  lt_ingest_server_start_async (self->ingest_server, NULL, ingest_started_cb, NULL);

  self->starting = FALSE;
  self->started = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
start_ingest (LtEngine *self,
              GTask    *task)
{
  g_autofree char *runtime_dir = g_build_filename (self->data_dir, "ingest", NULL);
  g_autofree char *default_domain = NULL;
  guint port = self->ingest_port;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  if (port == 0 && has_setting (self, "ingest-port"))
    port = (guint) g_settings_get_int (self->settings, "ingest-port");
  if (has_setting (self, "default-domain"))
    default_domain = g_settings_get_string (self->settings, "default-domain");
  if (port == 0)
    port = LT_INGEST_DEFAULT_PORT;
  if (default_domain == NULL || *default_domain == '\0')
    {
      g_free (default_domain);
      default_domain = g_strdup (LT_DEFAULT_DOMAIN);
    }

  g_free (self->default_domain);
  self->default_domain = g_strdup (default_domain);
  self->ingest_server = lt_ingest_server_new (self->registry, runtime_dir);
  lt_ingest_server_set_port (self->ingest_server, port);
  lt_ingest_server_set_default_domain (self->ingest_server, default_domain);

  lt_catalog_run_async (self->catalog, load_sources_job, g_strdup (default_domain), g_free,
                        (GDestroyNotify) g_ptr_array_unref, g_task_get_cancellable (task),
                        start_sources_loaded_cb, g_object_ref (task));
}

void
lt_engine_set_ingest_enabled (LtEngine *self,
                              gboolean  enabled)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (!self->starting && !self->started);

  self->ingest_enabled = !!enabled;
}

gboolean
lt_engine_get_ingest_enabled (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), FALSE);

  return self->ingest_enabled;
}

void
lt_engine_set_command_mode (LtEngine *self,
                            gboolean  command_mode)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (!self->starting && !self->started);

  self->command_mode = !!command_mode;
}

void
lt_engine_set_ingest_port (LtEngine *self,
                           guint     port)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (port <= G_MAXUINT16);
  g_return_if_fail (!self->starting && !self->started);

  self->ingest_port = port;
}

LtStreamRegistry *
lt_engine_get_stream_registry (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->registry;
}

LtIngestServer *
lt_engine_get_ingest_server (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->ingest_server;
}

LtDemoSource *
lt_engine_get_demo_source (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->demo_source;
}

GListModel *
lt_engine_get_pull_sources (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return G_LIST_MODEL (self->pull_sources);
}

gboolean
lt_engine_get_demo_enabled (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), FALSE);

  return self->demo_enabled;
}

static gpointer
set_demo_enabled_job (sqlite3  *db,
                      gpointer  data,
                      GError  **error)
{
  gboolean enabled = GPOINTER_TO_INT (data);
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db,
                           "UPDATE ingest_sources SET enabled = ?1, update_time = ?2 "
                           "WHERE kind = 'demo'",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }
  sqlite3_bind_int (stmt, 1, enabled ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time () / G_USEC_PER_SEC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      sqlite_fail (db, rc, error);
      return NULL;
    }
  if (sqlite3_changes (db) == 0)
    {
      g_set_error_literal (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED,
                           _("The demo stream’s name is taken by a pull source."));
      return NULL;
    }

  return GINT_TO_POINTER (1);
}

static void
set_demo_enabled_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  gboolean enabled = GPOINTER_TO_INT (g_task_get_task_data (task));
  GError *error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "%s", enabled ? _("Cannot turn the demo stream on: ")
                                              : _("Cannot turn the demo stream off: "));
      g_task_return_error (task, error);
      return;
    }

  /* Stored; the engine may have been shut down meanwhile, then there is nothing to run. */
  if (self->demo_source != NULL && !self->shut_down)
    {
      if (enabled)
        lt_demo_source_start (self->demo_source);
      else
        lt_demo_source_stop (self->demo_source);
    }
  set_demo_enabled (self, enabled);
  g_task_return_boolean (task, TRUE);
}

void
lt_engine_set_demo_enabled_async (LtEngine            *self,
                                  gboolean             enabled,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_engine_set_demo_enabled_async);
  g_task_set_task_data (task, GINT_TO_POINTER (!!enabled), NULL);

  if (!self->started || self->shut_down || self->demo_source == NULL)
    {
      g_task_return_new_error (task, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED,
                               _("The ingest is not running."));
      return;
    }

  lt_catalog_run_async (self->catalog, set_demo_enabled_job, GINT_TO_POINTER (!!enabled),
                        NULL, NULL, cancellable, set_demo_enabled_cb, g_object_ref (task));
}

gboolean
lt_engine_set_demo_enabled_finish (LtEngine      *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lt_engine_set_demo_enabled_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

LtRecordingManager *
lt_engine_get_recording_manager (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->recording;
}

LtNotifyStore *
lt_engine_get_notify_store (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->notify;
}

LtCallbackQueue *
lt_engine_get_callback_queue (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->callbacks;
}

LtSyncEngine *
lt_engine_get_sync_engine (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->sync;
}

LtStorageTargets *
lt_engine_get_storage_targets (LtEngine *self)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  return self->storage_targets;
}

/* main.c: the one binary, `livetape`. Parses the command line and hands over to one of
 * its modes: the desktop console (default), the headless daemon (--headless) or a one-shot
 * command (--create-access-key, --notify-signing-key, the storage target commands) that
 * starts an engine without the API and ingest ports, does its one thing and exits. Only
 * the console initialises GTK, so the others run on a server without a display. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lt-application.h"
#include "lt-daemon.h"
#include "lt-engine.h"

typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  g_main_loop_quit (wait->loop);
}

static GAsyncResult *
wait_for_result (Wait *wait)
{
  g_main_loop_run (wait->loop);
  return wait->result;
}

/* Starts an engine for one command: only the catalog, the stores and the keyring (a
 * running daemon may hold the ports and be recording in the same data directory). NULL
 * after printing why it could not start. */
static LtEngine *
start_command_engine (const char *data_dir,
                      Wait       *wait)
{
  g_autoptr(LtEngine) engine = lt_engine_new (data_dir);
  g_autoptr(GError) error = NULL;

  lt_engine_set_command_mode (engine, TRUE);

  lt_engine_start_async (engine, NULL, wait_cb, wait);
  if (!lt_engine_start_finish (engine, wait_for_result (wait), &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      g_clear_object (&wait->result);
      lt_engine_shutdown (engine);
      return NULL;
    }
  g_clear_object (&wait->result);
  return g_steal_pointer (&engine);
}

static void
print_keyring_help (const GError *error)
{
  if (!g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE) &&
      !g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED))
    return;

  g_printerr ("%s\n  %s\n",
              _("The secret of an access key is kept in the Secret Service keyring. On a "
                "machine without a desktop session, start and unlock one around the "
                "command, for example:"),
              "dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets "
              "< \"$PASSWORD_FILE\" >/dev/null && livetape --create-access-key'");
}

static int
run_create_access_key (const char *data_dir,
                       const char *description)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *access_key_id = NULL;
  char *access_key_secret = NULL;
  Wait wait = { 0, };
  int status = 0;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    return 1;

  lt_engine_create_access_key_async (engine, description, NULL, wait_cb, &wait);
  if (lt_engine_create_access_key_finish (engine, wait_for_result (&wait),
                                          &access_key_id, &access_key_secret, &error))
    {
      /* The only time the secret is ever shown. Ids and secrets are [A-Za-z0-9], so no
       * JSON escaping is needed. */
      printf ("{\"AccessKeyId\":\"%s\",\"AccessKeySecret\":\"%s\"}\n",
              access_key_id, access_key_secret);
      fflush (stdout);
      memset (access_key_secret, 0, strlen (access_key_secret));
      g_free (access_key_secret);
    }
  else
    {
      g_printerr ("livetape: %s\n", error->message);
      print_keyring_help (error);
      status = 1;
    }
  g_clear_object (&wait.result);

  lt_engine_shutdown (engine);

  return status;
}

/* Prints the signing key of @domain's callbacks, for configuring a receiver on a server
 * without the console. */
static int
run_notify_signing_key (const char *data_dir,
                        const char *domain)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  char *key = NULL;
  Wait wait = { 0, };
  int status = 0;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    return 1;

  key = lt_notify_store_dup_signing_key (lt_engine_get_notify_store (engine), domain);
  if (key != NULL)
    {
      printf ("%s\n", key);
      fflush (stdout);
      memset (key, 0, strlen (key));
      g_free (key);
    }
  else if (lt_notify_store_lookup (lt_engine_get_notify_store (engine), domain) == NULL)
    {
      g_printerr (_("livetape: %s has no callback settings (add them with "
                    "AddLiveRecordNotifyConfig or in the console).\n"), domain);
      status = 1;
    }
  else
    {
      g_printerr (_("livetape: the keyring did not give the signing key of %s; is it "
                    "unlocked?\n"), domain);
      status = 1;
    }

  lt_engine_shutdown (engine);
  return status;
}

static void
print_usage_error (const char *message)
{
  g_printerr ("livetape: %s\n", message);
  g_printerr (_("Run “%s --help” to see the available options.\n"), "livetape");
}

/* ---- storage targets (--add-storage-target, --list-storage-targets,
 * --remove-storage-target): for servers and scripts without the console. */

typedef struct
{
  char     *add_name;
  char     *endpoint;
  char     *region;
  char     *bucket;
  char     *access_key_id;
  gboolean  path_style;
  gboolean  list;
  char     *remove_name;
  char     *test_name;
} TargetOptions;

static void
target_options_clear (TargetOptions *options)
{
  g_clear_pointer (&options->add_name, g_free);
  g_clear_pointer (&options->endpoint, g_free);
  g_clear_pointer (&options->region, g_free);
  g_clear_pointer (&options->bucket, g_free);
  g_clear_pointer (&options->access_key_id, g_free);
  g_clear_pointer (&options->remove_name, g_free);
  g_clear_pointer (&options->test_name, g_free);
}

/* The settings of a new target (--bucket also goes with --test-storage-target). */
static gboolean
target_options_any_setting (const TargetOptions *options)
{
  return options->endpoint != NULL || options->region != NULL ||
         options->access_key_id != NULL || options->path_style;
}

/* Reads one line (the secret key) from standard input into @buf, without the line end.
 * On a terminal the typing is not echoed. FALSE with a message when the line is too long
 * or cannot be read. */
static gboolean
read_secret_line (char    *buf,
                  gsize    size,
                  GError **error)
{
  struct termios saved, quiet;
  gboolean tty = isatty (STDIN_FILENO);
  gboolean echo_off = FALSE;
  gsize len;
  char *got;

  if (tty)
    {
      g_printerr ("%s", _("Secret access key (not shown): "));
      if (tcgetattr (STDIN_FILENO, &saved) == 0)
        {
          quiet = saved;
          quiet.c_lflag &= ~(ECHO | ECHONL);
          quiet.c_lflag |= ICANON;
          echo_off = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
      if (!echo_off)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("Cannot turn off echo on the terminal; pipe the secret key "
                                 "into standard input instead"));
          return FALSE;
        }
    }

  got = fgets (buf, (int) size, stdin);

  if (echo_off)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }

  if (got == NULL)
    {
      if (ferror (stdin))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("Cannot read the secret key from standard input"));
          return FALSE;
        }
      buf[0] = '\0';
      return TRUE;
    }

  len = strlen (buf);
  if (len > 0 && buf[len - 1] != '\n' && !feof (stdin))
    {
      explicit_bzero (buf, size);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The secret key on standard input is longer than %d bytes"),
                   LT_STORAGE_TARGET_SECRET_MAX);
      return FALSE;
    }
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
    buf[--len] = '\0';
  return TRUE;
}

static void
print_target_keyring_help (const GError *error)
{
  if (!g_error_matches (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_KEYRING))
    return;

  g_printerr ("%s\n  %s\n",
              _("The secret key of a storage target is kept in the Secret Service keyring. On "
                "a machine without a desktop session, start and unlock one around the "
                "command, for example:"),
              "dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets "
              "< \"$PASSWORD_FILE\" >/dev/null && livetape --add-storage-target … < \"$KEY_FILE\"'");
}

static int
run_add_storage_target (const char          *data_dir,
                        const TargetOptions *options)
{
  g_autoptr(LtStorageTarget) target = NULL;
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  char secret[LT_STORAGE_TARGET_SECRET_MAX + 2];
  Wait wait = { 0, };
  int status = 0;

  secret[0] = '\0';
  target = lt_storage_target_new_s3 (options->add_name, options->endpoint, options->region,
                                     options->bucket, options->path_style,
                                     options->access_key_id);
  if (!lt_storage_target_check (target, &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      return 1;
    }

  /* Anonymous targets need no key: standard input is only read from a pipe then, and
   * must not hold one. */
  if (options->access_key_id != NULL || !isatty (STDIN_FILENO))
    {
      if (!read_secret_line (secret, sizeof secret, &error))
        {
          g_printerr ("livetape: %s\n", error->message);
          return 1;
        }
    }
  if (options->access_key_id != NULL && secret[0] == '\0')
    {
      g_printerr ("livetape: %s\n",
                  _("--access-key-id needs the secret access key on standard input (one line)"));
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    {
      explicit_bzero (secret, sizeof secret);
      return 1;
    }

  lt_storage_targets_add_async (lt_engine_get_storage_targets (engine), target, secret, NULL,
                                wait_cb, &wait);
  explicit_bzero (secret, sizeof secret);
  if (!lt_storage_targets_add_finish (lt_engine_get_storage_targets (engine),
                                      wait_for_result (&wait), &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      print_target_keyring_help (error);
      status = 1;
    }
  g_clear_object (&wait.result);

  lt_engine_shutdown (engine);
  return status;
}

static int
run_remove_storage_target (const char *data_dir,
                           const char *name)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { 0, };
  int status = 0;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    return 1;

  lt_storage_targets_remove_async (lt_engine_get_storage_targets (engine), name, NULL,
                                   wait_cb, &wait);
  if (!lt_storage_targets_remove_finish (lt_engine_get_storage_targets (engine),
                                         wait_for_result (&wait), &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      status = 1;
    }
  g_clear_object (&wait.result);

  lt_engine_shutdown (engine);
  return status;
}

static int
run_test_storage_target (const char *data_dir,
                         const char *name,
                         const char *bucket)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  LtStorageTargets *targets;
  LtStorageTarget *target;
  Wait wait = { 0, };
  int status = 0;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    return 1;

  targets = lt_engine_get_storage_targets (engine);
  target = lt_storage_targets_lookup (targets, name);
  if (target == NULL)
    {
      g_printerr (_("livetape: There is no storage target named “%s”.\n"), name);
      lt_engine_shutdown (engine);
      return 1;
    }

  lt_storage_targets_test_connection_async (targets, target, bucket, 0, NULL, wait_cb, &wait);
  if (lt_storage_targets_test_connection_finish (targets, wait_for_result (&wait), &error))
    {
      printf (_("Storage target “%s”: bucket “%s” exists and can be written.\n"),
              lt_storage_target_get_name (target),
              bucket != NULL ? bucket : lt_storage_target_get_bucket (target));
      fflush (stdout);
    }
  else
    {
      g_printerr ("livetape: %s\n", error->message);
      print_target_keyring_help (error);
      status = 1;
    }
  g_clear_object (&wait.result);

  lt_engine_shutdown (engine);
  return status;
}

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static int
run_list_storage_targets (const char *data_dir)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  LtStorageTargets *targets;
  Wait wait = { 0, };
  gboolean keyring_warned = FALSE;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  engine = start_command_engine (data_dir, &wait);
  if (engine == NULL)
    return 1;

  targets = lt_engine_get_storage_targets (engine);
  json_builder_begin_array (builder);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (targets)); i++)
    {
      g_autoptr(LtStorageTarget) target = g_list_model_get_item (G_LIST_MODEL (targets), i);
      gboolean s3 = lt_storage_target_get_kind (target) == LT_STORAGE_TARGET_KIND_S3;

      json_builder_begin_object (builder);
      add_string_member (builder, "name", lt_storage_target_get_name (target));
      add_string_member (builder, "kind", s3 ? "s3" : "local");
      if (s3)
        {
          add_string_member (builder, "endpoint", lt_storage_target_get_endpoint (target));
          add_string_member (builder, "region", lt_storage_target_get_region (target));
          add_string_member (builder, "bucket", lt_storage_target_get_bucket (target));
          json_builder_set_member_name (builder, "path_style");
          json_builder_add_boolean_value (builder, lt_storage_target_get_path_style (target));
          json_builder_set_member_name (builder, "use_tls");
          json_builder_add_boolean_value (builder, lt_storage_target_get_use_tls (target));
          add_string_member (builder, "access_key_id",
                             lt_storage_target_get_access_key_id (target));
          json_builder_set_member_name (builder, "paused");
          json_builder_add_boolean_value (builder, lt_storage_target_get_paused (target));
        }
      else
        add_string_member (builder, "folder", lt_storage_target_get_local_root (target));

      /* Whether the keyring holds the key (never the key itself); null when the keyring
       * cannot say. */
      json_builder_set_member_name (builder, "has_secret");
      if (s3 && lt_storage_target_get_access_key_id (target) != NULL)
        {
          g_autoptr(GError) error = NULL;
          char *secret;

          lt_storage_targets_lookup_secret_async (targets, target, NULL, wait_cb, &wait);
          secret = lt_storage_targets_lookup_secret_finish (targets, wait_for_result (&wait),
                                                            &error);
          g_clear_object (&wait.result);
          if (secret != NULL)
            {
              explicit_bzero (secret, strlen (secret));
              g_free (secret);
              json_builder_add_boolean_value (builder, TRUE);
            }
          else if (g_error_matches (error, LT_STORAGE_TARGETS_ERROR,
                                    LT_STORAGE_TARGETS_ERROR_NOT_FOUND))
            json_builder_add_boolean_value (builder, FALSE);
          else
            {
              json_builder_add_null_value (builder);
              if (!keyring_warned)
                g_printerr ("livetape: %s\n", error->message);
              keyring_warned = TRUE;
            }
        }
      else
        json_builder_add_boolean_value (builder, FALSE);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json = json_generator_to_data (generator, NULL);
  printf ("%s\n", json);
  fflush (stdout);

  lt_engine_shutdown (engine);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *api_listen = NULL;
  g_autofree char *description = NULL;
  g_autofree char *notify_key_domain = NULL;
  int ingest_port = G_MININT;   /* G_MININT: not given */
  gboolean headless = FALSE;
  gboolean create_access_key = FALSE;
  gboolean version = FALSE;
  TargetOptions targets = { 0, };
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &headless,
      N_("Run the engine and the control API without a window, until SIGINT or SIGTERM"),
      NULL },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Keep the catalog, the spool and the settings in DIR (default: the XDG data "
         "directory)"),
      N_("DIR") },
    { "api-listen", 0, 0, G_OPTION_ARG_STRING, &api_listen,
      N_("Serve the control API on HOST:PORT (default: 127.0.0.1:8088)"),
      N_("HOST:PORT") },
    { "ingest-port", 0, 0, G_OPTION_ARG_INT, &ingest_port,
      N_("Accept pushed RTMP streams on PORT (default: the setting, 1935)"),
      N_("PORT") },
    { "create-access-key", 0, 0, G_OPTION_ARG_NONE, &create_access_key,
      N_("Create an API access key, keep its secret in the keyring, print it once as JSON "
         "and exit"),
      NULL },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description,
      N_("A note stored with the new access key (with --create-access-key)"),
      N_("TEXT") },
    { "notify-signing-key", 0, 0, G_OPTION_ARG_STRING, &notify_key_domain,
      N_("Print the key that signs DOMAIN's callbacks (for a receiver to verify them) and "
         "exit"),
      N_("DOMAIN") },
    { "add-storage-target", 0, 0, G_OPTION_ARG_STRING, &targets.add_name,
      N_("Add the S3-compatible storage target NAME (with --endpoint; the secret key is read "
         "from standard input into the keyring) and exit"),
      N_("NAME") },
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &targets.endpoint,
      N_("The new target’s endpoint, an http:// or https:// URL (with --add-storage-target)"),
      N_("URL") },
    { "region", 0, 0, G_OPTION_ARG_STRING, &targets.region,
      N_("The new target’s region (default: us-east-1)"),
      N_("REGION") },
    { "path-style", 0, 0, G_OPTION_ARG_NONE, &targets.path_style,
      N_("Address buckets as ENDPOINT/BUCKET instead of BUCKET.HOST (MinIO, Ceph)"),
      NULL },
    { "access-key-id", 0, 0, G_OPTION_ARG_STRING, &targets.access_key_id,
      N_("The new target’s access key id; its secret key is one line on standard input"),
      N_("ID") },
    { "bucket", 0, 0, G_OPTION_ARG_STRING, &targets.bucket,
      N_("The new target’s default bucket (with --test-storage-target: the bucket to check)"),
      N_("BUCKET") },
    { "list-storage-targets", 0, 0, G_OPTION_ARG_NONE, &targets.list,
      N_("Print the storage targets as JSON (never their secret keys) and exit"),
      NULL },
    { "remove-storage-target", 0, 0, G_OPTION_ARG_STRING, &targets.remove_name,
      N_("Remove the storage target NAME and its secret key, and exit"),
      N_("NAME") },
    { "test-storage-target", 0, 0, G_OPTION_ARG_STRING, &targets.test_name,
      N_("Check that the storage target NAME can be reached and that its bucket (or "
         "--bucket) exists and can be written, and exit"),
      N_("NAME") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"),
      NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Record live streams on your own machine."));
  g_option_context_set_description (context,
                                    _("Without --headless, --create-access-key, "
                                      "--notify-signing-key or a storage target option, the "
                                      "desktop console opens."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_usage_error (error->message);
      return 1;
    }

  if (version)
    {
      printf ("livetape %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (api_listen != NULL && !lt_engine_check_api_listen (api_listen, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Invalid --api-listen “%s”: %s"),
                                                  api_listen, error->message);

      print_usage_error (message);
      return 1;
    }

  if (ingest_port != G_MININT && (ingest_port < 1 || ingest_port > 65535))
    {
      g_autofree char *message =
        g_strdup_printf (_("Invalid --ingest-port %d: expected a port from 1 to 65535."),
                         ingest_port);

      print_usage_error (message);
      return 1;
    }

  if (headless && create_access_key)
    {
      print_usage_error (_("--headless and --create-access-key cannot be used together."));
      return 1;
    }
  if (description != NULL && !create_access_key)
    {
      print_usage_error (_("--description only goes with --create-access-key."));
      return 1;
    }
  if ((headless || create_access_key) && argc > 1)
    {
      g_autofree char *message = g_strdup_printf (_("Unexpected argument “%s”."), argv[1]);

      print_usage_error (message);
      return 1;
    }
  if (data_dir != NULL && *data_dir == '\0')
    {
      print_usage_error (_("--data-dir needs a directory."));
      return 1;
    }

  if (notify_key_domain != NULL && (headless || create_access_key))
    {
      print_usage_error (_("--notify-signing-key goes alone (with --data-dir)."));
      return 1;
    }
  {
    int target_modes = (targets.add_name != NULL) + targets.list +
                       (targets.remove_name != NULL) + (targets.test_name != NULL);
    int status;

    if (target_modes > 1 ||
        (target_modes > 0 && (headless || create_access_key || notify_key_domain != NULL)))
      {
        print_usage_error (_("--add-storage-target, --list-storage-targets, "
                             "--remove-storage-target and --test-storage-target go alone "
                             "(with --data-dir)."));
        target_options_clear (&targets);
        return 1;
      }
    if ((target_options_any_setting (&targets) && targets.add_name == NULL) ||
        (targets.bucket != NULL && targets.add_name == NULL && targets.test_name == NULL))
      {
        print_usage_error (_("--endpoint, --region, --path-style, --access-key-id and --bucket "
                             "only go with --add-storage-target (--bucket also with "
                             "--test-storage-target)."));
        target_options_clear (&targets);
        return 1;
      }
    if (targets.add_name != NULL && targets.endpoint == NULL)
      {
        print_usage_error (_("--add-storage-target needs --endpoint."));
        target_options_clear (&targets);
        return 1;
      }
    if (target_modes > 0 && argc > 1)
      {
        g_autofree char *message = g_strdup_printf (_("Unexpected argument “%s”."), argv[1]);

        print_usage_error (message);
        target_options_clear (&targets);
        return 1;
      }

    status = -1;
    if (targets.add_name != NULL)
      status = run_add_storage_target (data_dir, &targets);
    else if (targets.list)
      status = run_list_storage_targets (data_dir);
    else if (targets.remove_name != NULL)
      status = run_remove_storage_target (data_dir, targets.remove_name);
    else if (targets.test_name != NULL)
      status = run_test_storage_target (data_dir, targets.test_name, targets.bucket);
    target_options_clear (&targets);
    if (status >= 0)
      return status;
  }

  if (create_access_key)
    return run_create_access_key (data_dir, description);
  if (notify_key_domain != NULL)
    return run_notify_signing_key (data_dir, notify_key_domain);

  if (headless)
    {
      g_autoptr(LtDaemon) daemon = lt_daemon_new (data_dir, api_listen);

      lt_daemon_set_ingest_port (daemon, ingest_port > 0 ? (guint) ingest_port : 0);
      return lt_daemon_run (daemon);
    }

  return lt_application_run_gui (data_dir, api_listen, ingest_port > 0 ? (guint) ingest_port : 0,
                                 argc, argv);
}

/* main.c: the one binary, `livetape`. Parses the command line and hands over to one of
 * three modes: the desktop console (default), the headless daemon (--headless) or the
 * one-shot access key creation (--create-access-key). Only the console initialises GTK, so
 * the other two run on a server without a display. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

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

  engine = lt_engine_new (data_dir);
  /* Only the catalog and the keyring are needed; a running daemon may hold the ports. */
  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_ingest_enabled (engine, FALSE);

  lt_engine_start_async (engine, NULL, wait_cb, &wait);
  if (!lt_engine_start_finish (engine, wait_for_result (&wait), &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      g_clear_object (&wait.result);
      lt_engine_shutdown (engine);
      return 1;
    }
  g_clear_object (&wait.result);

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
  g_autoptr(GError) error = NULL;
  char *key = NULL;
  Wait wait = { 0, };
  int status = 0;

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;

  engine = lt_engine_new (data_dir);
  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_ingest_enabled (engine, FALSE);

  lt_engine_start_async (engine, NULL, wait_cb, &wait);
  if (!lt_engine_start_finish (engine, wait_for_result (&wait), &error))
    {
      g_printerr ("livetape: %s\n", error->message);
      g_clear_object (&wait.result);
      lt_engine_shutdown (engine);
      return 1;
    }
  g_clear_object (&wait.result);

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
                                    _("Without --headless, --create-access-key or "
                                      "--notify-signing-key, the desktop console opens."));
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

/* lt-daemon.c: the headless mode. A non-unique GApplication that holds itself while the
 * engine runs; SIGINT and SIGTERM shut the engine down (API closed, catalog checkpointed)
 * and end the run with status 0. No GTK here: a server needs no display. */
#include "config.h"

#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>

#include "lt-daemon.h"

struct _LtDaemon
{
  GApplication  parent_instance;

  char         *data_dir;
  char         *api_listen;
  guint         ingest_port;
  LtEngine     *engine;
  GCancellable *cancellable;
  guint         sigint_id;
  guint         sigterm_id;
  int           exit_status;
  gboolean      held;
  gboolean      stopping;
};

G_DEFINE_TYPE (LtDaemon, lt_daemon, G_TYPE_APPLICATION)

static void
daemon_stop (LtDaemon *self,
             int       exit_status)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  self->exit_status = exit_status;

  g_cancellable_cancel (self->cancellable);

  /* The signal watches stay until the run ends: a second SIGTERM while the catalog
   * checkpoints must not kill the process with the default action. */
  if (self->engine != NULL)
    lt_engine_shutdown (self->engine);

  if (self->held)
    {
      self->held = FALSE;
      g_application_release (G_APPLICATION (self));
    }
}

static gboolean
signal_cb (gpointer user_data)
{
  LtDaemon *self = user_data;

  g_debug ("Signal received; shutting down");
  daemon_stop (self, 0);

  return G_SOURCE_CONTINUE;
}

static void
engine_started_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LtDaemon) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  if (!lt_engine_start_finish (LT_ENGINE (source), result, &error))
    {
      /* A signal during start already stopped us with status 0; whatever the interrupted
       * start says then is no failure. */
      if (!self->stopping)
        {
          g_printerr ("livetape: %s\n", error->message);
          daemon_stop (self, 1);
        }
      return;
    }
  if (self->stopping)
    return;

  if (lt_engine_get_api_error (self->engine) != NULL)
    {
      g_printerr ("livetape: %s\n", lt_engine_get_api_error (self->engine)->message);
      daemon_stop (self, 1);
      return;
    }

  /* Not translated: scripts and tests wait for this exact line. */
  url = lt_engine_dup_api_url (self->engine);
  if (url != NULL)
    g_print ("Livetape engine ready; control API on %s\n", url);
  else
    g_print ("Livetape engine ready; control API disabled\n");
  fflush (stdout);
}

static void
lt_daemon_activate (GApplication *app)
{
  LtDaemon *self = LT_DAEMON (app);

  /* Activation happens once per run; a second one (none expected for a non-unique
   * application) must not start the engine twice. */
  if (self->engine != NULL)
    return;

  g_application_hold (app);
  self->held = TRUE;

  self->engine = lt_engine_new (self->data_dir);
  if (self->api_listen != NULL)
    lt_engine_set_api_listen (self->engine, self->api_listen);
  lt_engine_set_ingest_port (self->engine, self->ingest_port);

  lt_engine_start_async (self->engine, self->cancellable, engine_started_cb,
                         g_object_ref (self));
}

static void
lt_daemon_shutdown (GApplication *app)
{
  LtDaemon *self = LT_DAEMON (app);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  if (self->engine != NULL)
    lt_engine_shutdown (self->engine);

  G_APPLICATION_CLASS (lt_daemon_parent_class)->shutdown (app);
}

static void
lt_daemon_dispose (GObject *object)
{
  LtDaemon *self = LT_DAEMON (object);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_object (&self->engine);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_daemon_parent_class)->dispose (object);
}

static void
lt_daemon_finalize (GObject *object)
{
  LtDaemon *self = LT_DAEMON (object);

  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->api_listen, g_free);

  G_OBJECT_CLASS (lt_daemon_parent_class)->finalize (object);
}

static void
lt_daemon_class_init (LtDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = lt_daemon_dispose;
  object_class->finalize = lt_daemon_finalize;

  app_class->activate = lt_daemon_activate;
  app_class->shutdown = lt_daemon_shutdown;
}

static void
lt_daemon_init (LtDaemon *self)
{
  self->cancellable = g_cancellable_new ();
}

LtDaemon *
lt_daemon_new (const char *data_dir,
               const char *api_listen)
{
  LtDaemon *self;

  /* Non-unique: several headless instances (one per data dir) may run side by side, and
   * none of them needs a session bus. */
  self = g_object_new (LT_TYPE_DAEMON,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       NULL);
  self->data_dir = g_strdup (data_dir);
  self->api_listen = g_strdup (api_listen);

  return self;
}

void
lt_daemon_set_ingest_port (LtDaemon *self,
                           guint     port)
{
  g_return_if_fail (LT_IS_DAEMON (self));
  g_return_if_fail (port <= G_MAXUINT16);

  self->ingest_port = port;
}

LtEngine *
lt_daemon_get_engine (LtDaemon *self)
{
  g_return_val_if_fail (LT_IS_DAEMON (self), NULL);

  return self->engine;
}

int
lt_daemon_run (LtDaemon *self)
{
  int status;
  char *argv[] = { (char *) "livetape", NULL };

  g_return_val_if_fail (LT_IS_DAEMON (self), 1);

  /* Installed before the run, so that a signal that arrives while starting is a clean
   * stop too (it is dispatched once the main loop runs, after activate). */
  if (self->sigint_id == 0)
    self->sigint_id = g_unix_signal_add_full (G_PRIORITY_DEFAULT, SIGINT, signal_cb,
                                              g_object_ref (self), g_object_unref);
  if (self->sigterm_id == 0)
    self->sigterm_id = g_unix_signal_add_full (G_PRIORITY_DEFAULT, SIGTERM, signal_cb,
                                               g_object_ref (self), g_object_unref);

  /* Options were parsed by main(); GApplication gets none of its own. */
  status = g_application_run (G_APPLICATION (self), 1, argv);
  if (status != 0)
    return status;

  return self->exit_status;
}

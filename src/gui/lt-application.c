/* lt-application.c: the desktop console's application.
 *
 * It creates the engine at startup and starts it while the window shows a spinner. The
 * control API is put on the network only after the engine has started, by the
 * application itself: a busy or forbidden port then costs the API, not the console,
 * and the window says so in a banner. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <string.h>

#include "lt-application-private.h"
#include "lt-preferences-window.h"
#include "lt-sync-notifier.h"
#include "lt-window-private.h"

typedef enum
{
  ENGINE_STARTING,
  ENGINE_STARTED,
  ENGINE_FAILED,
} EngineState;

struct _LtApplication
{
  AdwApplication  parent_instance;

  char           *data_dir;
  char           *api_listen;     /* as given; NULL: the setting */
  guint           ingest_port;    /* as given; 0: the setting */
  gboolean        ingest_disabled;
  LtEngine       *engine;
  GCancellable   *cancellable;
  EngineState     state;
  GError         *error;
  char           *api_problem;
  LtSyncNotifier *sync_notifier;
  GtkWindow      *preferences;    /* weak */
};

G_DEFINE_FINAL_TYPE (LtApplication, lt_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_DATA_DIR,
  PROP_API_LISTEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
apply_engine_state (LtApplication *self,
                    LtWindow      *window)
{
  switch (self->state)
    {
    case ENGINE_STARTING:
      break;

    case ENGINE_STARTED:
      lt_window_set_engine (window, self->engine);
      if (self->api_problem != NULL)
        lt_window_show_banner (window, self->api_problem);
      break;

    case ENGINE_FAILED:
      lt_window_show_error (window, self->error);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* A busy API address is no reason to keep the console from working: the engine runs
 * without the API and the window says why. */
static void
note_api_problem (LtApplication *self)
{
  const GError *error = lt_engine_get_api_error (self->engine);
  g_autofree char *reason = NULL;
  gsize len;

  if (error == NULL)
    return;

  /* The sentence adds its own full stop. */
  reason = g_strchomp (g_strdup (error->message));
  len = strlen (reason);
  if (len > 0 && reason[len - 1] == '.')
    reason[len - 1] = '\0';

  /* TRANSLATORS: %s is the reason, which names the address, e.g. "Cannot listen on
   * 127.0.0.1:8088: Address already in use". */
  self->api_problem = g_strdup_printf (_("The control API is not available: %s. The console "
                                         "works as usual; to reach Livetape from scripts, "
                                         "start it with another --api-listen address."),
                                       reason);
}

static void
engine_started_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LtApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_engine_start_finish (LT_ENGINE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self->state = ENGINE_FAILED;
      self->error = g_steal_pointer (&error);
    }
  else
    {
      self->state = ENGINE_STARTED;
      note_api_problem (self);
      /* A target that starts failing is worth a desktop notification. */
      if (g_application_get_is_registered (G_APPLICATION (self)))
        self->sync_notifier = lt_sync_notifier_new (G_APPLICATION (self),
                                                    lt_engine_get_sync_engine (self->engine));
    }

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (LT_IS_WINDOW (l->data))
      apply_engine_state (self, l->data);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  LtApplication *self = user_data;
  g_autoptr(GList) windows = NULL;

  /* Closing (rather than quitting outright) lets each window keep its size. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  LtApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { _("The Livetape developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "modal", TRUE,
                        "application-name", _("Livetape"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Livetape developers"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "comments", _("Record live streams on your own machine the way "
                                      "cloud live services do: rules per domain, app and "
                                      "stream, HLS, MP4 and FLV recordings, a catalog "
                                      "and a control API."),
                        "copyright", _("© 2026 The Livetape developers"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* TRANSLATORS: your names, one per line, as they should be
                         * credited in the About window. */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

/* Storage targets, spool and retention need a started engine; until then (or when it
 * failed) there is nothing to set. */
static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  LtApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  LtPreferencesWindow *preferences;

  if (self->state != ENGINE_STARTED)
    return;
  if (self->preferences != NULL)
    {
      gtk_window_present (self->preferences);
      return;
    }
  preferences = lt_preferences_window_new (self->engine);
  if (parent != NULL && !LT_IS_PREFERENCES_WINDOW (parent))
    gtk_window_set_transient_for (GTK_WINDOW (preferences), parent);
  gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (self));
  g_set_weak_pointer (&self->preferences, GTK_WINDOW (preferences));
  gtk_window_present (GTK_WINDOW (preferences));
}

/* From the notification of a failing storage target: the window, on the Sync page. */
static void
show_sync_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  LtApplication *self = user_data;
  LtWindow *window = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (LT_IS_WINDOW (l->data))
      {
        window = l->data;
        break;
      }
  if (window == NULL)
    {
      g_application_activate (G_APPLICATION (self));
      window = LT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (self)));
    }
  if (window == NULL)
    return;
  _lt_window_set_page (window, "sync");
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
  { "show-sync", show_sync_action, NULL, NULL, NULL, { 0 } },
};

static void
lt_application_startup (GApplication *application)
{
  LtApplication *self = LT_APPLICATION (application);
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *close_accels[] = { "<Control>w", NULL };
  const char *preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (lt_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);
  gtk_window_set_default_icon_name (APP_ID);

  self->engine = lt_engine_new (self->data_dir);
  if (self->api_listen != NULL)
    lt_engine_set_api_listen (self->engine, self->api_listen);
  lt_engine_set_ingest_port (self->engine, self->ingest_port);
  lt_engine_set_ingest_enabled (self->engine, !self->ingest_disabled);

  self->state = ENGINE_STARTING;
  lt_engine_start_async (self->engine, self->cancellable,
                         engine_started_cb, g_object_ref (self));
}

static void
lt_application_activate (GApplication *application)
{
  LtApplication *self = LT_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      window = GTK_WINDOW (lt_window_new (GTK_APPLICATION (self),
                                          lt_engine_get_settings (self->engine)));
      apply_engine_state (self, LT_WINDOW (window));
    }

  gtk_window_present (window);
}

static void
lt_application_shutdown (GApplication *application)
{
  LtApplication *self = LT_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->sync_notifier);
  g_clear_weak_pointer (&self->preferences);
  if (self->engine != NULL)
    lt_engine_shutdown (self->engine);

  G_APPLICATION_CLASS (lt_application_parent_class)->shutdown (application);
}

static void
lt_application_dispose (GObject *object)
{
  LtApplication *self = LT_APPLICATION (object);

  g_clear_object (&self->sync_notifier);
  g_clear_weak_pointer (&self->preferences);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (lt_application_parent_class)->dispose (object);
}

static void
lt_application_finalize (GObject *object)
{
  LtApplication *self = LT_APPLICATION (object);

  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->api_listen, g_free);
  g_clear_pointer (&self->api_problem, g_free);
  g_clear_error (&self->error);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_application_parent_class)->finalize (object);
}

static void
lt_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LtApplication *self = LT_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;

    case PROP_API_LISTEN:
      g_value_set_string (value, self->api_listen);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  LtApplication *self = LT_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;

    case PROP_API_LISTEN:
      self->api_listen = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_application_class_init (LtApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = lt_application_dispose;
  object_class->finalize = lt_application_finalize;
  object_class->get_property = lt_application_get_property;
  object_class->set_property = lt_application_set_property;

  app_class->startup = lt_application_startup;
  app_class->activate = lt_application_activate;
  app_class->shutdown = lt_application_shutdown;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_API_LISTEN] =
    g_param_spec_string ("api-listen", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_application_init (LtApplication *self)
{
  self->cancellable = g_cancellable_new ();
}

LtApplication *
_lt_application_new (const char        *data_dir,
                     const char        *api_listen,
                     GApplicationFlags  flags)
{
  return g_object_new (LT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", flags,
                       "resource-base-path", "/io/github/livetape/Livetape",
                       "data-dir", data_dir,
                       "api-listen", api_listen,
                       NULL);
}

void
_lt_application_set_ingest (LtApplication *self,
                            gboolean       enabled,
                            guint          port)
{
  g_return_if_fail (LT_IS_APPLICATION (self));
  g_return_if_fail (self->engine == NULL);

  self->ingest_disabled = !enabled;
  self->ingest_port = port;
}

LtEngine *
lt_application_get_engine (LtApplication *self)
{
  g_return_val_if_fail (LT_IS_APPLICATION (self), NULL);

  return self->engine;
}

int
lt_application_run_gui (const char  *data_dir,
                        const char  *api_listen,
                        guint        ingest_port,
                        int          argc,
                        char       **argv)
{
  g_autoptr(LtApplication) app = NULL;
  char *args[] = { argc > 0 ? argv[0] : (char *) "livetape", NULL };

  /* Harmless if the caller did it already; the .ui files need the domain bound. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* A console for another data dir is another instance, not a second window of the
   * default one (which would silently show the wrong catalog). */
  app = _lt_application_new (data_dir, api_listen,
                             data_dir != NULL ? G_APPLICATION_NON_UNIQUE
                                              : G_APPLICATION_DEFAULT_FLAGS);
  _lt_application_set_ingest (app, TRUE, ingest_port);

  return g_application_run (G_APPLICATION (app), 1, args);
}

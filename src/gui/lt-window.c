/* lt-window.c: the console's main window.
 *
 * Until the engine has started the window shows a spinner; if the engine cannot start it
 * shows why (an unreadable catalog, a locked keyring, …) instead of pages that would not
 * work. Its size is kept in the settings when the schema is installed. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-rules-page.h"
#include "lt-streams-page.h"
#include "lt-sync-page.h"
#include "lt-timeline-page.h"
#include "lt-window-private.h"

struct _LtWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  LtEngine             *engine;

  AdwToastOverlay      *toast_overlay;
  AdwViewSwitcherTitle *switcher_title;
  AdwViewSwitcherBar   *switcher_bar;
  GtkWidget            *add_button;
  GtkWidget            *search_button;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  GtkStack             *state_stack;
  AdwStatusPage        *error_page;
  AdwViewStack         *view_stack;
  LtRulesPage          *rules_page;
  LtStreamsPage        *streams_page;
  LtSyncPage           *sync_page;
  LtTimelinePage       *timeline_page;
  AdwViewStackPage     *sync_stack_page;  /* unowned: the view stack's */
};

G_DEFINE_FINAL_TYPE (LtWindow, lt_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
settings_have_keys (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  return schema != NULL &&
         g_settings_schema_has_key (schema, "window-width") &&
         g_settings_schema_has_key (schema, "window-height") &&
         g_settings_schema_has_key (schema, "window-maximized");
}

static void
update_header (LtWindow *self)
{
  gboolean is_main = g_strcmp0 (gtk_stack_get_visible_child_name (self->state_stack), "main") == 0;
  gboolean rules = is_main && g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack),
                                      "rules") == 0;

  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, is_main);
  gtk_widget_set_visible (self->add_button, rules);
  gtk_widget_set_visible (self->search_button, rules);
}

static void
add_clicked_cb (LtWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self->rules_page), "rules.add", NULL);
}

/* A domain's callback settings ("": the operator types the domain), from the main menu
 * and the Sync page, for domains that may have no rules and so no group on the Rules
 * page. The Rules page owns the dialog. */
static void
callback_settings_activated (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  LtWindow *self = user_data;

  gtk_widget_activate_action_variant (GTK_WIDGET (self->rules_page), "rules.edit-callbacks",
                                      parameter);
}

/* The Sync page's badge counts the undeliverable callbacks and the failed uploads. */
static void
update_sync_badge (LtWindow *self)
{
  guint n_failed = 0;

  if (self->engine != NULL)
    {
      n_failed += lt_callback_queue_get_n_failed (lt_engine_get_callback_queue (self->engine));
      n_failed += g_list_model_get_n_items (lt_sync_engine_get_failures (lt_engine_get_sync_engine (self->engine)));
    }

  if (adw_view_stack_page_get_badge_number (self->sync_stack_page) != n_failed)
    adw_view_stack_page_set_badge_number (self->sync_stack_page, n_failed);
  if (adw_view_stack_page_get_needs_attention (self->sync_stack_page) != (n_failed > 0))
    adw_view_stack_page_set_needs_attention (self->sync_stack_page, n_failed > 0);
}

static void
banner_dismiss_cb (LtWindow *self)
{
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static gboolean
lt_window_close_request (GtkWindow *window)
{
  LtWindow *self = LT_WINDOW (window);

  if (self->settings != NULL)
    {
      gboolean maximized = gtk_window_is_maximized (window);
      int width, height;

      /* The size before maximizing is what to restore. */
      if (!maximized)
        {
          gtk_window_get_default_size (window, &width, &height);
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
      g_settings_set_boolean (self->settings, "window-maximized", maximized);
    }

  return GTK_WINDOW_CLASS (lt_window_parent_class)->close_request (window);
}

static void
lt_window_constructed (GObject *object)
{
  LtWindow *self = LT_WINDOW (object);

  G_OBJECT_CLASS (lt_window_parent_class)->constructed (object);

  if (self->settings != NULL && !settings_have_keys (self->settings))
    g_clear_object (&self->settings);

  if (self->settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }
}

static void
lt_window_dispose (GObject *object)
{
  LtWindow *self = LT_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_WINDOW);

  g_clear_object (&self->engine);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (lt_window_parent_class)->dispose (object);
}

static void
lt_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LtWindow *self = LT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  LtWindow *self = LT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_window_class_init (LtWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = lt_window_constructed;
  object_class->dispose = lt_window_dispose;
  object_class->get_property = lt_window_get_property;
  object_class->set_property = lt_window_set_property;

  window_class->close_request = lt_window_close_request;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LT_TYPE_RULES_PAGE);
  g_type_ensure (LT_TYPE_STREAMS_PAGE);
  g_type_ensure (LT_TYPE_SYNC_PAGE);
  g_type_ensure (LT_TYPE_TIMELINE_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LtWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, add_button);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, search_button);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, state_stack);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, rules_page);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, streams_page);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, sync_page);
  gtk_widget_class_bind_template_child (widget_class, LtWindow, timeline_page);
  gtk_widget_class_bind_template_callback (widget_class, add_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, banner_dismiss_cb);
}

static void
lt_window_init (LtWindow *self)
{
  static const GActionEntry actions[] = {
    { .name = "callback-settings", .activate = callback_settings_activated,
      .parameter_type = "s" },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  /* For the badge; the view stack owns it. */
  self->sync_stack_page = adw_view_stack_get_page (self->view_stack, GTK_WIDGET (self->sync_page));
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);

  g_object_bind_property (self->switcher_title, "title-visible",
                          self->switcher_bar, "reveal",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->search_button, "active",
                          self->rules_page, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  /* Nothing to search on the empty page. */
  g_object_bind_property (self->rules_page, "has-rules",
                          self->search_button, "sensitive",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->view_stack, "notify::visible-child-name",
                           G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state_stack, "notify::visible-child-name",
                           G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  update_header (self);
}

/* The callback settings on the Rules page, the outbox on the Sync page and its badge. */
static void
set_callbacks (LtWindow        *self,
               LtNotifyStore   *notify_store,
               LtCallbackQueue *queue)
{
  lt_rules_page_set_callbacks (self->rules_page, notify_store, queue);
  lt_sync_page_set_callback_queue (self->sync_page, queue);
  lt_sync_page_set_notify_store (self->sync_page, notify_store);
  g_signal_connect_object (queue, "notify::n-failed",
                           G_CALLBACK (update_sync_badge), self, G_CONNECT_SWAPPED);
}

/* The uploads on the Sync page; their failures count in its badge too. */
static void
set_sync (LtWindow         *self,
          LtSyncEngine     *sync,
          LtStorageTargets *targets)
{
  lt_sync_page_set_sync_engine (self->sync_page, sync, targets);
  g_signal_connect_object (lt_sync_engine_get_failures (sync), "items-changed",
                           G_CALLBACK (update_sync_badge), self, G_CONNECT_SWAPPED);
}

LtWindow *
lt_window_new (GtkApplication *application,
               GSettings      *settings)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (LT_TYPE_WINDOW,
                       "application", application,
                       "settings", settings,
                       NULL);
}

void
lt_window_set_engine (LtWindow *self,
                      LtEngine *engine)
{
  GSettings *engine_settings;

  g_return_if_fail (LT_IS_WINDOW (self));
  g_return_if_fail (LT_IS_ENGINE (engine));

  g_set_object (&self->engine, engine);

  engine_settings = lt_engine_get_settings (engine);
  if (engine_settings != NULL)
    {
      g_autoptr(GSettingsSchema) schema = NULL;

      g_object_get (engine_settings, "settings-schema", &schema, NULL);
      if (schema != NULL && g_settings_schema_has_key (schema, "default-domain"))
        {
          g_autofree char *domain = g_settings_get_string (engine_settings, "default-domain");

          lt_rules_page_set_default_domain (self->rules_page, domain);
        }
    }

  lt_rules_page_set_rule_store (self->rules_page, lt_engine_get_rule_store (engine));
  lt_streams_page_set_engine (self->streams_page, engine);
  lt_timeline_page_set_engine (self->timeline_page, engine);
  set_callbacks (self, lt_engine_get_notify_store (engine), lt_engine_get_callback_queue (engine));
  set_sync (self, lt_engine_get_sync_engine (engine), lt_engine_get_storage_targets (engine));
  update_sync_badge (self);
  gtk_stack_set_visible_child_name (self->state_stack, "main");
}

void
lt_window_show_error (LtWindow     *self,
                      const GError *error)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (LT_IS_WINDOW (self));
  g_return_if_fail (error != NULL);

  escaped = g_markup_escape_text (error->message, -1);
  adw_status_page_set_description (self->error_page, escaped);
  gtk_stack_set_visible_child_name (self->state_stack, "error");
}

void
lt_window_show_banner (LtWindow   *self,
                       const char *message)
{
  g_return_if_fail (LT_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  gtk_label_set_label (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

void
lt_window_add_toast (LtWindow *self,
                     AdwToast *toast)
{
  g_return_if_fail (LT_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_lt_window_set_page (LtWindow   *self,
                     const char *name)
{
  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

LtStreamsPage *
_lt_window_get_streams_page (LtWindow *self)
{
  return self->streams_page;
}

LtRulesPage *
_lt_window_get_rules_page (LtWindow *self)
{
  return self->rules_page;
}

LtSyncPage *
_lt_window_get_sync_page (LtWindow *self)
{
  return self->sync_page;
}

AdwViewStackPage *
_lt_window_get_sync_stack_page (LtWindow *self)
{
  return self->sync_stack_page;
}

const char *
_lt_window_get_state (LtWindow *self)
{
  return gtk_stack_get_visible_child_name (self->state_stack);
}

const char *
_lt_window_get_error_text (LtWindow *self)
{
  if (g_strcmp0 (_lt_window_get_state (self), "error") != 0)
    return NULL;
  return adw_status_page_get_description (self->error_page);
}

const char *
_lt_window_get_banner_text (LtWindow *self)
{
  if (!gtk_revealer_get_reveal_child (self->banner_revealer))
    return NULL;
  return gtk_label_get_label (self->banner_label);
}

GtkWidget *
_lt_window_get_add_button (LtWindow *self)
{
  return self->add_button;
}

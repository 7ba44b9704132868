/* lt-preferences-window.c: the Preferences window (see lt-preferences-window.h).
 *
 * The storage targets are a list bound to the targets model, rebuilt when a target
 * changes (the model keeps the object and only notifies); an S3 target's row opens its
 * editor, Add opens an empty one. The settings rows are bound with g_settings_bind on the
 * engine's settings, so what the window shows is always the stored value; a key the
 * installed schema lacks leaves its row insensitive rather than failing.
 *
 * The sync engine reads its settings when it starts; the window hands it the upload
 * settings when they change here, so a new limit applies at once. The spool folder
 * applies from the next start (recordings in progress keep their folder). */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-preferences-window.h"

#define MB 1000000.0

struct _LtPreferencesWindow
{
  AdwPreferencesWindow   parent_instance;

  LtEngine              *engine;
  GSettings             *settings;       /* the engine's; NULL without the schema */
  LtStorageTargets      *targets;
  LtStorageTargetEditor *editor;         /* weak */
  GtkFileChooserNative  *chooser;
  char                  *spool_text;

  GtkListBox            *targets_list;
  GtkWidget             *spool_group;
  AdwActionRow          *spool_row;
  GtkWidget             *spool_reset_button;
  GtkSpinButton         *keep_spin;
  GtkSpinButton         *concurrency_spin;
  GtkSpinButton         *bandwidth_spin;
  GtkSpinButton         *slice_retention_spin;
  GtkSpinButton         *index_retention_spin;
  GtkSpinButton         *spool_retention_spin;
};

G_DEFINE_FINAL_TYPE (LtPreferencesWindow, lt_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
has_key (GSettings  *settings,
         const char *key)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  if (settings == NULL)
    return FALSE;
  g_object_get (settings, "settings-schema", &schema, NULL);
  return schema != NULL && g_settings_schema_has_key (schema, key);
}

/* ---- storage targets ---- */

/* An S3 target's subtitle (endpoint, bucket, paused or failing) and, while it fails, why. */
static void
update_target_row (GtkWidget       *row,
                   LtStorageTarget *target)
{
  const char *bucket = lt_storage_target_get_bucket (target);
  g_autoptr(GString) text = g_string_new (lt_storage_target_get_endpoint (target));
  gboolean failing = lt_storage_target_get_state (target) == LT_STORAGE_TARGET_STATE_FAILING;

  if (bucket != NULL)
    g_string_append_printf (text, " · %s", bucket);
  if (lt_storage_target_get_paused (target))
    g_string_append_printf (text, " · %s", _("Paused"));
  if (failing)
    g_string_append_printf (text, " · %s", _("Failing"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text->str);
  gtk_widget_set_tooltip_text (row, failing ? lt_storage_target_get_last_error (target) : NULL);
}

static void
target_state_cb (LtStorageTarget *target,
                 GParamSpec      *pspec,
                 GtkWidget       *row)
{
  update_target_row (row, target);
}

static GtkWidget *
create_target_row_cb (gpointer item,
                      gpointer user_data)
{
  LtStorageTarget *target = item;
  GtkWidget *row = adw_action_row_new ();
  const char *name = lt_storage_target_get_name (target);
  g_autofree char *subtitle = NULL;
  GtkWidget *icon;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  g_object_set_data_full (G_OBJECT (row), "lt-target", g_strdup (name), g_free);

  if (lt_storage_target_get_kind (target) == LT_STORAGE_TARGET_KIND_LOCAL)
    {
      /* TRANSLATORS: %s is a folder */
      subtitle = g_strdup_printf (_("Local folder · %s"), lt_storage_target_get_local_root (target));
      icon = gtk_image_new_from_icon_name ("folder-symbolic");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      return row;
    }

  {
    GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

    update_target_row (row, target);
    /* The sync engine changes the state as uploads fail and recover: the row follows. */
    g_signal_connect_object (target, "notify::state", G_CALLBACK (target_state_cb), row, 0);
    g_signal_connect_object (target, "notify::last-error", G_CALLBACK (target_state_cb), row,
                             0);
    icon = gtk_image_new_from_icon_name ("network-server-symbolic");
    adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Edit"), -1);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
    gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
    gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "prefs.edit-target");
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row), g_variant_new_string (name));
  }
  return row;
}

static void
bind_targets (LtPreferencesWindow *self)
{
  gtk_list_box_bind_model (self->targets_list, NULL, NULL, NULL, NULL);
  if (self->targets != NULL)
    gtk_list_box_bind_model (self->targets_list, G_LIST_MODEL (self->targets),
                             create_target_row_cb, self, NULL);
}

static void
targets_changed_cb (LtPreferencesWindow *self)
{
  /* The model keeps a changed target's object: its row is made again. */
  bind_targets (self);
}

static void
editor_saved_cb (LtPreferencesWindow *self)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("Storage target saved")));
}

static void
editor_removed_cb (LtPreferencesWindow *self)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("Storage target removed")));
}

static void
open_editor (LtPreferencesWindow *self,
             const char          *name)
{
  LtStorageTargetEditor *editor;

  if (self->targets == NULL)
    return;
  if (self->editor != NULL)
    gtk_window_destroy (GTK_WINDOW (self->editor));

  editor = lt_storage_target_editor_new (self->targets, name);
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (self));
  g_signal_connect_object (editor, "saved", G_CALLBACK (editor_saved_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "removed", G_CALLBACK (editor_removed_cb), self,
                           G_CONNECT_SWAPPED);
  g_set_weak_pointer (&self->editor, editor);
  gtk_window_present (GTK_WINDOW (editor));
}

static void
add_target_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  open_editor (LT_PREFERENCES_WINDOW (widget), NULL);
}

static void
edit_target_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  open_editor (LT_PREFERENCES_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

/* ---- spool folder ---- */

static void
update_spool (LtPreferencesWindow *self)
{
  g_autofree char *folder = NULL;
  g_autofree char *current = NULL;
  const char *running = lt_sync_engine_get_spool_folder (lt_engine_get_sync_engine (self->engine));
  gboolean custom;

  if (has_key (self->settings, "spool-dir"))
    folder = g_settings_get_string (self->settings, "spool-dir");

  custom = folder != NULL && *folder != '\0';
  g_free (self->spool_text);
  if (!custom)
    {
      g_autofree char *fallback = g_build_filename (lt_engine_get_data_dir (self->engine),
                                                    "spool", NULL);

      /* TRANSLATORS: %s is the default spool folder */
      self->spool_text = g_strdup_printf (_("%s (the default, in the data folder)"), fallback);
      g_free (folder);
      folder = g_steal_pointer (&fallback);
    }
  else
    {
      self->spool_text = g_strdup (folder);
    }
  if (running != NULL && g_strcmp0 (running, folder) != 0)
    {
      g_autofree char *line = NULL;

      /* TRANSLATORS: the chosen spool folder, then the one in use until a restart */
      line = g_strdup_printf (_("%s\nUsed from the next start; until then: %s"),
                              self->spool_text, running);
      g_free (self->spool_text);
      self->spool_text = g_steal_pointer (&line);
    }
  adw_action_row_set_subtitle (self->spool_row, self->spool_text);
  gtk_widget_set_visible (self->spool_reset_button, custom);
}

static void
chooser_response_cb (LtPreferencesWindow  *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (folder != NULL)
        _lt_preferences_window_set_spool_folder (self, folder);
    }
  g_clear_object (&self->chooser);
}

static void
choose_spool_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  LtPreferencesWindow *self = LT_PREFERENCES_WINDOW (widget);

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Spool Folder"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
reset_spool_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  _lt_preferences_window_set_spool_folder (LT_PREFERENCES_WINDOW (widget), NULL);
}

/* ---- settings ---- */

static gboolean
bytes_to_mb (GValue   *value,
             GVariant *variant,
             gpointer  user_data)
{
  g_value_set_double (value, (double) g_variant_get_uint64 (variant) / MB);
  return TRUE;
}

static GVariant *
mb_to_bytes (const GValue       *value,
             const GVariantType *expected_type,
             gpointer            user_data)
{
  double mb = g_value_get_double (value);

  return g_variant_new_uint64 (mb > 0 ? (guint64) (mb * MB + 0.5) : 0);
}

static void
bind_spin (LtPreferencesWindow *self,
           const char          *key,
           GtkSpinButton       *spin)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (spin), ADW_TYPE_ACTION_ROW);

  if (!has_key (self->settings, key))
    {
      gtk_widget_set_sensitive (row != NULL ? row : GTK_WIDGET (spin), FALSE);
      return;
    }
  if (g_str_equal (key, "sync-bandwidth-limit"))
    g_settings_bind_with_mapping (self->settings, key, gtk_spin_button_get_adjustment (spin),
                                  "value", G_SETTINGS_BIND_DEFAULT,
                                  bytes_to_mb, mb_to_bytes, NULL, NULL);
  else
    g_settings_bind (self->settings, key, gtk_spin_button_get_adjustment (spin), "value",
                     G_SETTINGS_BIND_DEFAULT);
}

/* The engine applies the sync settings itself; the spool folder is read at start only,
 * which the row says. */
static void
settings_changed_cb (LtPreferencesWindow *self,
                     const char          *key,
                     GSettings           *settings)
{
  if (g_strcmp0 (key, "spool-dir") == 0)
    update_spool (self);
}

/* ---- GObject ---- */

static void
lt_preferences_window_dispose (GObject *object)
{
  LtPreferencesWindow *self = LT_PREFERENCES_WINDOW (object);

  if (self->editor != NULL)
    gtk_window_destroy (GTK_WINDOW (self->editor));
  g_clear_weak_pointer (&self->editor);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_func (self->settings, settings_changed_cb, self);
  if (self->targets != NULL)
    g_signal_handlers_disconnect_by_func (self->targets, targets_changed_cb, self);
  if (self->targets_list != NULL)
    gtk_list_box_bind_model (self->targets_list, NULL, NULL, NULL, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_PREFERENCES_WINDOW);

  g_clear_object (&self->targets);
  g_clear_object (&self->settings);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (lt_preferences_window_parent_class)->dispose (object);
}

static void
lt_preferences_window_finalize (GObject *object)
{
  LtPreferencesWindow *self = LT_PREFERENCES_WINDOW (object);

  g_free (self->spool_text);

  G_OBJECT_CLASS (lt_preferences_window_parent_class)->finalize (object);
}

static void
lt_preferences_window_class_init (LtPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_preferences_window_dispose;
  object_class->finalize = lt_preferences_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-preferences-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, LtPreferencesWindow, name)
  BIND (targets_list);
  BIND (spool_group);
  BIND (spool_row);
  BIND (spool_reset_button);
  BIND (keep_spin);
  BIND (concurrency_spin);
  BIND (bandwidth_spin);
  BIND (slice_retention_spin);
  BIND (index_retention_spin);
  BIND (spool_retention_spin);
#undef BIND

  gtk_widget_class_install_action (widget_class, "prefs.add-target", NULL, add_target_activated);
  gtk_widget_class_install_action (widget_class, "prefs.edit-target", "s", edit_target_activated);
  gtk_widget_class_install_action (widget_class, "prefs.choose-spool-folder", NULL,
                                   choose_spool_activated);
  gtk_widget_class_install_action (widget_class, "prefs.reset-spool-folder", NULL,
                                   reset_spool_activated);
}

static void
lt_preferences_window_init (LtPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

LtPreferencesWindow *
lt_preferences_window_new (LtEngine *engine)
{
  LtPreferencesWindow *self;
  GSettings *settings;

  g_return_val_if_fail (LT_IS_ENGINE (engine), NULL);

  self = g_object_new (LT_TYPE_PREFERENCES_WINDOW, NULL);
  self->engine = g_object_ref (engine);
  self->targets = g_object_ref (lt_engine_get_storage_targets (engine));
  settings = lt_engine_get_settings (engine);
  if (settings != NULL)
    self->settings = g_object_ref (settings);

  bind_targets (self);
  g_signal_connect_object (self->targets, "changed", G_CALLBACK (targets_changed_cb), self,
                           G_CONNECT_SWAPPED);

  bind_spin (self, "spool-keep-days", self->keep_spin);
  bind_spin (self, "sync-concurrency", self->concurrency_spin);
  bind_spin (self, "sync-bandwidth-limit", self->bandwidth_spin);
  bind_spin (self, "slice-retention-days", self->slice_retention_spin);
  bind_spin (self, "index-retention-days", self->index_retention_spin);
  bind_spin (self, "spool-retention-days", self->spool_retention_spin);
  if (self->settings != NULL)
    g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self,
                             G_CONNECT_SWAPPED);
  gtk_widget_set_sensitive (GTK_WIDGET (self->spool_row), has_key (self->settings, "spool-dir"));
  update_spool (self);

  return self;
}

GtkWidget *
_lt_preferences_window_get_target_row (LtPreferencesWindow *self,
                                       const char          *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->targets_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (g_strcmp0 (g_object_get_data (G_OBJECT (child), "lt-target"), name) == 0)
        return child;
    }
  return NULL;
}

LtStorageTargetEditor *
_lt_preferences_window_get_editor (LtPreferencesWindow *self)
{
  return self->editor;
}

GtkSpinButton *
_lt_preferences_window_get_spin (LtPreferencesWindow *self,
                                 const char          *key)
{
  if (g_str_equal (key, "spool-keep-days"))
    return self->keep_spin;
  if (g_str_equal (key, "sync-concurrency"))
    return self->concurrency_spin;
  if (g_str_equal (key, "sync-bandwidth-limit"))
    return self->bandwidth_spin;
  if (g_str_equal (key, "slice-retention-days"))
    return self->slice_retention_spin;
  if (g_str_equal (key, "index-retention-days"))
    return self->index_retention_spin;
  if (g_str_equal (key, "spool-retention-days"))
    return self->spool_retention_spin;
  return NULL;
}

void
_lt_preferences_window_set_spool_folder (LtPreferencesWindow *self,
                                         GFile               *folder)
{
  g_autofree char *path = folder != NULL ? g_file_get_path (folder) : NULL;

  if (!has_key (self->settings, "spool-dir"))
    return;
  if (path == NULL)
    g_settings_reset (self->settings, "spool-dir");
  else
    g_settings_set_string (self->settings, "spool-dir", path);
  update_spool (self);
}

const char *
_lt_preferences_window_get_spool_text (LtPreferencesWindow *self)
{
  return self->spool_text;
}

/* lt-stream-source-editor.c: the pull-source dialog (see lt-stream-source-editor.h).
 *
 * Validation is the engine's (lt_engine_check_pull_source()), field by field: each field
 * is checked with known-good values in the others, so every problem shows at once, under
 * its own group, in the engine's words. A field the operator has not touched does not
 * complain about being empty until Save is tried; Save stays off while anything is wrong.
 * What only the catalog can tell (the identity is taken by another source or by the demo)
 * comes back from the save and shows at the identity. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-editor-util.h"
#include "lt-stream-source-editor.h"

#define N_FIELDS (LT_PULL_SOURCE_FIELD_STREAM + 1)

struct _LtStreamSourceEditor
{
  AdwWindow          parent_instance;

  LtEngine          *engine;
  LtPullSource      *source;          /* the source edited, or NULL when adding */
  GCancellable      *cancellable;
  gboolean           busy;
  gboolean           save_tried;
  gboolean           touched[N_FIELDS];
  char              *errors[N_FIELDS];  /* shown; [NONE] is the general message */
  GError            *save_error;        /* what the last save said, until a change */
  gboolean           valid;
  AdwMessageDialog  *remove_dialog;

  AdwWindowTitle    *window_title;
  GtkWidget         *save_button;
  GtkWidget         *spinner;
  GtkLabel          *general_error_label;
  AdwEntryRow       *uri_row;
  GtkLabel          *uri_error_label;
  AdwPreferencesGroup *identity_group;
  AdwEntryRow       *domain_row;
  AdwEntryRow       *app_row;
  AdwEntryRow       *stream_row;
  GtkLabel          *identity_error_label;
  GtkSwitch         *enabled_switch;
  GtkWidget         *remove_group;
};

G_DEFINE_FINAL_TYPE (LtStreamSourceEditor, lt_stream_source_editor, ADW_TYPE_WINDOW)

static AdwEntryRow *
field_row (LtStreamSourceEditor *self,
           LtPullSourceField     field)
{
  switch (field)
    {
    case LT_PULL_SOURCE_FIELD_URI:
      return self->uri_row;
    case LT_PULL_SOURCE_FIELD_DOMAIN:
      return self->domain_row;
    case LT_PULL_SOURCE_FIELD_APP:
      return self->app_row;
    case LT_PULL_SOURCE_FIELD_STREAM:
      return self->stream_row;
    case LT_PULL_SOURCE_FIELD_NONE:
    default:
      return NULL;
    }
}

static const char *
field_text (LtStreamSourceEditor *self,
            LtPullSourceField     field)
{
  return gtk_editable_get_text (GTK_EDITABLE (field_row (self, field)));
}

/* The message for @field alone: the others get values that pass. */
static char *
check_field (LtStreamSourceEditor *self,
             LtPullSourceField     field)
{
  static const char *good_uri = "file:///x";
  static const char *good_name = "x";
  const char *value = field_text (self, field);
  g_autoptr(GError) error = NULL;
  LtPullSourceField failed = LT_PULL_SOURCE_FIELD_NONE;

  lt_engine_check_pull_source (field == LT_PULL_SOURCE_FIELD_URI ? value : good_uri,
                               field == LT_PULL_SOURCE_FIELD_DOMAIN ? value : NULL,
                               field == LT_PULL_SOURCE_FIELD_APP ? value : good_name,
                               field == LT_PULL_SOURCE_FIELD_STREAM ? value : good_name,
                               &failed, &error);
  return failed == field && error != NULL ? g_strdup (error->message) : NULL;
}

static void
update_description (LtStreamSourceEditor *self)
{
  const char *uri = field_text (self, LT_PULL_SOURCE_FIELD_URI);
  const char *app = field_text (self, LT_PULL_SOURCE_FIELD_APP);
  const char *stream = field_text (self, LT_PULL_SOURCE_FIELD_STREAM);
  g_autofree char *text = NULL;

  if (self->errors[LT_PULL_SOURCE_FIELD_URI] == NULL && *uri != '\0' &&
      self->errors[LT_PULL_SOURCE_FIELD_DOMAIN] == NULL)
    {
      g_autofree char *domain =
        lt_engine_dup_pull_source_domain (self->engine, uri,
                                          field_text (self, LT_PULL_SOURCE_FIELD_DOMAIN));

      /* TRANSLATORS: %s/%s/%s is domain/app/stream */
      text = g_strdup_printf (_("Recorded as %s/%s/%s, under the rules for that domain, app "
                                "and stream. Without a domain, the address’s host name is "
                                "used; addresses and files get the default domain."),
                              domain, *app != '\0' ? app : "…", *stream != '\0' ? stream : "…");
    }
  else
    {
      text = g_strdup (_("Without a domain, the address’s host name is used; addresses and "
                         "files get the default domain."));
    }
  adw_preferences_group_set_description (self->identity_group, text);
}

static void
validate (LtStreamSourceEditor *self)
{
  g_autoptr(GString) identity = g_string_new (NULL);
  const char *general = NULL;
  LtPullSourceField save_field = LT_PULL_SOURCE_FIELD_NONE;

  self->valid = TRUE;
  for (int field = LT_PULL_SOURCE_FIELD_URI; field < N_FIELDS; field++)
    {
      g_autofree char *message = check_field (self, field);
      gboolean shown = message != NULL && (self->touched[field] || self->save_tried);

      if (message != NULL)
        self->valid = FALSE;
      g_free (self->errors[field]);
      self->errors[field] = shown ? g_steal_pointer (&message) : NULL;
      if (shown)
        gtk_widget_add_css_class (GTK_WIDGET (field_row (self, field)), "error");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (field_row (self, field)), "error");
    }

  /* The last save's answer stays until the operator changes something. */
  if (self->save_error != NULL)
    {
      if (g_error_matches (self->save_error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS))
        save_field = LT_PULL_SOURCE_FIELD_STREAM;
      else
        general = self->save_error->message;
    }

  for (int field = LT_PULL_SOURCE_FIELD_DOMAIN; field < N_FIELDS; field++)
    {
      if (self->errors[field] != NULL)
        g_string_append_printf (identity, "%s%s", identity->len > 0 ? "\n" : "",
                                self->errors[field]);
    }
  if (save_field != LT_PULL_SOURCE_FIELD_NONE && identity->len == 0)
    {
      g_string_append (identity, self->save_error->message);
      g_free (self->errors[save_field]);
      self->errors[save_field] = g_strdup (self->save_error->message);
    }

  g_free (self->errors[LT_PULL_SOURCE_FIELD_NONE]);
  self->errors[LT_PULL_SOURCE_FIELD_NONE] = g_strdup (general);
  lt_editor_show_label (self->general_error_label, general);
  lt_editor_show_label (self->uri_error_label, self->errors[LT_PULL_SOURCE_FIELD_URI]);
  lt_editor_show_label (self->identity_error_label, identity->len > 0 ? identity->str : NULL);
  update_description (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", self->valid && !self->busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.remove",
                                 self->source != NULL && !self->busy);
}

static void
field_changed_cb (LtStreamSourceEditor *self,
                  GtkEditable          *editable)
{
  for (int field = LT_PULL_SOURCE_FIELD_URI; field < N_FIELDS; field++)
    {
      if (GTK_EDITABLE (field_row (self, field)) == editable)
        self->touched[field] = TRUE;
    }
  g_clear_error (&self->save_error);
  validate (self);
}

static void
set_busy (LtStreamSourceEditor *self,
          gboolean              busy)
{
  self->busy = busy;
  lt_editor_show_spinner (self->spinner, busy);
  validate (self);
}

/* ---- save ---- */

static void
saved (LtStreamSourceEditor *self,
       LtPullSource         *source,
       GError               *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);
  if (source == NULL)
    {
      g_clear_error (&self->save_error);
      self->save_error = g_error_copy (error);
      validate (self);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
added_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtStreamSourceEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtPullSource) source =
    lt_engine_add_pull_source_finish (LT_ENGINE (object), result, &error);

  saved (self, source, error);
}

static void
updated_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStreamSourceEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtPullSource) source =
    lt_engine_update_pull_source_finish (LT_ENGINE (object), result, &error);

  saved (self, source, error);
}

static void
save_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LtStreamSourceEditor *self = LT_STREAM_SOURCE_EDITOR (widget);
  const char *uri = field_text (self, LT_PULL_SOURCE_FIELD_URI);
  const char *domain = field_text (self, LT_PULL_SOURCE_FIELD_DOMAIN);
  const char *app = field_text (self, LT_PULL_SOURCE_FIELD_APP);
  const char *stream = field_text (self, LT_PULL_SOURCE_FIELD_STREAM);
  gboolean enabled = gtk_switch_get_active (self->enabled_switch);

  self->save_tried = TRUE;
  validate (self);
  if (!self->valid || self->busy)
    return;

  set_busy (self, TRUE);
  if (self->source == NULL)
    lt_engine_add_pull_source_async (self->engine, uri, domain, app, stream, enabled,
                                     self->cancellable, added_cb, g_object_ref (self));
  else
    lt_engine_update_pull_source_async (self->engine, self->source, uri, domain, app, stream,
                                        enabled, self->cancellable, updated_cb,
                                        g_object_ref (self));
}

/* ---- remove ---- */

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStreamSourceEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_engine_remove_pull_source_finish (LT_ENGINE (object), result, &error))
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);
  g_clear_error (&self->save_error);
  self->save_error = g_steal_pointer (&error);
  validate (self);
}

static void
remove_response_cb (LtStreamSourceEditor *self,
                    const char           *response)
{
  self->remove_dialog = NULL;
  if (g_strcmp0 (response, "remove") != 0 || self->busy)
    return;

  set_busy (self, TRUE);
  lt_engine_remove_pull_source_async (self->engine, self->source, self->cancellable,
                                      removed_cb, g_object_ref (self));
}

static void
remove_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LtStreamSourceEditor *self = LT_STREAM_SOURCE_EDITOR (widget);
  g_autofree char *body = NULL;

  if (self->source == NULL || self->remove_dialog != NULL)
    return;

  body = g_strdup_printf (_("Livetape stops pulling %s/%s/%s from %s. What was recorded from "
                            "it is kept."),
                          lt_pull_source_get_domain (self->source),
                          lt_pull_source_get_app (self->source),
                          lt_pull_source_get_name (self->source),
                          lt_pull_source_get_uri (self->source));
  self->remove_dialog = lt_editor_confirm_remove (GTK_WINDOW (self), _("Remove Source?"),
                                                 body, G_CALLBACK (remove_response_cb));
}

/* ---- GObject ---- */

static void
lt_stream_source_editor_dispose (GObject *object)
{
  LtStreamSourceEditor *self = LT_STREAM_SOURCE_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  if (self->remove_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->remove_dialog)));
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_STREAM_SOURCE_EDITOR);

  g_clear_object (&self->source);
  g_clear_object (&self->engine);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_stream_source_editor_parent_class)->dispose (object);
}

static void
lt_stream_source_editor_finalize (GObject *object)
{
  LtStreamSourceEditor *self = LT_STREAM_SOURCE_EDITOR (object);

  for (int field = 0; field < N_FIELDS; field++)
    g_free (self->errors[field]);
  g_clear_error (&self->save_error);

  G_OBJECT_CLASS (lt_stream_source_editor_parent_class)->finalize (object);
}

static void
lt_stream_source_editor_class_init (LtStreamSourceEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_stream_source_editor_dispose;
  object_class->finalize = lt_stream_source_editor_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-stream-source-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, window_title);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, save_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, spinner);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, general_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, uri_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, uri_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, identity_group);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, domain_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, app_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, stream_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, identity_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, enabled_switch);
  gtk_widget_class_bind_template_child (widget_class, LtStreamSourceEditor, remove_group);
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL, save_activated);
  gtk_widget_class_install_action (widget_class, "editor.remove", NULL, remove_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
lt_stream_source_editor_init (LtStreamSourceEditor *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_window_set_default_widget (GTK_WINDOW (self), self->save_button);
}

LtStreamSourceEditor *
lt_stream_source_editor_new (LtEngine     *engine,
                             LtPullSource *source)
{
  LtStreamSourceEditor *self;

  g_return_val_if_fail (LT_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (source == NULL || LT_IS_PULL_SOURCE (source), NULL);

  self = g_object_new (LT_TYPE_STREAM_SOURCE_EDITOR, NULL);
  self->engine = g_object_ref (engine);
  g_set_object (&self->source, source);

  if (source != NULL)
    {
      adw_window_title_set_title (self->window_title, _("Edit Pull Source"));
      gtk_button_set_label (GTK_BUTTON (self->save_button), _("_Save"));
      gtk_editable_set_text (GTK_EDITABLE (self->uri_row), lt_pull_source_get_uri (source));
      gtk_editable_set_text (GTK_EDITABLE (self->domain_row),
                             lt_pull_source_get_domain (source));
      gtk_editable_set_text (GTK_EDITABLE (self->app_row), lt_pull_source_get_app (source));
      gtk_editable_set_text (GTK_EDITABLE (self->stream_row), lt_pull_source_get_name (source));
      gtk_switch_set_active (self->enabled_switch, lt_pull_source_get_enabled (source));
      gtk_widget_set_visible (self->remove_group, TRUE);
    }
  else
    {
      adw_window_title_set_title (self->window_title, _("New Pull Source"));
      gtk_button_set_label (GTK_BUTTON (self->save_button), _("_Add"));
      gtk_editable_set_text (GTK_EDITABLE (self->app_row), LT_DEMO_DEFAULT_APP);
    }
  /* Filling the fields is not the operator touching them. */
  for (int field = 0; field < N_FIELDS; field++)
    self->touched[field] = FALSE;
  validate (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->uri_row));

  return self;
}

GtkEditable *
_lt_stream_source_editor_get_field (LtStreamSourceEditor *self,
                                    LtPullSourceField     field)
{
  return GTK_EDITABLE (field_row (self, field));
}

GtkSwitch *
_lt_stream_source_editor_get_enabled (LtStreamSourceEditor *self)
{
  return self->enabled_switch;
}

const char *
_lt_stream_source_editor_get_error (LtStreamSourceEditor *self,
                                    LtPullSourceField     field)
{
  return self->errors[field];
}

gboolean
_lt_stream_source_editor_get_can_save (LtStreamSourceEditor *self)
{
  return gtk_widget_is_sensitive (self->save_button);
}

gboolean
_lt_stream_source_editor_get_busy (LtStreamSourceEditor *self)
{
  return self->busy;
}

AdwMessageDialog *
_lt_stream_source_editor_get_remove_dialog (LtStreamSourceEditor *self)
{
  return self->remove_dialog;
}

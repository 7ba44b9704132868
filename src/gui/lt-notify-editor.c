/* lt-notify-editor.c: one domain's callback settings (see lt-notify-editor.h).
 *
 * Validation is the core's (lt_notify_config_check()), field by field: each field is
 * checked with known-good values in the others, so every problem shows at once, at its
 * own field, in the core's words (the API answers with the same ones). A field the
 * operator has not touched does not complain until Save is tried. Save adds the settings
 * when the domain has none and updates them otherwise, then closes, like the other
 * editors. The signing key is read from the store only while revealed or copied, so it
 * is not kept in a widget longer than the operator looks at it.
 *
 * Signals: "saved" and "removed", after the store took the change (the page toasts). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lt-editor-util.h"
#include "lt-notify-editor.h"

#define N_FIELDS (LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL + 1)
#define HIDDEN_KEY "••••••••••••••••••••••••"

struct _LtNotifyEditor
{
  AdwWindow            parent_instance;

  LtNotifyStore       *store;
  LtCallbackQueue     *queue;
  char                *domain;          /* fixed domain, or NULL: typed in domain_row */
  GCancellable        *cancellable;
  GCancellable        *test_cancellable;
  gboolean             busy;
  gboolean             test_busy;
  gboolean             save_tried;
  gboolean             valid;
  gboolean             touched[N_FIELDS];
  char                *errors[N_FIELDS];
  GError              *save_error;      /* what the last save said, until a change */
  char                *test_status;
  char                *test_reply;
  AdwMessageDialog    *remove_dialog;

  AdwWindowTitle      *window_title;
  GtkWidget           *save_button;
  GtkWidget           *spinner;
  GtkLabel            *general_error_label;
  AdwEntryRow         *domain_row;
  GtkLabel            *domain_error_label;
  AdwEntryRow         *notify_url_row;
  GtkLabel            *notify_url_error_label;
  GtkSwitch           *status_switch;
  AdwEntryRow         *on_demand_url_row;
  GtkLabel            *on_demand_url_error_label;
  AdwActionRow        *test_row;
  GtkSpinner          *test_spinner;
  GtkLabel            *test_reply_label;
  AdwActionRow        *key_row;
  GtkToggleButton     *reveal_button;
  GtkWidget           *remove_group;
};

G_DEFINE_FINAL_TYPE (LtNotifyEditor, lt_notify_editor, ADW_TYPE_WINDOW)

enum {
  SIGNAL_SAVED,
  SIGNAL_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void validate (LtNotifyEditor *self);

/* ---- fields ---- */

static AdwEntryRow *
field_row (LtNotifyEditor      *self,
           LtNotifyEditorField  field)
{
  switch (field)
    {
    case LT_NOTIFY_EDITOR_FIELD_DOMAIN:
      return self->domain_row;
    case LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL:
      return self->notify_url_row;
    case LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL:
      return self->on_demand_url_row;
    case LT_NOTIFY_EDITOR_FIELD_NONE:
    default:
      return NULL;
    }
}

static GtkLabel *
field_label (LtNotifyEditor      *self,
             LtNotifyEditorField  field)
{
  switch (field)
    {
    case LT_NOTIFY_EDITOR_FIELD_DOMAIN:
      return self->domain_error_label;
    case LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL:
      return self->notify_url_error_label;
    case LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL:
      return self->on_demand_url_error_label;
    case LT_NOTIFY_EDITOR_FIELD_NONE:
    default:
      return self->general_error_label;
    }
}

/* The field's text without surrounding blanks (pasted URLs often carry some). */
static char *
field_text (LtNotifyEditor      *self,
            LtNotifyEditorField  field)
{
  if (field == LT_NOTIFY_EDITOR_FIELD_DOMAIN && self->domain != NULL)
    return g_strdup (self->domain);

  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (field_row (self, field)))));
}

static LtNotifyConfig *
make_config (LtNotifyEditor *self)
{
  LtNotifyConfig *config = g_new0 (LtNotifyConfig, 1);

  config->domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  config->notify_url = field_text (self, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL);
  config->need_status_notify = gtk_switch_get_active (self->status_switch);
  config->on_demand_url = field_text (self, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL);
  return config;
}

static gboolean
error_is_for (const GError        *error,
              LtNotifyEditorField  field)
{
  if (error == NULL || error->domain != LT_NOTIFY_ERROR)
    return FALSE;

  switch (field)
    {
    case LT_NOTIFY_EDITOR_FIELD_DOMAIN:
      return error->code == LT_NOTIFY_ERROR_MISSING_PARAMETER ||
             error->code == LT_NOTIFY_ERROR_INVALID_DOMAIN;
    case LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL:
      return error->code == LT_NOTIFY_ERROR_INVALID_NOTIFY_URL;
    case LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL:
      return error->code == LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL;
    case LT_NOTIFY_EDITOR_FIELD_NONE:
    default:
      return FALSE;
    }
}

/* The core's message for @field alone: the others get values that pass. */
static char *
check_field (LtNotifyEditor      *self,
             LtNotifyEditorField  field)
{
  g_autofree char *value = field_text (self, field);
  g_autoptr(GError) error = NULL;
  LtNotifyConfig config = {
    .domain = (char *) "example.com",
  };

  switch (field)
    {
    case LT_NOTIFY_EDITOR_FIELD_DOMAIN:
      config.domain = value;
      break;
    case LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL:
      config.notify_url = value;
      break;
    case LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL:
      config.on_demand_url = value;
      break;
    case LT_NOTIFY_EDITOR_FIELD_NONE:
    default:
      g_assert_not_reached ();
    }

  if (lt_notify_config_check (&config, &error) || !error_is_for (error, field))
    return NULL;
  return g_strdup (error->message);
}

static const LtNotifyConfig *
stored_config (LtNotifyEditor *self)
{
  g_autofree char *domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);

  if (self->errors[LT_NOTIFY_EDITOR_FIELD_DOMAIN] != NULL || *domain == '\0')
    return NULL;
  return lt_notify_store_lookup (self->store, domain);
}

/* ---- the signing key ---- */

static void
update_key (LtNotifyEditor *self)
{
  gboolean saved = stored_config (self) != NULL;
  g_autofree char *domain = NULL;
  g_autofree char *key = NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->reveal_button), saved);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "notify.copy-key", saved);

  if (!saved)
    {
      adw_action_row_set_subtitle (self->key_row,
                                   _("Made when the settings are saved for the first time"));
      return;
    }
  if (!gtk_toggle_button_get_active (self->reveal_button))
    {
      adw_action_row_set_subtitle (self->key_row, HIDDEN_KEY);
      return;
    }

  domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  key = lt_notify_store_dup_signing_key (self->store, domain);
  adw_action_row_set_subtitle (self->key_row,
                               key != NULL ? key
                                           : _("Not available: the keyring did not give it. "
                                               "Callbacks go out unsigned until it does."));
}

static void
reveal_toggled_cb (LtNotifyEditor *self)
{
  gboolean active = gtk_toggle_button_get_active (self->reveal_button);

  gtk_button_set_icon_name (GTK_BUTTON (self->reveal_button),
                            active ? "view-conceal-symbolic" : "view-reveal-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->reveal_button),
                               active ? _("Hide Key") : _("Reveal Key"));
  update_key (self);
}

static void
copy_key_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (widget);
  g_autofree char *domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  g_autofree char *key = lt_notify_store_dup_signing_key (self->store, domain);

  if (key == NULL)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), key);
}

/* ---- validation ---- */

/* A test needs a valid domain (its key signs the test) and a notification address; the
 * rest of the form may still be wrong. */
static gboolean
can_send_test (LtNotifyEditor *self)
{
  g_autofree char *domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  g_autofree char *notify_url = field_text (self, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL);
  g_autofree char *domain_message = NULL;
  g_autofree char *url_message = NULL;

  if (self->test_busy || *domain == '\0' || *notify_url == '\0')
    return FALSE;
  if (self->domain == NULL)
    domain_message = check_field (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  url_message = check_field (self, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL);
  return domain_message == NULL && url_message == NULL;
}

static void
validate (LtNotifyEditor *self)
{
  gboolean saved;

  if (self->store == NULL)
    return;  /* still being built */

  self->valid = TRUE;
  for (int field = LT_NOTIFY_EDITOR_FIELD_DOMAIN; field < N_FIELDS; field++)
    {
      g_autofree char *message = NULL;
      gboolean shown;

      if (field == LT_NOTIFY_EDITOR_FIELD_DOMAIN && self->domain != NULL)
        message = NULL;
      else
        message = check_field (self, field);

      /* What the last save said about this field counts until the operator edits. */
      if (message == NULL && error_is_for (self->save_error, field))
        message = g_strdup (self->save_error->message);

      shown = message != NULL && (self->touched[field] || self->save_tried);
      if (message != NULL)
        self->valid = FALSE;
      g_free (self->errors[field]);
      self->errors[field] = shown ? g_steal_pointer (&message) : NULL;
      if (shown)
        gtk_widget_add_css_class (GTK_WIDGET (field_row (self, field)), "error");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (field_row (self, field)), "error");
      lt_editor_show_label (field_label (self, field), self->errors[field]);
    }

  g_free (self->errors[LT_NOTIFY_EDITOR_FIELD_NONE]);
  self->errors[LT_NOTIFY_EDITOR_FIELD_NONE] = NULL;
  if (self->save_error != NULL &&
      !error_is_for (self->save_error, LT_NOTIFY_EDITOR_FIELD_DOMAIN) &&
      !error_is_for (self->save_error, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL) &&
      !error_is_for (self->save_error, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL))
    self->errors[LT_NOTIFY_EDITOR_FIELD_NONE] = g_strdup (self->save_error->message);
  lt_editor_show_label (self->general_error_label, self->errors[LT_NOTIFY_EDITOR_FIELD_NONE]);

  saved = stored_config (self) != NULL;
  gtk_widget_set_visible (self->remove_group, saved);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "notify.send-test",
                                 can_send_test (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "notify.save",
                                 self->valid && !self->busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "notify.remove", saved && !self->busy);
  update_key (self);
}

static void
field_changed_cb (LtNotifyEditor *self,
                  GtkEditable    *editable)
{
  for (int field = LT_NOTIFY_EDITOR_FIELD_DOMAIN; field < N_FIELDS; field++)
    {
      if (GTK_EDITABLE (field_row (self, field)) == editable)
        self->touched[field] = TRUE;
    }
  g_clear_error (&self->save_error);
  validate (self);
}

static void
status_changed_cb (LtNotifyEditor *self)
{
  g_clear_error (&self->save_error);
  validate (self);
}

static void
set_busy (LtNotifyEditor *self,
          gboolean        busy)
{
  self->busy = busy;
  lt_editor_show_spinner (self->spinner, busy);
  validate (self);
}

static void
store_changed_cb (LtNotifyEditor *self,
                  const char     *domain)
{
  /* Added or removed behind the dialog's back (the API): Remove and the key follow. */
  validate (self);
}

/* ---- save ---- */

static void
saved (LtNotifyEditor *self,
       gboolean        ok,
       GError         *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);
  if (!ok)
    {
      g_clear_error (&self->save_error);
      self->save_error = g_error_copy (error);
      validate (self);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_SAVED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
added_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtNotifyEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = lt_notify_store_add_finish (LT_NOTIFY_STORE (object), result, &error);

  saved (self, ok, error);
}

static void
updated_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtNotifyEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = lt_notify_store_update_finish (LT_NOTIFY_STORE (object), result, &error);

  saved (self, ok, error);
}

static void
save_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (widget);
  g_autoptr(LtNotifyConfig) config = NULL;

  self->save_tried = TRUE;
  validate (self);
  if (!self->valid || self->busy)
    return;

  config = make_config (self);
  set_busy (self, TRUE);
  if (lt_notify_store_lookup (self->store, config->domain) != NULL)
    lt_notify_store_update_async (self->store, config, self->cancellable,
                                  updated_cb, g_object_ref (self));
  else
    lt_notify_store_add_async (self->store, config, self->cancellable,
                               added_cb, g_object_ref (self));
}

/* ---- test callback ---- */

static void
set_test_result (LtNotifyEditor *self,
                 const char     *status,
                 const char     *reply,
                 gboolean        is_error)
{
  g_free (self->test_status);
  self->test_status = g_strdup (status);
  g_free (self->test_reply);
  self->test_reply = (reply != NULL && *reply != '\0') ? g_strdup (reply) : NULL;

  adw_action_row_set_subtitle (self->test_row, status);
  lt_editor_show_label (self->test_reply_label, self->test_reply);
  if (is_error)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->test_reply_label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->test_reply_label), "monospace");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->test_reply_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->test_reply_label), "monospace");
    }
}

static void
set_test_busy (LtNotifyEditor *self,
               gboolean        busy)
{
  self->test_busy = busy;
  lt_editor_show_spinner (GTK_WIDGET (self->test_spinner), busy);
  validate (self);
}

static void
test_sent_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LtNotifyEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *status_text = NULL;
  guint status = 0;

  if (!lt_callback_queue_test_finish (LT_CALLBACK_QUEUE (object), result, &status, &reply,
                                      &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_test_busy (self, FALSE);
      set_test_result (self, _("Not delivered"), error->message, TRUE);
      return;
    }

  set_test_busy (self, FALSE);
  /* TRANSLATORS: the receiver's answer to a test callback, e.g. "HTTP 200 OK" */
  status_text = g_strdup_printf (_("HTTP %u %s"), status, soup_status_get_phrase (status));
  if (status < 200 || status > 299)
    {
      g_autofree char *line = NULL;

      /* TRANSLATORS: %s is e.g. "HTTP 500 Internal Server Error" */
      line = g_strdup_printf (_("%s — Livetape would retry this callback"), status_text);
      set_test_result (self, line, reply, FALSE);
    }
  else
    {
      set_test_result (self, status_text, reply, FALSE);
    }
}

static char *
test_body (const char *domain)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, domain);
  json_builder_set_member_name (builder, "app");
  json_builder_add_string_value (builder, "test");
  json_builder_set_member_name (builder, "stream");
  json_builder_add_string_value (builder, "test");
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, "test");
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static void
send_test_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (widget);
  g_autofree char *domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  g_autofree char *url = field_text (self, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL);
  g_autofree char *body = test_body (domain);

  if (self->test_busy)
    return;

  set_test_result (self, _("Sending…"), NULL, FALSE);
  set_test_busy (self, TRUE);
  lt_callback_queue_test_async (self->queue, domain, url, body, self->test_cancellable,
                                test_sent_cb, g_object_ref (self));
}

/* ---- remove ---- */

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtNotifyEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_notify_store_remove_finish (LT_NOTIFY_STORE (object), result, &error))
    {
      g_signal_emit (self, signals[SIGNAL_REMOVED], 0);
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
remove_response_cb (LtNotifyEditor *self,
                    const char     *response)
{
  g_autofree char *domain = NULL;

  self->remove_dialog = NULL;
  if (g_strcmp0 (response, "remove") != 0 || self->busy)
    return;

  domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  set_busy (self, TRUE);
  lt_notify_store_remove_async (self->store, domain, self->cancellable,
                                removed_cb, g_object_ref (self));
}

static void
remove_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (widget);
  g_autofree char *domain = field_text (self, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  g_autofree char *body = NULL;

  if (self->remove_dialog != NULL)
    return;

  body = g_strdup_printf (_("Livetape stops sending callbacks for %s, forgets its signing key "
                            "and records its on-demand streams no more. Callbacks already "
                            "queued are still delivered."),
                          domain);
  self->remove_dialog = lt_editor_confirm_remove (GTK_WINDOW (self), _("Remove Callback Settings?"),
                                                 body, G_CALLBACK (remove_response_cb));
}

/* ---- GObject ---- */

static void
lt_notify_editor_dispose (GObject *object)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->test_cancellable);
  if (self->remove_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->remove_dialog)));
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, store_changed_cb, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_NOTIFY_EDITOR);

  g_clear_object (&self->store);
  g_clear_object (&self->queue);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->test_cancellable);

  G_OBJECT_CLASS (lt_notify_editor_parent_class)->dispose (object);
}

static void
lt_notify_editor_finalize (GObject *object)
{
  LtNotifyEditor *self = LT_NOTIFY_EDITOR (object);

  for (int field = 0; field < N_FIELDS; field++)
    g_free (self->errors[field]);
  g_clear_error (&self->save_error);
  g_free (self->domain);
  g_free (self->test_status);
  g_free (self->test_reply);

  G_OBJECT_CLASS (lt_notify_editor_parent_class)->finalize (object);
}

static void
lt_notify_editor_class_init (LtNotifyEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_notify_editor_dispose;
  object_class->finalize = lt_notify_editor_finalize;

  signals[SIGNAL_SAVED] =
    g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REMOVED] =
    g_signal_new ("removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-notify-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, window_title);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, save_button);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, spinner);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, general_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, domain_row);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, domain_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, notify_url_row);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, notify_url_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, status_switch);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, on_demand_url_row);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, on_demand_url_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, test_row);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, test_spinner);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, test_reply_label);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, key_row);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, reveal_button);
  gtk_widget_class_bind_template_child (widget_class, LtNotifyEditor, remove_group);
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, status_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, reveal_toggled_cb);

  gtk_widget_class_install_action (widget_class, "notify.save", NULL, save_activated);
  gtk_widget_class_install_action (widget_class, "notify.send-test", NULL, send_test_activated);
  gtk_widget_class_install_action (widget_class, "notify.copy-key", NULL, copy_key_activated);
  gtk_widget_class_install_action (widget_class, "notify.remove", NULL, remove_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
lt_notify_editor_init (LtNotifyEditor *self)
{
  self->cancellable = g_cancellable_new ();
  self->test_cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_window_set_default_widget (GTK_WINDOW (self), self->save_button);
}

LtNotifyEditor *
lt_notify_editor_new (LtNotifyStore   *store,
                      LtCallbackQueue *queue,
                      const char      *domain)
{
  LtNotifyEditor *self;
  const LtNotifyConfig *config;

  g_return_val_if_fail (LT_IS_NOTIFY_STORE (store), NULL);
  g_return_val_if_fail (LT_IS_CALLBACK_QUEUE (queue), NULL);

  self = g_object_new (LT_TYPE_NOTIFY_EDITOR, NULL);
  self->store = g_object_ref (store);
  self->queue = g_object_ref (queue);
  if (domain != NULL && *domain != '\0')
    self->domain = g_strdup (domain);

  g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb), self,
                           G_CONNECT_SWAPPED);

  if (self->domain != NULL)
    {
      adw_window_title_set_subtitle (self->window_title, self->domain);
      config = lt_notify_store_lookup (store, self->domain);
      if (config != NULL)
        {
          gtk_editable_set_text (GTK_EDITABLE (self->notify_url_row),
                                 config->notify_url != NULL ? config->notify_url : "");
          gtk_switch_set_active (self->status_switch, config->need_status_notify);
          gtk_editable_set_text (GTK_EDITABLE (self->on_demand_url_row),
                                 config->on_demand_url != NULL ? config->on_demand_url : "");
        }
      gtk_widget_grab_focus (GTK_WIDGET (self->notify_url_row));
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->domain_row), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->domain_row));
    }

  /* Filling the fields is not the operator touching them. */
  for (int field = 0; field < N_FIELDS; field++)
    self->touched[field] = FALSE;
  validate (self);

  return self;
}

GtkEditable *
_lt_notify_editor_get_field (LtNotifyEditor      *self,
                             LtNotifyEditorField  field)
{
  return GTK_EDITABLE (field_row (self, field));
}

GtkSwitch *
_lt_notify_editor_get_status_switch (LtNotifyEditor *self)
{
  return self->status_switch;
}

const char *
_lt_notify_editor_get_error (LtNotifyEditor      *self,
                             LtNotifyEditorField  field)
{
  return self->errors[field];
}

gboolean
_lt_notify_editor_get_can_save (LtNotifyEditor *self)
{
  return gtk_widget_is_sensitive (self->save_button);
}

gboolean
_lt_notify_editor_get_saved (LtNotifyEditor *self)
{
  return stored_config (self) != NULL;
}

const char *
_lt_notify_editor_get_test_status (LtNotifyEditor *self)
{
  return self->test_status;
}

const char *
_lt_notify_editor_get_test_reply (LtNotifyEditor *self)
{
  return self->test_reply;
}

gboolean
_lt_notify_editor_get_test_busy (LtNotifyEditor *self)
{
  return self->test_busy;
}

const char *
_lt_notify_editor_get_key_text (LtNotifyEditor *self)
{
  return adw_action_row_get_subtitle (self->key_row);
}

GtkToggleButton *
_lt_notify_editor_get_reveal_button (LtNotifyEditor *self)
{
  return self->reveal_button;
}

AdwMessageDialog *
_lt_notify_editor_get_remove_dialog (LtNotifyEditor *self)
{
  return self->remove_dialog;
}

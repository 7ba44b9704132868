/* lt-storage-target-editor.c: one S3 storage target (see lt-storage-target-editor.h).
 *
 * Validation is the core's (lt_storage_target_check()), field by field: each field is
 * checked with known-good values in the others, so every problem shows at once, at its
 * own field, in the core's words (`livetape --add-storage-target` says the same). A field
 * the operator has not touched does not complain until Save is tried.
 *
 * The secret key lives in a password row only while the dialog is open: it is handed to
 * the targets object on Save (which puts it in the keyring), and the row is emptied once
 * the save went through and when the dialog goes away. When editing, an empty secret row
 * keeps the stored key.
 *
 * "Test Connection" checks the stored target (its key is in the keyring, not in the
 * dialog), so it is offered once the settings shown are the stored ones. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-editor-util.h"
#include "lt-storage-target-editor.h"

#define N_FIELDS (LT_STORAGE_TARGET_EDITOR_FIELD_SECRET + 1)

struct _LtStorageTargetEditor
{
  AdwWindow         parent_instance;

  LtStorageTargets *targets;
  char             *name;           /* the stored target edited, or NULL: adding */
  GCancellable     *cancellable;
  GCancellable     *test_cancellable;
  gboolean          busy;
  gboolean          test_busy;
  gboolean          save_tried;
  gboolean          valid;
  gboolean          touched[N_FIELDS];
  char             *errors[N_FIELDS];
  GError           *save_error;     /* what the last save said, until a change */
  char             *test_result;
  gboolean          test_failed;
  AdwMessageDialog *remove_dialog;

  AdwWindowTitle   *window_title;
  GtkWidget        *save_button;
  GtkWidget        *spinner;
  GtkLabel         *general_error_label;
  AdwEntryRow      *name_row;
  GtkLabel         *name_error_label;
  AdwEntryRow      *endpoint_row;
  GtkLabel         *endpoint_error_label;
  AdwEntryRow      *region_row;
  GtkLabel         *region_error_label;
  AdwEntryRow      *bucket_row;
  GtkLabel         *bucket_error_label;
  GtkSwitch        *path_style_switch;
  AdwEntryRow      *access_key_id_row;
  GtkLabel         *access_key_id_error_label;
  AdwPasswordEntryRow *secret_row;
  GtkLabel         *secret_error_label;
  GtkWidget        *test_group;
  AdwActionRow     *test_row;
  GtkSpinner       *test_spinner;
  GtkWidget        *test_button;
  GtkLabel         *test_result_label;
  GtkWidget        *remove_group;
};

G_DEFINE_FINAL_TYPE (LtStorageTargetEditor, lt_storage_target_editor, ADW_TYPE_WINDOW)

enum {
  SIGNAL_SAVED,
  SIGNAL_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void validate (LtStorageTargetEditor *self);

/* ---- fields ---- */

static GtkWidget *
field_row (LtStorageTargetEditor      *self,
           LtStorageTargetEditorField  field)
{
  switch (field)
    {
    case LT_STORAGE_TARGET_EDITOR_FIELD_NAME:
      return GTK_WIDGET (self->name_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT:
      return GTK_WIDGET (self->endpoint_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_REGION:
      return GTK_WIDGET (self->region_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET:
      return GTK_WIDGET (self->bucket_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID:
      return GTK_WIDGET (self->access_key_id_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_SECRET:
      return GTK_WIDGET (self->secret_row);
    case LT_STORAGE_TARGET_EDITOR_FIELD_NONE:
    default:
      return NULL;
    }
}

static GtkLabel *
field_label (LtStorageTargetEditor      *self,
             LtStorageTargetEditorField  field)
{
  switch (field)
    {
    case LT_STORAGE_TARGET_EDITOR_FIELD_NAME:
      return self->name_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT:
      return self->endpoint_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_REGION:
      return self->region_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET:
      return self->bucket_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID:
      return self->access_key_id_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_SECRET:
      return self->secret_error_label;
    case LT_STORAGE_TARGET_EDITOR_FIELD_NONE:
    default:
      return self->general_error_label;
    }
}

/* The field's text without surrounding blanks (pasted values often carry some); the
 * secret is taken as typed. */
static char *
field_text (LtStorageTargetEditor      *self,
            LtStorageTargetEditorField  field)
{
  const char *text;

  if (field == LT_STORAGE_TARGET_EDITOR_FIELD_NAME && self->name != NULL)
    return g_strdup (self->name);

  text = gtk_editable_get_text (GTK_EDITABLE (field_row (self, field)));
  if (field == LT_STORAGE_TARGET_EDITOR_FIELD_SECRET)
    return g_strdup (text);
  return g_strstrip (g_strdup (text));
}

static char *
empty_to_null (char *text)
{
  if (text != NULL && *text == '\0')
    {
      g_free (text);
      return NULL;
    }
  return text;
}

static LtStorageTarget *
make_target (LtStorageTargetEditor *self)
{
  g_autofree char *name = field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_NAME);
  g_autofree char *endpoint = field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT);
  g_autofree char *region = empty_to_null (field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_REGION));
  g_autofree char *bucket = empty_to_null (field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET));
  g_autofree char *key_id = empty_to_null (field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID));

  return lt_storage_target_new_s3 (name, endpoint, region, bucket,
                                   gtk_switch_get_active (self->path_style_switch), key_id);
}

static LtStorageTargetEditorField
error_field (const GError *error)
{
  if (error == NULL || error->domain != LT_STORAGE_TARGETS_ERROR)
    return LT_STORAGE_TARGET_EDITOR_FIELD_NONE;

  switch (error->code)
    {
    case LT_STORAGE_TARGETS_ERROR_INVALID_NAME:
    case LT_STORAGE_TARGETS_ERROR_EXISTS:
    case LT_STORAGE_TARGETS_ERROR_BUILT_IN:
      return LT_STORAGE_TARGET_EDITOR_FIELD_NAME;
    case LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT:
      return LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT;
    case LT_STORAGE_TARGETS_ERROR_INVALID_REGION:
      return LT_STORAGE_TARGET_EDITOR_FIELD_REGION;
    case LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET:
      return LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET;
    case LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID:
      return LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID;
    case LT_STORAGE_TARGETS_ERROR_INVALID_SECRET:
      return LT_STORAGE_TARGET_EDITOR_FIELD_SECRET;
    default:
      return LT_STORAGE_TARGET_EDITOR_FIELD_NONE;
    }
}

/* The secret's own checks (the core makes the same when saving): a key id needs a key
 * when adding, a key needs a key id, no control characters. */
static char *
check_secret (LtStorageTargetEditor *self)
{
  g_autofree char *secret = field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET);
  g_autofree char *key_id = field_text (self, LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID);
  char *message = NULL;

  if (*secret == '\0')
    {
      if (*key_id != '\0' && self->name == NULL)
        message = g_strdup (_("A target with an access key id needs its secret access key"));
    }
  else if (*key_id == '\0')
    {
      message = g_strdup (_("A secret access key was given without an access key id"));
    }
  else
    {
      for (const char *p = secret; *p != '\0' && message == NULL; p++)
        if ((guchar) *p < 0x20 || *p == 0x7f)
          message = g_strdup (_("The secret access key must not contain control characters"));
    }
  /* Wipe the copy: it is the operator's key. */
  memset (secret, 0, strlen (secret));
  return message;
}

/* The core's message for @field alone: the others get values that pass. */
static char *
check_field (LtStorageTargetEditor      *self,
             LtStorageTargetEditorField  field)
{
  g_autofree char *value = NULL;
  g_autoptr(LtStorageTarget) target = NULL;
  g_autoptr(GError) error = NULL;

  if (field == LT_STORAGE_TARGET_EDITOR_FIELD_SECRET)
    return check_secret (self);

  value = field_text (self, field);
  if (field == LT_STORAGE_TARGET_EDITOR_FIELD_NAME)
    {
      if (self->name != NULL)
        return NULL;
      if (!lt_storage_target_check_name (value, &error))
        return g_strdup (error->message);
      if (lt_storage_targets_lookup (self->targets, value) != NULL)
        return g_strdup_printf (_("A storage target named “%s” already exists."), value);
      return NULL;
    }

  target = lt_storage_target_new_s3 ("example",
                                     field == LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT
                                     ? value : "https://s3.example.com",
                                     field == LT_STORAGE_TARGET_EDITOR_FIELD_REGION &&
                                     *value != '\0' ? value : NULL,
                                     field == LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET &&
                                     *value != '\0' ? value : NULL,
                                     FALSE,
                                     field == LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID &&
                                     *value != '\0' ? value : NULL);
  if (lt_storage_target_check (target, &error) || error_field (error) != field)
    return NULL;
  return g_strdup (error->message);
}

/* Whether the fields show the stored settings (so a test tests what is shown). */
static gboolean
is_dirty (LtStorageTargetEditor *self)
{
  LtStorageTarget *stored;
  g_autoptr(LtStorageTarget) shown = NULL;

  if (self->name == NULL)
    return TRUE;
  stored = lt_storage_targets_lookup (self->targets, self->name);
  if (stored == NULL)
    return TRUE;
  shown = make_target (self);
  /* A new key typed is a change too (read in place: no copy of it is made). */
  return *gtk_editable_get_text (GTK_EDITABLE (self->secret_row)) != '\0' ||
         g_strcmp0 (lt_storage_target_get_endpoint (stored),
                    gtk_editable_get_text (GTK_EDITABLE (self->endpoint_row))) != 0 ||
         g_strcmp0 (lt_storage_target_get_region (stored), lt_storage_target_get_region (shown)) != 0 ||
         g_strcmp0 (lt_storage_target_get_bucket (stored), lt_storage_target_get_bucket (shown)) != 0 ||
         lt_storage_target_get_path_style (stored) != lt_storage_target_get_path_style (shown) ||
         g_strcmp0 (lt_storage_target_get_access_key_id (stored),
                    lt_storage_target_get_access_key_id (shown)) != 0;
}

static void
validate (LtStorageTargetEditor *self)
{
  gboolean saved, can_test;
  LtStorageTargetEditorField general;

  if (self->targets == NULL)
    return;  /* still being built */

  self->valid = TRUE;
  for (int field = LT_STORAGE_TARGET_EDITOR_FIELD_NAME; field < N_FIELDS; field++)
    {
      g_autofree char *message = check_field (self, field);
      gboolean shown;

      /* What the last save said about this field counts until the operator edits. */
      if (message == NULL && self->save_error != NULL && error_field (self->save_error) == (LtStorageTargetEditorField) field)
        message = g_strdup (self->save_error->message);

      shown = message != NULL && (self->touched[field] || self->save_tried);
      if (message != NULL)
        self->valid = FALSE;
      g_free (self->errors[field]);
      self->errors[field] = shown ? g_steal_pointer (&message) : NULL;
      if (shown)
        gtk_widget_add_css_class (field_row (self, field), "error");
      else
        gtk_widget_remove_css_class (field_row (self, field), "error");
      lt_editor_show_label (field_label (self, field), self->errors[field]);
    }

  general = error_field (self->save_error);
  g_free (self->errors[LT_STORAGE_TARGET_EDITOR_FIELD_NONE]);
  self->errors[LT_STORAGE_TARGET_EDITOR_FIELD_NONE] =
    self->save_error != NULL && general == LT_STORAGE_TARGET_EDITOR_FIELD_NONE
    ? g_strdup (self->save_error->message) : NULL;
  lt_editor_show_label (self->general_error_label,
                        self->errors[LT_STORAGE_TARGET_EDITOR_FIELD_NONE]);

  saved = self->name != NULL && lt_storage_targets_lookup (self->targets, self->name) != NULL;
  can_test = saved && !is_dirty (self);
  gtk_widget_set_visible (self->remove_group, saved);
  gtk_widget_set_visible (self->test_group, saved);
  if (saved && !self->test_busy && self->test_result == NULL)
    adw_action_row_set_subtitle (self->test_row,
                                 can_test ? _("Not tested yet")
                                          : _("Save the changes to test them"));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "target.save", self->valid && !self->busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "target.test",
                                 can_test && !self->test_busy && !self->busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "target.remove", saved && !self->busy);
}

static void
field_changed_cb (LtStorageTargetEditor *self,
                  GtkEditable           *editable)
{
  for (int field = LT_STORAGE_TARGET_EDITOR_FIELD_NAME; field < N_FIELDS; field++)
    {
      if (GTK_EDITABLE (field_row (self, field)) == editable)
        self->touched[field] = TRUE;
    }
  /* A key id typed or removed changes what the secret row needs. */
  if (editable == GTK_EDITABLE (self->access_key_id_row))
    self->touched[LT_STORAGE_TARGET_EDITOR_FIELD_SECRET] =
      self->touched[LT_STORAGE_TARGET_EDITOR_FIELD_SECRET] ||
      *gtk_editable_get_text (GTK_EDITABLE (self->secret_row)) != '\0';
  g_clear_error (&self->save_error);
  validate (self);
}

static void
path_style_changed_cb (LtStorageTargetEditor *self)
{
  g_clear_error (&self->save_error);
  validate (self);
}

static void
set_busy (LtStorageTargetEditor *self,
          gboolean               busy)
{
  self->busy = busy;
  lt_editor_show_spinner (self->spinner, busy);
  validate (self);
}

static void
clear_secret (LtStorageTargetEditor *self)
{
  if (self->secret_row != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->secret_row), "");
}

static void
targets_changed_cb (LtStorageTargetEditor *self)
{
  /* Changed or removed behind the dialog's back (the command line, another window). */
  validate (self);
}

/* ---- save ---- */

static void
saved (LtStorageTargetEditor *self,
       gboolean               ok,
       GError                *error)
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

  clear_secret (self);
  g_signal_emit (self, signals[SIGNAL_SAVED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
added_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtStorageTargetEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = lt_storage_targets_add_finish (LT_STORAGE_TARGETS (object), result, &error);

  saved (self, ok, error);
}

static void
updated_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStorageTargetEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = lt_storage_targets_update_finish (LT_STORAGE_TARGETS (object), result, &error);

  saved (self, ok, error);
}

static void
save_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LtStorageTargetEditor *self = LT_STORAGE_TARGET_EDITOR (widget);
  g_autoptr(LtStorageTarget) target = NULL;
  const char *secret;

  self->save_tried = TRUE;
  validate (self);
  if (!self->valid || self->busy)
    return;

  target = make_target (self);
  /* Straight from the row to the targets object, which copies it into the keyring. */
  secret = gtk_editable_get_text (GTK_EDITABLE (self->secret_row));
  set_busy (self, TRUE);
  if (self->name == NULL)
    lt_storage_targets_add_async (self->targets, target, secret, self->cancellable,
                                  added_cb, g_object_ref (self));
  else
    lt_storage_targets_update_async (self->targets, target, *secret != '\0' ? secret : NULL,
                                     self->cancellable, updated_cb, g_object_ref (self));
}

/* ---- test connection ---- */

static void
set_test_result (LtStorageTargetEditor *self,
                 const char            *result,
                 gboolean               failed)
{
  g_free (self->test_result);
  self->test_result = g_strdup (result);
  self->test_failed = failed;

  adw_action_row_set_subtitle (self->test_row,
                               failed ? _("The test failed") : _("The connection works"));
  lt_editor_show_label (self->test_result_label, result);
  if (failed)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->test_result_label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->test_result_label), "success");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->test_result_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->test_result_label), "success");
    }
}

static void
set_test_busy (LtStorageTargetEditor *self,
               gboolean               busy)
{
  self->test_busy = busy;
  lt_editor_show_spinner (GTK_WIDGET (self->test_spinner), busy);
  validate (self);
}

static void
tested_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LtStorageTargetEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_storage_targets_test_connection_finish (LT_STORAGE_TARGETS (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_test_busy (self, FALSE);
      set_test_result (self, error->message, TRUE);
      return;
    }

  set_test_busy (self, FALSE);
  set_test_result (self, _("The bucket exists and Livetape can write to it."), FALSE);
}

static void
test_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LtStorageTargetEditor *self = LT_STORAGE_TARGET_EDITOR (widget);
  LtStorageTarget *target;

  if (self->test_busy || self->name == NULL)
    return;
  target = lt_storage_targets_lookup (self->targets, self->name);
  if (target == NULL)
    return;

  g_clear_pointer (&self->test_result, g_free);
  lt_editor_show_label (self->test_result_label, NULL);
  adw_action_row_set_subtitle (self->test_row, _("Testing…"));
  set_test_busy (self, TRUE);
  lt_storage_targets_test_connection_async (self->targets, target, NULL, 0,
                                            self->test_cancellable, tested_cb,
                                            g_object_ref (self));
}

/* ---- remove ---- */

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtStorageTargetEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_storage_targets_remove_finish (LT_STORAGE_TARGETS (object), result, &error))
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
remove_response_cb (LtStorageTargetEditor *self,
                    const char            *response)
{
  self->remove_dialog = NULL;
  if (g_strcmp0 (response, "remove") != 0 || self->busy || self->name == NULL)
    return;

  set_busy (self, TRUE);
  lt_storage_targets_remove_async (self->targets, self->name, self->cancellable,
                                   removed_cb, g_object_ref (self));
}

static void
remove_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LtStorageTargetEditor *self = LT_STORAGE_TARGET_EDITOR (widget);
  g_autofree char *body = NULL;

  if (self->remove_dialog != NULL || self->name == NULL)
    return;

  body = g_strdup_printf (_("Livetape forgets storage target “%s” and removes its secret key "
                            "from the keyring. Rules that name it can no longer record, and "
                            "uploads still queued for it wait until a target of that name "
                            "exists again. Objects already stored stay where they are."),
                          self->name);
  self->remove_dialog = lt_editor_confirm_remove (GTK_WINDOW (self), _("Remove Storage Target?"),
                                                 body, G_CALLBACK (remove_response_cb));
}

/* ---- GObject ---- */

static void
lt_storage_target_editor_dispose (GObject *object)
{
  LtStorageTargetEditor *self = LT_STORAGE_TARGET_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->test_cancellable);
  if (self->remove_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->remove_dialog)));
  if (self->targets != NULL)
    g_signal_handlers_disconnect_by_func (self->targets, targets_changed_cb, self);
  g_clear_object (&self->targets);
  clear_secret (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_STORAGE_TARGET_EDITOR);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->test_cancellable);

  G_OBJECT_CLASS (lt_storage_target_editor_parent_class)->dispose (object);
}

static void
lt_storage_target_editor_finalize (GObject *object)
{
  LtStorageTargetEditor *self = LT_STORAGE_TARGET_EDITOR (object);

  for (int field = 0; field < N_FIELDS; field++)
    g_free (self->errors[field]);
  g_clear_error (&self->save_error);
  g_free (self->name);
  g_free (self->test_result);

  G_OBJECT_CLASS (lt_storage_target_editor_parent_class)->finalize (object);
}

static void
lt_storage_target_editor_class_init (LtStorageTargetEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_storage_target_editor_dispose;
  object_class->finalize = lt_storage_target_editor_finalize;

  signals[SIGNAL_SAVED] =
    g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REMOVED] =
    g_signal_new ("removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-storage-target-editor.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, LtStorageTargetEditor, name)
  BIND (window_title);
  BIND (save_button);
  BIND (spinner);
  BIND (general_error_label);
  BIND (name_row);
  BIND (name_error_label);
  BIND (endpoint_row);
  BIND (endpoint_error_label);
  BIND (region_row);
  BIND (region_error_label);
  BIND (bucket_row);
  BIND (bucket_error_label);
  BIND (path_style_switch);
  BIND (access_key_id_row);
  BIND (access_key_id_error_label);
  BIND (secret_row);
  BIND (secret_error_label);
  BIND (test_group);
  BIND (test_row);
  BIND (test_spinner);
  BIND (test_button);
  BIND (test_result_label);
  BIND (remove_group);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, path_style_changed_cb);

  gtk_widget_class_install_action (widget_class, "target.save", NULL, save_activated);
  gtk_widget_class_install_action (widget_class, "target.test", NULL, test_activated);
  gtk_widget_class_install_action (widget_class, "target.remove", NULL, remove_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "target.save", NULL);
}

static void
lt_storage_target_editor_init (LtStorageTargetEditor *self)
{
  self->cancellable = g_cancellable_new ();
  self->test_cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_window_set_default_widget (GTK_WINDOW (self), self->save_button);
}

LtStorageTargetEditor *
lt_storage_target_editor_new (LtStorageTargets *targets,
                              const char       *name)
{
  LtStorageTargetEditor *self;
  LtStorageTarget *target = NULL;

  g_return_val_if_fail (LT_IS_STORAGE_TARGETS (targets), NULL);

  self = g_object_new (LT_TYPE_STORAGE_TARGET_EDITOR, NULL);
  if (name != NULL)
    target = lt_storage_targets_lookup (targets, name);

  if (target != NULL && lt_storage_target_get_kind (target) == LT_STORAGE_TARGET_KIND_S3)
    {
      const char *value;

      self->name = g_strdup (lt_storage_target_get_name (target));
      adw_window_title_set_title (self->window_title, _("Storage Target"));
      adw_window_title_set_subtitle (self->window_title, self->name);
      gtk_widget_set_visible (GTK_WIDGET (self->name_row), FALSE);
      gtk_editable_set_text (GTK_EDITABLE (self->endpoint_row),
                             lt_storage_target_get_endpoint (target));
      gtk_editable_set_text (GTK_EDITABLE (self->region_row),
                             lt_storage_target_get_region (target));
      value = lt_storage_target_get_bucket (target);
      gtk_editable_set_text (GTK_EDITABLE (self->bucket_row), value != NULL ? value : "");
      gtk_switch_set_active (self->path_style_switch, lt_storage_target_get_path_style (target));
      value = lt_storage_target_get_access_key_id (target);
      gtk_editable_set_text (GTK_EDITABLE (self->access_key_id_row), value != NULL ? value : "");
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->secret_row),
                                     _("New Secret Access Key (empty: keep the stored one)"));
      gtk_widget_grab_focus (GTK_WIDGET (self->endpoint_row));
    }
  else
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
    }

  self->targets = g_object_ref (targets);
  g_signal_connect_object (targets, "changed", G_CALLBACK (targets_changed_cb), self,
                           G_CONNECT_SWAPPED);
  /* Filling the fields is not the operator touching them. */
  for (int field = 0; field < N_FIELDS; field++)
    self->touched[field] = FALSE;
  validate (self);

  return self;
}

GtkEditable *
_lt_storage_target_editor_get_field (LtStorageTargetEditor      *self,
                                     LtStorageTargetEditorField  field)
{
  return GTK_EDITABLE (field_row (self, field));
}

GtkSwitch *
_lt_storage_target_editor_get_path_style (LtStorageTargetEditor *self)
{
  return self->path_style_switch;
}

const char *
_lt_storage_target_editor_get_error (LtStorageTargetEditor      *self,
                                     LtStorageTargetEditorField  field)
{
  return self->errors[field];
}

gboolean
_lt_storage_target_editor_get_can_save (LtStorageTargetEditor *self)
{
  return self->valid && !self->busy;
}

GtkButton *
_lt_storage_target_editor_get_save_button (LtStorageTargetEditor *self)
{
  return GTK_BUTTON (self->save_button);
}

GtkButton *
_lt_storage_target_editor_get_test_button (LtStorageTargetEditor *self)
{
  return GTK_BUTTON (self->test_button);
}

gboolean
_lt_storage_target_editor_get_test_busy (LtStorageTargetEditor *self)
{
  return self->test_busy;
}

const char *
_lt_storage_target_editor_get_test_result (LtStorageTargetEditor *self,
                                           gboolean              *failed)
{
  if (failed != NULL)
    *failed = self->test_failed;
  return self->test_result;
}

AdwMessageDialog *
_lt_storage_target_editor_get_remove_dialog (LtStorageTargetEditor *self)
{
  return self->remove_dialog;
}

/* lt-sync-page.c: the Sync page (see lt-sync-page.h).
 *
 * The uploads are views over the sync engine: one group per S3 storage target, updated
 * in place on the engine's "changed" (already throttled there, so a page refresh per
 * signal is cheap), and the failed uploads bound to its failures model.
 *
 * It also lists every domain's callback settings (the notify store is a GListModel), so
 * that a domain without rules, which has no group on the Rules page, can be found again;
 * a row opens the same dialog through win.callback-settings.
 *
 * The outbox lives in the catalog, not in a GListModel: the page asks the queue for the
 * failed and expired callbacks and rebuilds its list from the answer. Callbacks change
 * state in bursts (a dead receiver with thousands queued), so "item-changed" only
 * schedules a refresh a moment later and a burst costs one query; a refresh asked for
 * while one runs is done once it finishes. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-sync-page.h"

#define REFRESH_DELAY_MS 250
#define LIST_LIMIT       200

struct _LtSyncPage
{
  AdwBin           parent_instance;

  LtCallbackQueue *queue;
  LtNotifyStore   *notify_store;
  GCancellable    *cancellable;
  guint            refresh_id;
  gboolean         listing;
  gboolean         refresh_again;
  gboolean         loaded;
  char            *pending_text;

  GtkStack        *stack;
  AdwStatusPage   *empty_page;
  GtkLabel        *pending_label;
  GtkWidget       *failed_group;
  GtkListBox      *list;
  GtkWidget       *settings_group;
  GtkListBox      *settings_list;

  LtSyncEngine     *sync;
  LtStorageTargets *storage_targets;
  GHashTable       *targets_shown;    /* name → TargetView */

  GtkBox          *uploads_box;
  GtkWidget       *upload_failures_group;
  GtkListBox      *upload_failures_list;
};

G_DEFINE_FINAL_TYPE (LtSyncPage, lt_sync_page, ADW_TYPE_BIN)

static void refresh (LtSyncPage *self);
static void update_state (LtSyncPage *self);

/* ---- toasts ---- */

static void
add_toast (LtSyncPage *self,
           AdwToast   *toast)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (toast);
}

/* ---- rows ---- */

static const char *
kind_label (const char *kind)
{
  if (g_strcmp0 (kind, "file") == 0)
    return _("File callback");
  if (g_strcmp0 (kind, "status") == 0)
    return _("Status callback");
  if (g_strcmp0 (kind, "test") == 0)
    return _("Test callback");
  return kind != NULL ? kind : "";
}

static char *
row_subtitle (const LtCallbackItem *item)
{
  g_autoptr(GString) text = g_string_new (NULL);

  g_string_append (text, item->state == LT_CALLBACK_EXPIRED ? _("Expired") : _("Failed"));
  g_string_append (text, " · ");
  g_string_append (text, kind_label (item->kind));
  if (item->stream_key != NULL && *item->stream_key != '\0')
    {
      g_string_append (text, " · ");
      g_string_append (text, item->stream_key);
    }
  g_string_append (text, " · ");
  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u attempt", "%u attempts",
                                             item->attempts),
                          item->attempts);
  g_string_append_c (text, '\n');
  g_string_append (text, item->last_error != NULL ? item->last_error : _("No error recorded"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

typedef struct
{
  LtSyncPage *page;
  GtkWidget  *button;
} ResendData;

static void
resend_data_free (ResendData *data)
{
  g_clear_object (&data->page);
  g_clear_object (&data->button);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ResendData, resend_data_free)

static void
resent_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ResendData) data = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_callback_queue_resend_finish (LT_CALLBACK_QUEUE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_widget_set_sensitive (data->button, TRUE);
      add_toast (data->page, adw_toast_new (error->message));
    }
  refresh (data->page);
}

static void
resend_clicked_cb (GtkButton  *button,
                   LtSyncPage *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_ACTION_ROW);
  gint64 *id = row != NULL ? g_object_get_data (G_OBJECT (row), "lt-callback-id") : NULL;
  ResendData *data;

  if (id == NULL || self->queue == NULL)
    return;

  /* Until the list says where the callback went, one click is enough. */
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  data = g_new0 (ResendData, 1);
  data->page = g_object_ref (self);
  data->button = g_object_ref (GTK_WIDGET (button));
  lt_callback_queue_resend_async (self->queue, *id, self->cancellable, resent_cb, data);
}

static GtkWidget *
row_new (LtSyncPage           *self,
         const LtCallbackItem *item)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *subtitle = row_subtitle (item);
  GtkWidget *button;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), item->url != NULL ? item->url : "");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 2);
  g_object_set_data_full (G_OBJECT (row), "lt-callback-id",
                          g_memdup2 (&item->id, sizeof item->id), g_free);

  button = gtk_button_new_with_mnemonic (_("_Re-send"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Put this callback back in the queue"));
  g_signal_connect_object (button, "clicked", G_CALLBACK (resend_clicked_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "lt-resend-button", button);

  return row;
}

/* ---- uploads ---- */

/* One storage target's group: its widgets, updated in place on every "changed" (so that
 * focus and the progress bar survive an update). What they show is all the state there is:
 * the engine is asked again on every update and every click. */
typedef struct
{
  char           *name;
  GtkWidget      *group;
  AdwActionRow   *state_row;
  GtkImage       *state_icon;
  AdwActionRow   *queue_row;
  AdwActionRow   *current_row;
  GtkProgressBar *progress;
  GtkButton      *pause_button;
  GtkButton      *retry_all_button;
} TargetView;

static void
target_view_free (TargetView *view)
{
  g_free (view->name);
  g_free (view);
}

static void
add_toast_error (LtSyncPage   *self,
                 const GError *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    add_toast (self, adw_toast_new (error->message));
}

static void
retried_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtSyncPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_sync_engine_retry_finish (LT_SYNC_ENGINE (object), result, &error))
    add_toast_error (self, error);
}

static void
retried_all_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtSyncPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_sync_engine_retry_all_finish (LT_SYNC_ENGINE (object), result, &error))
    add_toast_error (self, error);
}

static void
pause_clicked_cb (GtkButton  *button,
                  LtSyncPage *self)
{
  const char *name = g_object_get_data (G_OBJECT (button), "lt-target");
  g_autoptr(LtSyncTargetStatus) status = NULL;

  if (self->sync == NULL)
    return;
  /* The engine's word, not the label's: "changed" is throttled, so the label can lag a
   * click behind. */
  status = lt_sync_engine_get_target_status (self->sync, name);
  if (status->paused)
    lt_sync_engine_resume (self->sync, name);
  else
    lt_sync_engine_pause (self->sync, name);
}

static void
retry_all_clicked_cb (GtkButton  *button,
                      LtSyncPage *self)
{
  const char *name = g_object_get_data (G_OBJECT (button), "lt-target");

  if (self->sync == NULL)
    return;
  lt_sync_engine_retry_all_async (self->sync, name, self->cancellable, retried_all_cb,
                                  g_object_ref (self));
}

static TargetView *
target_view_new (LtSyncPage *self,
                 const char *name)
{
  TargetView *view = g_new0 (TargetView, 1);
  GtkWidget *box, *suffix;

  view->name = g_strdup (name);
  view->group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (view->group), name);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  view->retry_all_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Retry _All")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (view->retry_all_button),
                               _("Put every failed upload of this target back in the queue"));
  g_object_set_data_full (G_OBJECT (view->retry_all_button), "lt-target", g_strdup (name), g_free);
  g_signal_connect_object (view->retry_all_button, "clicked", G_CALLBACK (retry_all_clicked_cb),
                           self, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (view->retry_all_button));
  view->pause_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Pause")));
  g_object_set_data_full (G_OBJECT (view->pause_button), "lt-target", g_strdup (name), g_free);
  g_signal_connect_object (view->pause_button, "clicked", G_CALLBACK (pause_clicked_cb), self, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (view->pause_button));
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (view->group), box);

  view->state_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (view->state_row), FALSE);
  adw_action_row_set_subtitle_lines (view->state_row, 0);
  view->state_icon = GTK_IMAGE (gtk_image_new ());
  gtk_accessible_update_state (GTK_ACCESSIBLE (view->state_icon),
                               GTK_ACCESSIBLE_STATE_HIDDEN, TRUE, -1);
  adw_action_row_add_prefix (view->state_row, GTK_WIDGET (view->state_icon));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (view->group), GTK_WIDGET (view->state_row));

  view->queue_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (view->queue_row), _("Queue"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (view->group), GTK_WIDGET (view->queue_row));

  view->current_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (view->current_row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (view->current_row), _("Sending"));
  suffix = gtk_progress_bar_new ();
  view->progress = GTK_PROGRESS_BAR (suffix);
  gtk_widget_set_valign (suffix, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (suffix, 120, -1);
  adw_action_row_add_suffix (view->current_row, suffix);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (view->group), GTK_WIDGET (view->current_row));

  return view;
}

static void
target_view_update (TargetView               *view,
                    const LtSyncTargetStatus *status,
                    LtStorageTarget          *target)
{
  g_autofree char *description = NULL;
  g_autofree char *queue = NULL;
  const char *state, *detail, *icon;

  if (target != NULL && lt_storage_target_get_endpoint (target) != NULL)
    {
      const char *bucket = lt_storage_target_get_bucket (target);

      description = bucket != NULL
                    ? g_strdup_printf ("%s · %s", lt_storage_target_get_endpoint (target), bucket)
                    : g_strdup (lt_storage_target_get_endpoint (target));
    }
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (view->group), description);

  if (status->failing)
    {
      state = _("Failing");
      detail = status->last_error != NULL ? status->last_error : _("No reason recorded");
      icon = "dialog-warning-symbolic";
    }
  else if (status->paused)
    {
      state = _("Paused");
      detail = _("Uploads wait until the target is resumed; recordings stay in the spool.");
      icon = "media-playback-pause-symbolic";
    }
  else if (status->current_key != NULL || status->queue_length > 0)
    {
      state = _("Uploading");
      detail = NULL;
      icon = "emblem-synchronizing-symbolic";
    }
  else
    {
      state = _("Up to Date");
      detail = _("Everything queued for this target is stored.");
      icon = "emblem-ok-symbolic";
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (view->state_row), state);
  adw_action_row_set_subtitle (view->state_row, detail != NULL ? detail : "");
  gtk_image_set_from_icon_name (view->state_icon, icon);
  if (status->failing)
    {
      gtk_widget_add_css_class (GTK_WIDGET (view->state_icon), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (view->state_icon), "success");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (view->state_icon), "error");
      if (!status->paused && status->queue_length == 0)
        gtk_widget_add_css_class (GTK_WIDGET (view->state_icon), "success");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (view->state_icon), "success");
    }

  if (status->queue_length == 0)
    queue = g_strdup (_("Nothing waiting"));
  else
    queue = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file waiting",
                                          "%u files waiting", status->queue_length),
                             status->queue_length);
  /* The rate of what is being sent; a rate without a transfer would be stale. */
  if (status->current_key != NULL && status->throughput >= 1.0)
    {
      g_autofree char *size = g_format_size ((guint64) status->throughput);
      g_autofree char *with_rate = NULL;

      /* TRANSLATORS: the queue, then the upload rate, e.g. "12 files waiting · 3.2 MB/s" */
      with_rate = g_strdup_printf (_("%s · %s/s"), queue, size);
      g_free (queue);
      queue = g_steal_pointer (&with_rate);
    }
  adw_action_row_set_subtitle (view->queue_row, queue);

  gtk_widget_set_visible (GTK_WIDGET (view->current_row), status->current_key != NULL);
  if (status->current_key != NULL)
    {
      g_autofree char *sent = g_format_size (status->current_sent);
      g_autofree char *size = g_format_size (status->current_size);
      g_autofree char *line = NULL;

      /* TRANSLATORS: the object being uploaded, then e.g. "3.1 MB of 10.0 MB" */
      line = g_strdup_printf (_("%s\n%s of %s"), status->current_key, sent, size);
      adw_action_row_set_subtitle (view->current_row, line);
      gtk_progress_bar_set_fraction (view->progress,
                                     status->current_size > 0
                                     ? (double) status->current_sent / (double) status->current_size
                                     : 0.0);
    }

  gtk_button_set_label (view->pause_button, status->paused ? _("_Resume") : _("_Pause"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (view->pause_button),
                               status->paused ? _("Start uploading to this target again")
                                              : _("Stop uploading to this target for now"));
  gtk_widget_set_visible (GTK_WIDGET (view->retry_all_button),
                          status->failing || status->failures > 0);
}

static gboolean
names_have (GPtrArray  *names,
            const char *name)
{
  return g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The S3 targets and whatever else the sync engine has rows or state for, sorted. */
static GPtrArray *
upload_targets (LtSyncPage *self)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  if (self->storage_targets != NULL)
    {
      GListModel *model = G_LIST_MODEL (self->storage_targets);

      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(LtStorageTarget) target = g_list_model_get_item (model, i);

          if (lt_storage_target_get_kind (target) == LT_STORAGE_TARGET_KIND_S3)
            g_ptr_array_add (names, g_strdup (lt_storage_target_get_name (target)));
        }
    }
  if (self->sync != NULL)
    {
      g_auto(GStrv) known = lt_sync_engine_list_targets (self->sync);

      for (guint i = 0; known[i] != NULL; i++)
        if (!g_str_equal (known[i], "local") && !names_have (names, known[i]))
          g_ptr_array_add (names, g_strdup (known[i]));
    }
  g_ptr_array_sort (names, compare_names);
  return names;
}

static void
update_uploads (LtSyncPage *self)
{
  g_autoptr(GPtrArray) names = upload_targets (self);
  GHashTableIter iter;
  gpointer value;
  GtkWidget *previous = NULL;

  /* Targets gone (removed in Preferences) take their group with them. */
  g_hash_table_iter_init (&iter, self->targets_shown);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TargetView *view = value;

      if (!names_have (names, view->name))
        {
          gtk_box_remove (self->uploads_box, view->group);
          g_hash_table_iter_remove (&iter);
        }
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      TargetView *view = g_hash_table_lookup (self->targets_shown, name);
      g_autoptr(LtSyncTargetStatus) status = NULL;
      LtStorageTarget *target = NULL;

      if (view == NULL)
        {
          view = target_view_new (self, name);
          g_hash_table_insert (self->targets_shown, view->name, view);
          gtk_box_insert_child_after (self->uploads_box, view->group, previous);
        }
      else
        {
          gtk_box_reorder_child_after (self->uploads_box, view->group, previous);
        }
      previous = view->group;

      if (self->storage_targets != NULL)
        target = lt_storage_targets_lookup (self->storage_targets, name);
      if (self->sync != NULL)
        status = lt_sync_engine_get_target_status (self->sync, name);
      else
        status = g_new0 (LtSyncTargetStatus, 1);
      target_view_update (view, status, target);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->uploads_box), names->len > 0);
}

static char *
upload_row_subtitle (LtSyncFailure *failure)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint attempts = lt_sync_failure_get_attempts (failure);
  const char *error = lt_sync_failure_get_last_error (failure);

  g_string_append (text, lt_sync_failure_get_target (failure));
  if (lt_sync_failure_get_bucket (failure) != NULL)
    {
      g_string_append (text, " · ");
      g_string_append (text, lt_sync_failure_get_bucket (failure));
    }
  g_string_append (text, " · ");
  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u attempt", "%u attempts",
                                             attempts),
                          attempts);
  g_string_append_c (text, '\n');
  g_string_append (text, error != NULL ? error : _("No error recorded"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
retry_clicked_cb (GtkButton  *button,
                  LtSyncPage *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_ACTION_ROW);
  gint64 *id = row != NULL ? g_object_get_data (G_OBJECT (row), "lt-upload-id") : NULL;

  if (id == NULL || self->sync == NULL)
    return;

  /* The row goes once the failure is queued again; until then one click is enough. */
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  lt_sync_engine_retry_async (self->sync, *id, self->cancellable, retried_cb,
                              g_object_ref (self));
}

static GtkWidget *
create_upload_row_cb (gpointer item,
                      gpointer user_data)
{
  LtSyncPage *self = user_data;
  LtSyncFailure *failure = item;
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *subtitle = upload_row_subtitle (failure);
  gint64 id = lt_sync_failure_get_id (failure);
  GtkWidget *button;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 lt_sync_failure_get_object_key (failure));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 2);
  g_object_set_data_full (G_OBJECT (row), "lt-upload-id", g_memdup2 (&id, sizeof id), g_free);

  button = gtk_button_new_with_mnemonic (_("_Retry"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Put this upload back in the queue"));
  g_signal_connect_object (button, "clicked", G_CALLBACK (retry_clicked_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "lt-retry-button", button);
  return row;
}

static void
sync_changed_cb (LtSyncPage *self)
{
  update_uploads (self);
  update_state (self);
}

/* ---- the list ---- */

static void
update_pending (LtSyncPage *self)
{
  guint n = self->queue != NULL ? lt_callback_queue_get_n_pending (self->queue) : 0;
  g_autofree char *count = g_strdup_printf ("%u", n);

  g_free (self->pending_text);
  if (n == 0)
    self->pending_text = g_strdup (_("No callbacks are waiting to be delivered."));
  else
    self->pending_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                       "%u callback is waiting to be delivered.",
                                                       "%u callbacks are waiting to be delivered.",
                                                       n),
                                          n);
  adw_status_page_set_description (self->empty_page, self->pending_text);
  gtk_label_set_label (self->pending_label, count);
}

static void
update_state (LtSyncPage *self)
{
  gboolean has_failed = gtk_widget_get_first_child (GTK_WIDGET (self->list)) != NULL;
  gboolean has_settings = self->notify_store != NULL &&
                          g_list_model_get_n_items (G_LIST_MODEL (self->notify_store)) > 0;
  gboolean has_upload_failures = self->sync != NULL &&
                                 g_list_model_get_n_items (lt_sync_engine_get_failures (self->sync)) > 0;
  const char *state;

  gtk_widget_set_visible (self->upload_failures_group, has_upload_failures);
  if (self->queue == NULL || !self->loaded)
    state = "loading";
  else if (!has_failed && !has_settings && g_hash_table_size (self->targets_shown) == 0 &&
           !has_upload_failures)
    state = "empty";
  else
    state = "list";
  gtk_stack_set_visible_child_name (self->stack, state);
  gtk_widget_set_visible (self->failed_group, has_failed);
  gtk_widget_set_visible (self->settings_group, has_settings);
}

/* ---- callback settings ---- */

static GtkWidget *
create_settings_row_cb (gpointer item,
                        gpointer user_data)
{
  const LtNotifyConfig *config = lt_notify_config_object_get_config (item);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), config->domain);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               config->notify_url != NULL ? config->notify_url
                                                          : _("No notification address"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.callback-settings");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row),
                                          g_variant_new_string (config->domain));
  gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Edit"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
  return row;
}

static void
settings_changed_cb (LtSyncPage *self)
{
  update_state (self);
}

static void
listed_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LtSyncPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  GtkWidget *child;

  items = lt_callback_queue_list_finish (LT_CALLBACK_QUEUE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->listing = FALSE;
  if (items == NULL)
    {
      add_toast (self, adw_toast_new (error->message));
    }
  else
    {
      while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
        gtk_list_box_remove (self->list, child);
      for (guint i = 0; i < items->len; i++)
        gtk_list_box_append (self->list, row_new (self, g_ptr_array_index (items, i)));
      self->loaded = TRUE;
    }

  update_pending (self);
  update_state (self);

  if (self->refresh_again)
    {
      self->refresh_again = FALSE;
      refresh (self);
    }
}

static void
refresh (LtSyncPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);

  if (self->queue == NULL)
    return;
  if (self->listing)
    {
      self->refresh_again = TRUE;
      return;
    }

  self->listing = TRUE;
  lt_callback_queue_list_async (self->queue,
                                (1u << LT_CALLBACK_FAILED) | (1u << LT_CALLBACK_EXPIRED),
                                LIST_LIMIT, self->cancellable, listed_cb, g_object_ref (self));
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  LtSyncPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);
  return G_SOURCE_REMOVE;
}

static void
queue_changed_cb (LtSyncPage *self)
{
  update_pending (self);
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

/* ---- GObject ---- */

static void
lt_sync_page_dispose (GObject *object)
{
  LtSyncPage *self = LT_SYNC_PAGE (object);

  lt_sync_page_set_callback_queue (self, NULL);
  lt_sync_page_set_notify_store (self, NULL);
  lt_sync_page_set_sync_engine (self, NULL, NULL);
  g_cancellable_cancel (self->cancellable);
  /* The stack is both the bin's child and a template child: the bin lets go of it first,
   * or dispose_template would unparent it behind the bin's back. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_SYNC_PAGE);

  G_OBJECT_CLASS (lt_sync_page_parent_class)->dispose (object);
}

static void
lt_sync_page_finalize (GObject *object)
{
  LtSyncPage *self = LT_SYNC_PAGE (object);

  g_clear_object (&self->cancellable);
  g_free (self->pending_text);
  g_clear_pointer (&self->targets_shown, g_hash_table_unref);

  G_OBJECT_CLASS (lt_sync_page_parent_class)->finalize (object);
}

static void
lt_sync_page_class_init (LtSyncPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_sync_page_dispose;
  object_class->finalize = lt_sync_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-sync-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, stack);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, pending_label);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, failed_group);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, list);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, settings_group);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, settings_list);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, uploads_box);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, upload_failures_group);
  gtk_widget_class_bind_template_child (widget_class, LtSyncPage, upload_failures_list);
}

static void
lt_sync_page_init (LtSyncPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->targets_shown = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify) target_view_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  update_pending (self);
  update_state (self);
}

GtkWidget *
lt_sync_page_new (void)
{
  return g_object_new (LT_TYPE_SYNC_PAGE, NULL);
}

void
lt_sync_page_set_callback_queue (LtSyncPage      *self,
                                 LtCallbackQueue *queue)
{
  g_return_if_fail (LT_IS_SYNC_PAGE (self));
  g_return_if_fail (queue == NULL || LT_IS_CALLBACK_QUEUE (queue));

  if (self->queue == queue)
    return;

  if (self->queue != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->queue, queue_changed_cb, self);
      /* A list asked of the old queue must not land in the new one's page. */
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
      self->cancellable = g_cancellable_new ();
      self->listing = FALSE;
      self->refresh_again = FALSE;
    }
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_set_object (&self->queue, queue);
  self->loaded = FALSE;

  if (queue != NULL)
    {
      g_signal_connect_object (queue, "item-changed", G_CALLBACK (queue_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (queue, "notify::n-pending", G_CALLBACK (queue_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (queue, "notify::n-failed", G_CALLBACK (queue_changed_cb), self,
                               G_CONNECT_SWAPPED);
      refresh (self);
    }

  update_pending (self);
  update_state (self);
}

void
lt_sync_page_set_notify_store (LtSyncPage    *self,
                               LtNotifyStore *store)
{
  g_return_if_fail (LT_IS_SYNC_PAGE (self));
  g_return_if_fail (store == NULL || LT_IS_NOTIFY_STORE (store));

  if (self->notify_store == store)
    return;

  if (self->notify_store != NULL)
    g_signal_handlers_disconnect_by_func (self->notify_store, settings_changed_cb, self);
  gtk_list_box_bind_model (self->settings_list, NULL, NULL, NULL, NULL);
  g_set_object (&self->notify_store, store);
  if (store != NULL)
    {
      gtk_list_box_bind_model (self->settings_list, G_LIST_MODEL (store),
                               create_settings_row_cb, NULL, NULL);
      g_signal_connect_object (store, "items-changed", G_CALLBACK (settings_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }
  update_state (self);
}

void
lt_sync_page_set_sync_engine (LtSyncPage       *self,
                              LtSyncEngine     *sync,
                              LtStorageTargets *targets)
{
  g_return_if_fail (LT_IS_SYNC_PAGE (self));
  g_return_if_fail (sync == NULL || LT_IS_SYNC_ENGINE (sync));
  g_return_if_fail (targets == NULL || LT_IS_STORAGE_TARGETS (targets));

  if (self->sync == sync && self->storage_targets == targets)
    return;

  if (self->sync != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->sync, sync_changed_cb, self);
      g_signal_handlers_disconnect_by_func (lt_sync_engine_get_failures (self->sync),
                                            sync_changed_cb, self);
    }
  if (self->storage_targets != NULL)
    g_signal_handlers_disconnect_by_func (self->storage_targets, sync_changed_cb, self);
  gtk_list_box_bind_model (self->upload_failures_list, NULL, NULL, NULL, NULL);

  g_set_object (&self->sync, sync);
  g_set_object (&self->storage_targets, targets);

  if (sync != NULL)
    {
      g_signal_connect_object (sync, "changed", G_CALLBACK (sync_changed_cb), self,
                               G_CONNECT_SWAPPED);
      gtk_list_box_bind_model (self->upload_failures_list, lt_sync_engine_get_failures (sync),
                               create_upload_row_cb, self, NULL);
      g_signal_connect_object (lt_sync_engine_get_failures (sync), "items-changed",
                               G_CALLBACK (sync_changed_cb), self, G_CONNECT_SWAPPED);
    }
  if (targets != NULL)
    {
      /* A target added, changed or removed in Preferences. */
      g_signal_connect_object (targets, "items-changed", G_CALLBACK (sync_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (targets, "changed", G_CALLBACK (sync_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }
  if (self->targets_shown != NULL)
    {
      update_uploads (self);
      update_state (self);
    }
}

static TargetView *
lookup_view (LtSyncPage *self,
             const char *name)
{
  return g_hash_table_lookup (self->targets_shown, name);
}

GtkWidget *
_lt_sync_page_get_target_group (LtSyncPage *self,
                                const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? view->group : NULL;
}

const char *
_lt_sync_page_get_target_state (LtSyncPage *self,
                                const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (view->state_row))
                      : NULL;
}

const char *
_lt_sync_page_get_target_detail (LtSyncPage *self,
                                 const char *name)
{
  TargetView *view = lookup_view (self, name);
  const char *detail = view != NULL ? adw_action_row_get_subtitle (view->state_row) : NULL;

  return detail != NULL && *detail != '\0' ? detail : NULL;
}

const char *
_lt_sync_page_get_target_queue (LtSyncPage *self,
                                const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? adw_action_row_get_subtitle (view->queue_row) : NULL;
}

const char *
_lt_sync_page_get_target_current (LtSyncPage *self,
                                  const char *name)
{
  TargetView *view = lookup_view (self, name);

  if (view == NULL || !gtk_widget_get_visible (GTK_WIDGET (view->current_row)))
    return NULL;
  return adw_action_row_get_subtitle (view->current_row);
}

GtkProgressBar *
_lt_sync_page_get_target_progress (LtSyncPage *self,
                                   const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? view->progress : NULL;
}

GtkButton *
_lt_sync_page_get_pause_button (LtSyncPage *self,
                                const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? view->pause_button : NULL;
}

GtkButton *
_lt_sync_page_get_retry_all_button (LtSyncPage *self,
                                    const char *name)
{
  TargetView *view = lookup_view (self, name);

  return view != NULL ? view->retry_all_button : NULL;
}

GtkWidget *
_lt_sync_page_get_upload_row (LtSyncPage *self,
                              gint64      id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->upload_failures_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gint64 *row_id = g_object_get_data (G_OBJECT (child), "lt-upload-id");

      if (row_id != NULL && *row_id == id)
        return child;
    }
  return NULL;
}

GtkWidget *
_lt_sync_page_get_retry_button (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "lt-retry-button");
}

guint
_lt_sync_page_count_upload_rows (LtSyncPage *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->upload_failures_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

const char *
_lt_sync_page_get_state (LtSyncPage *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

guint
_lt_sync_page_count_rows (LtSyncPage *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;
  return n;
}

GtkWidget *
_lt_sync_page_get_row (LtSyncPage *self,
                       gint64      id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gint64 *row_id = g_object_get_data (G_OBJECT (child), "lt-callback-id");

      if (row_id != NULL && *row_id == id)
        return child;
    }
  return NULL;
}

GtkWidget *
_lt_sync_page_get_settings_row (LtSyncPage *self,
                                const char *domain)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->settings_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (ADW_IS_PREFERENCES_ROW (child) &&
          g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child)), domain) == 0)
        return child;
    }
  return NULL;
}

GtkWidget *
_lt_sync_page_get_resend_button (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "lt-resend-button");
}

const char *
_lt_sync_page_get_pending_text (LtSyncPage *self)
{
  return self->pending_text;
}

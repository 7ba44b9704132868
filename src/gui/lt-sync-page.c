/* lt-sync-page.c: the Sync page (see lt-sync-page.h).
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
};

G_DEFINE_FINAL_TYPE (LtSyncPage, lt_sync_page, ADW_TYPE_BIN)

static void refresh (LtSyncPage *self);

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
  const char *state;

  if (self->queue == NULL || !self->loaded)
    state = "loading";
  else if (!has_failed && !has_settings)
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
}

static void
lt_sync_page_init (LtSyncPage *self)
{
  self->cancellable = g_cancellable_new ();
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

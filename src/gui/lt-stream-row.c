/* lt-stream-row.c: a row of the stream list (see lt-stream-row.h).
 *
 * The row stands for an identity (an LtStreamWatch follows it): a stream that goes
 * offline while its recording waits in the merge window keeps its row. The countdown
 * ticks once a second, only while the row is paused and on screen. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-stream-row.h"
#include "lt-stream-text.h"
#include "lt-stream-watch.h"

struct _LtStreamRow
{
  AdwActionRow   parent_instance;

  LtStreamWatch *watch;
  GtkImage      *kind_icon;
  GtkWidget     *badge;
  GtkImage      *badge_icon;
  GtkLabel      *badge_label;
};

G_DEFINE_FINAL_TYPE (LtStreamRow, lt_stream_row, ADW_TYPE_ACTION_ROW)

static void
update_subtitle (LtStreamRow *self)
{
  LtStream *stream = lt_stream_watch_get_stream (self->watch);
  g_autofree char *text = NULL;
  g_autofree char *escaped = NULL;
  const char *icon = "network-offline-symbolic";
  const char *label = _("Offline");

  text = stream != NULL ? lt_stream_text_describe (stream) : g_strdup (_("Offline"));
  escaped = g_markup_escape_text (text, -1);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), escaped);

  if (stream != NULL)
    {
      icon = lt_stream_text_kind_icon (lt_stream_get_source_kind (stream));
      label = lt_stream_text_kind (lt_stream_get_source_kind (stream));
    }
  gtk_image_set_from_icon_name (self->kind_icon, icon);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->kind_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
update_badge (LtStreamRow *self)
{
  LtRecording *recording = lt_stream_watch_get_recording (self->watch);
  LtRecordingState state;
  g_autofree char *text = NULL;
  const char *icon;

  if (recording == NULL)
    {
      gtk_widget_set_visible (self->badge, FALSE);
      gtk_label_set_label (self->badge_label, "");
      lt_stream_watch_set_ticking (self->watch, FALSE);
      return;
    }

  state = lt_recording_get_state (recording);
  text = lt_stream_text_badge (recording, g_get_real_time ());
  icon = lt_stream_text_state_icon (state);
  gtk_label_set_label (self->badge_label, text);
  gtk_image_set_from_icon_name (self->badge_icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->badge_icon), icon != NULL);
  gtk_widget_set_visible (self->badge, TRUE);
  lt_stream_watch_set_state_class (self->badge, state);
  lt_stream_watch_set_ticking (self->watch,
                               state == LT_RECORDING_STATE_PAUSED &&
                               lt_recording_get_pause_deadline (recording) > 0);
}

static void
update (GtkWidget            *widget,
        LtStreamWatchChanges  changes)
{
  LtStreamRow *self = LT_STREAM_ROW (widget);

  if (changes & LT_STREAM_WATCH_STREAM)
    update_subtitle (self);
  update_badge (self);
}

static void
lt_stream_row_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lt_stream_row_parent_class)->map (widget);
  lt_stream_watch_set_mapped (LT_STREAM_ROW (widget)->watch, TRUE);
}

static void
lt_stream_row_unmap (GtkWidget *widget)
{
  lt_stream_watch_set_mapped (LT_STREAM_ROW (widget)->watch, FALSE);
  GTK_WIDGET_CLASS (lt_stream_row_parent_class)->unmap (widget);
}

static void
lt_stream_row_dispose (GObject *object)
{
  LtStreamRow *self = LT_STREAM_ROW (object);

  if (self->watch != NULL)
    g_object_run_dispose (G_OBJECT (self->watch));
  g_clear_object (&self->watch);

  G_OBJECT_CLASS (lt_stream_row_parent_class)->dispose (object);
}

static void
lt_stream_row_class_init (LtStreamRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_stream_row_dispose;
  widget_class->map = lt_stream_row_map;
  widget_class->unmap = lt_stream_row_unmap;
}

static void
lt_stream_row_init (LtStreamRow *self)
{
  GtkWidget *box;

  self->kind_icon = GTK_IMAGE (gtk_image_new ());
  adw_action_row_add_prefix (ADW_ACTION_ROW (self), GTK_WIDGET (self->kind_icon));

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (box, "lt-recording-badge");
  self->badge_icon = g_object_new (GTK_TYPE_IMAGE,
                                   "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                   NULL);
  self->badge_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->badge_icon));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->badge_label));
  gtk_widget_set_visible (box, FALSE);
  self->badge = box;
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), box);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), TRUE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self), 3);
}

GtkWidget *
lt_stream_row_new (LtEngine   *engine,
                   const char *key)
{
  LtStreamRow *self;
  g_autofree char *title = NULL;
  g_autofree char *escaped = NULL;
  const char *domain, *app, *name;

  g_return_val_if_fail (LT_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  self = g_object_new (LT_TYPE_STREAM_ROW, NULL);
  self->watch = lt_stream_watch_new (engine, GTK_WIDGET (self), update);
  lt_stream_watch_set_key (self->watch, key);
  lt_stream_watch_update_now (self->watch);

  if (lt_stream_watch_get_identity (self->watch, &domain, &app, &name))
    title = lt_stream_text_identity (domain, app, name);
  else
    title = g_strdup (key);
  escaped = g_markup_escape_text (title, -1);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), escaped);

  return GTK_WIDGET (self);
}

const char *
lt_stream_row_get_key (LtStreamRow *self)
{
  g_return_val_if_fail (LT_IS_STREAM_ROW (self), NULL);

  return lt_stream_watch_get_key (self->watch);
}

const char *
lt_stream_row_get_badge (LtStreamRow *self)
{
  g_return_val_if_fail (LT_IS_STREAM_ROW (self), NULL);

  return gtk_widget_get_visible (self->badge) ? gtk_label_get_label (self->badge_label) : NULL;
}

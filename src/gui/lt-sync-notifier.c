/* lt-sync-notifier.c: see lt-sync-notifier.h.
 *
 * One notification per failing target, under an id of its own, so a second target
 * failing does not replace the first and a recovered target withdraws only its own. The
 * sync engine signals "target-failing" once per new reason; recovery shows up as a
 * "changed" whose figures say the target no longer fails. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-sync-notifier.h"

struct _LtSyncNotifier
{
  GObject       parent_instance;

  GApplication *application;   /* unowned: it owns us */
  LtSyncEngine *sync;
  GHashTable   *failing;       /* target names with a notification shown */
};

G_DEFINE_FINAL_TYPE (LtSyncNotifier, lt_sync_notifier, G_TYPE_OBJECT)

char *
lt_sync_notifier_dup_id (const char *target)
{
  return g_strconcat ("storage-target-failing-", target, NULL);
}

static void
target_failing_cb (LtSyncNotifier *self,
                   const char     *target,
                   const char     *message)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = lt_sync_notifier_dup_id (target);

  if (self->application == NULL || !g_application_get_is_registered (self->application))
    return;

  /* TRANSLATORS: %s is a storage target's name */
  title = g_strdup_printf (_("Uploads to “%s” Stopped"), target);
  notification = g_notification_new (title);
  g_notification_set_body (notification, message);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action (notification, "app.show-sync");
  g_notification_add_button (notification, _("Show Uploads"), "app.show-sync");
  g_application_send_notification (self->application, id, notification);
  g_hash_table_add (self->failing, g_strdup (target));
}

static void
sync_changed_cb (LtSyncNotifier *self)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->failing);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr(LtSyncTargetStatus) status = lt_sync_engine_get_target_status (self->sync, key);

      if (!status->failing)
        {
          g_autofree char *id = lt_sync_notifier_dup_id (key);

          if (self->application != NULL && g_application_get_is_registered (self->application))
            g_application_withdraw_notification (self->application, id);
          g_hash_table_iter_remove (&iter);
        }
    }
}

static void
lt_sync_notifier_dispose (GObject *object)
{
  LtSyncNotifier *self = LT_SYNC_NOTIFIER (object);

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->sync);
  g_clear_weak_pointer (&self->application);

  G_OBJECT_CLASS (lt_sync_notifier_parent_class)->dispose (object);
}

static void
lt_sync_notifier_finalize (GObject *object)
{
  LtSyncNotifier *self = LT_SYNC_NOTIFIER (object);

  g_clear_pointer (&self->failing, g_hash_table_unref);

  G_OBJECT_CLASS (lt_sync_notifier_parent_class)->finalize (object);
}

static void
lt_sync_notifier_class_init (LtSyncNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_sync_notifier_dispose;
  object_class->finalize = lt_sync_notifier_finalize;
}

static void
lt_sync_notifier_init (LtSyncNotifier *self)
{
  self->failing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

LtSyncNotifier *
lt_sync_notifier_new (GApplication *application,
                      LtSyncEngine *sync)
{
  LtSyncNotifier *self;

  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (LT_IS_SYNC_ENGINE (sync), NULL);

  self = g_object_new (LT_TYPE_SYNC_NOTIFIER, NULL);
  g_set_weak_pointer (&self->application, application);
  self->sync = g_object_ref (sync);
  g_signal_connect_swapped (sync, "target-failing", G_CALLBACK (target_failing_cb), self);
  g_signal_connect_swapped (sync, "changed", G_CALLBACK (sync_changed_cb), self);

  /* A target that failed before the console was there to hear it. */
  {
    g_auto(GStrv) names = lt_sync_engine_list_targets (sync);

    for (guint i = 0; names[i] != NULL; i++)
      {
        g_autoptr(LtSyncTargetStatus) status = lt_sync_engine_get_target_status (sync, names[i]);

        if (status->failing)
          target_failing_cb (self, names[i], status->last_error != NULL ? status->last_error : "");
      }
  }
  return self;
}

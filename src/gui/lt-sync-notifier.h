/* lt-sync-notifier.h: the desktop notification for a storage target that starts failing
 * (SPEC section 8): sent on the sync engine's "target-failing", opening the Sync page
 * (app.show-sync), and withdrawn once the target works again. */
#pragma once

#include <gio/gio.h>

#include "lt-sync-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_SYNC_NOTIFIER (lt_sync_notifier_get_type ())
G_DECLARE_FINAL_TYPE (LtSyncNotifier, lt_sync_notifier, LT, SYNC_NOTIFIER, GObject)

/* @application: not kept (it owns the notifier); it must be registered. */
LtSyncNotifier *lt_sync_notifier_new (GApplication *application,
                                      LtSyncEngine *sync);

/* The notification id used for @target (transfer full). */
char           *lt_sync_notifier_dup_id (const char *target);

G_END_DECLS

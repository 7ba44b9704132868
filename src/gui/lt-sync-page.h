/* lt-sync-page.h: the Sync page — the callback outbox as the operator needs to see it:
 * how many callbacks wait to be delivered, and the undeliverable ones (failed or expired)
 * with their address, kind, stream, attempts and last error, each re-sendable; and every
 * domain's callback settings, each opening its dialog (win.callback-settings). */
#pragma once

#include <adwaita.h>

#include "lt-callback-queue.h"
#include "lt-notify-store.h"

G_BEGIN_DECLS

#define LT_TYPE_SYNC_PAGE (lt_sync_page_get_type ())
G_DECLARE_FINAL_TYPE (LtSyncPage, lt_sync_page, LT, SYNC_PAGE, AdwBin)

GtkWidget *lt_sync_page_new                (void);
void       lt_sync_page_set_callback_queue (LtSyncPage      *self,
                                            LtCallbackQueue *queue);
void       lt_sync_page_set_notify_store   (LtSyncPage      *self,
                                            LtNotifyStore   *store);

/* For tests. "loading", "empty" or "list". */
const char *_lt_sync_page_get_state        (LtSyncPage *self);
/* Rows listed (undeliverable callbacks). */
guint       _lt_sync_page_count_rows       (LtSyncPage *self);
/* The row of the callback @id, or NULL; its Re-send button. */
GtkWidget  *_lt_sync_page_get_row          (LtSyncPage *self,
                                            gint64      id);
GtkWidget  *_lt_sync_page_get_resend_button (GtkWidget *row);
/* The row of @domain's callback settings, or NULL. */
GtkWidget  *_lt_sync_page_get_settings_row (LtSyncPage *self,
                                            const char *domain);
/* What the page says about the callbacks waiting. */
const char *_lt_sync_page_get_pending_text (LtSyncPage *self);

G_END_DECLS

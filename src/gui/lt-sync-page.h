/* lt-sync-page.h: the Sync page — the uploads and the callback outbox as the operator
 * needs to see them: per S3 storage target its state (paused, failing and why), queue
 * length, throughput and the file being sent with its progress, Pause/Resume and Retry
 * All; the failed uploads with their reason, each retryable; how many callbacks wait to
 * be delivered, and the undeliverable ones (failed or expired) with their address, kind,
 * stream, attempts and last error, each re-sendable; and every domain's callback
 * settings, each opening its dialog (win.callback-settings). */
#pragma once

#include <adwaita.h>

#include "lt-callback-queue.h"
#include "lt-notify-store.h"
#include "lt-storage-targets.h"
#include "lt-sync-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_SYNC_PAGE (lt_sync_page_get_type ())
G_DECLARE_FINAL_TYPE (LtSyncPage, lt_sync_page, LT, SYNC_PAGE, AdwBin)

GtkWidget *lt_sync_page_new                (void);
void       lt_sync_page_set_callback_queue (LtSyncPage      *self,
                                            LtCallbackQueue *queue);
void       lt_sync_page_set_notify_store   (LtSyncPage      *self,
                                            LtNotifyStore   *store);
/* The uploads: @sync's figures and failures for the S3 targets of @targets (and any
 * other target the sync engine knows). Either may be NULL. */
void       lt_sync_page_set_sync_engine    (LtSyncPage       *self,
                                            LtSyncEngine     *sync,
                                            LtStorageTargets *targets);

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

/* The uploads. The group of storage target @name, or NULL. */
GtkWidget  *_lt_sync_page_get_target_group (LtSyncPage *self,
                                            const char *name);
/* What the group says: the state line ("Failing", …) and its detail (the reason), the
 * queue line, the file being sent (NULL: none) and its progress bar. */
const char *_lt_sync_page_get_target_state  (LtSyncPage *self,
                                             const char *name);
const char *_lt_sync_page_get_target_detail (LtSyncPage *self,
                                             const char *name);
const char *_lt_sync_page_get_target_queue  (LtSyncPage *self,
                                             const char *name);
const char *_lt_sync_page_get_target_current (LtSyncPage *self,
                                              const char *name);
GtkProgressBar *_lt_sync_page_get_target_progress (LtSyncPage *self,
                                                   const char *name);
GtkButton  *_lt_sync_page_get_pause_button  (LtSyncPage *self,
                                             const char *name);
GtkButton  *_lt_sync_page_get_retry_all_button (LtSyncPage *self,
                                                const char *name);
/* The row of failed upload @id, or NULL; its Retry button. */
GtkWidget  *_lt_sync_page_get_upload_row    (LtSyncPage *self,
                                             gint64      id);
GtkWidget  *_lt_sync_page_get_retry_button  (GtkWidget  *row);
guint       _lt_sync_page_count_upload_rows (LtSyncPage *self);

G_END_DECLS

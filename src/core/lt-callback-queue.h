/* lt-callback-queue.h: the persistent callback outbox (SPEC section 4).
 *
 * Every callback is a row of the catalog's callback_outbox before it is sent; it is sent
 * with a POST of its JSON body, retried with exponential backoff and full jitter (first
 * retry within seconds, capped at 10 minutes) until delivered (any 2xx) or expired
 * (default 24 h after it was queued), delivered at least once and in order per stream
 * (stream_key), and survives restarts and kill -9 (rows 'sending' at start go back to
 * 'pending'). Undeliverable callbacks stay with their last error and can be re-sent.
 *
 * Signing (see README "Verifying callbacks"): the URL gets `t` (an expiry time: now +
 * 5 minutes, Unix seconds) and `sign` = lowercase hex MD5(key + t) as query parameters
 * (Tencent's scheme), and the request carries `X-Livetape-Signature: sha256=HEX` with
 * HMAC-SHA256(key, exact body bytes) and `X-Livetape-Timestamp: t`. @key is the domain's
 * signing key (lt-notify-store.h), asked for just before each attempt; without a key the
 * callback is sent unsigned (test callbacks to a domain not configured yet).
 *
 * Delivery never blocks anything else: requests are asynchronous (lt-outbound.h), at
 * most a few per receiver at a time, each attempt limited to 10 s. Main context only. */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

typedef enum
{
  LT_CALLBACK_PENDING,
  LT_CALLBACK_SENDING,
  LT_CALLBACK_DELIVERED,
  LT_CALLBACK_FAILED,    /* refused for good (forbidden address, invalid URL): no retry */
  LT_CALLBACK_EXPIRED,
} LtCallbackState;

/* "pending", "sending", "delivered", "failed", "expired" (the catalog's state column). */
const char *lt_callback_state_to_string (LtCallbackState state);

typedef struct
{
  gint64           id;
  char            *domain;
  char            *stream_key;
  char            *kind;           /* "file", "status", "test" */
  char            *url;
  char            *body;
  LtCallbackState  state;
  guint            attempts;
  gint64           created_at_us;
  gint64           next_attempt_at_us;
  gint64           expires_at_us;
  gint64           delivered_at_us;
  char            *last_error;     /* NULL while none */
  guint            last_status;    /* HTTP status of the last attempt, 0 without */
} LtCallbackItem;

#define LT_TYPE_CALLBACK_ITEM (lt_callback_item_get_type ())
GType           lt_callback_item_get_type (void) G_GNUC_CONST;
LtCallbackItem *lt_callback_item_copy     (const LtCallbackItem *item);
void            lt_callback_item_free     (LtCallbackItem       *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtCallbackItem, lt_callback_item_free)

/* The signing key of @domain (transfer full), or NULL. Called on the main context. */
typedef char *(*LtCallbackKeyFunc) (const char *domain,
                                    gpointer    user_data);

#define LT_TYPE_CALLBACK_QUEUE (lt_callback_queue_get_type ())
G_DECLARE_FINAL_TYPE (LtCallbackQueue, lt_callback_queue, LT, CALLBACK_QUEUE, GObject)

LtCallbackQueue *lt_callback_queue_new          (LtCatalog          *catalog);
void             lt_callback_queue_set_key_func (LtCallbackQueue    *self,
                                                 LtCallbackKeyFunc   func,
                                                 gpointer            user_data,
                                                 GDestroyNotify      destroy);
/* How long a callback is tried, seconds (default 86400). */
void             lt_callback_queue_set_expiry   (LtCallbackQueue    *self,
                                                 guint               seconds);
/* For tests: scales every backoff delay (default 1.0). */
void             lt_callback_queue_set_backoff_scale (LtCallbackQueue *self,
                                                      double           scale);
/* For tests: the time limit of each attempt, ms (default 10000). */
void             lt_callback_queue_set_attempt_timeout (LtCallbackQueue *self,
                                                        guint            timeout_ms);
/* Resets rows left 'sending' by a crash to 'pending' and starts delivering. The catalog
 * must be open. */
void             lt_callback_queue_start        (LtCallbackQueue    *self);
/* Stops sending (requests in flight are cancelled; their rows go back to pending). */
void             lt_callback_queue_shutdown     (LtCallbackQueue    *self);

/* Stores a callback, then sends it when its turn comes. @body: the JSON text, sent as is.
 * @stream_key: the order group ("domain/app/stream"). The callback's row id arrives in
 * @callback (may be NULL): lt_callback_queue_enqueue_finish(). */
void             lt_callback_queue_enqueue_async  (LtCallbackQueue    *self,
                                                   const char         *domain,
                                                   const char         *stream_key,
                                                   const char         *kind,
                                                   const char         *url,
                                                   const char         *body,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
gint64           lt_callback_queue_enqueue_finish (LtCallbackQueue    *self,
                                                   GAsyncResult       *result,
                                                   GError            **error);
/* Sends one test callback now, outside the queue, signed with @domain's key, and returns
 * the receiver's answer: HTTP status and up to 2048 bytes of its body. */
void             lt_callback_queue_test_async     (LtCallbackQueue    *self,
                                                   const char         *domain,
                                                   const char         *url,
                                                   const char         *body,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
gboolean         lt_callback_queue_test_finish    (LtCallbackQueue    *self,
                                                   GAsyncResult       *result,
                                                   guint              *status,
                                                   char              **reply,
                                                   GError            **error);
/* Puts a failed or expired callback back in the queue (a new expiry from now). */
void             lt_callback_queue_resend_async   (LtCallbackQueue    *self,
                                                   gint64              id,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
gboolean         lt_callback_queue_resend_finish  (LtCallbackQueue    *self,
                                                   GAsyncResult       *result,
                                                   GError            **error);
/* Callbacks, newest first: @states a bitmask of 1 << LtCallbackState (0: all), at most
 * @limit. GPtrArray of LtCallbackItem. */
void             lt_callback_queue_list_async     (LtCallbackQueue    *self,
                                                   guint               states,
                                                   guint               limit,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
GPtrArray       *lt_callback_queue_list_finish    (LtCallbackQueue    *self,
                                                   GAsyncResult       *result,
                                                   GError            **error);
/* "n-pending" (notified): callbacks waiting or in flight; "n-failed" (notified): failed or
 * expired ones. Signal "item-changed" (LtCallbackItem *): a callback was delivered, failed
 * an attempt, failed for good, expired or was re-queued. */
guint            lt_callback_queue_get_n_pending  (LtCallbackQueue    *self);
guint            lt_callback_queue_get_n_failed   (LtCallbackQueue    *self);

G_END_DECLS

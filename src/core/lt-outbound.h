/* lt-outbound.h: requests Livetape makes to addresses an operator typed (callbacks, the
 * on-demand query; SPEC section 4). Only http and https; redirects are never followed; an
 * address that resolves to a link-local or cloud-metadata address (169.254.0.0/16,
 * fe80::/10, fd00:ec2::254, 100.100.100.200 and the like) is refused when connecting, so a
 * name that resolves there later is caught too. Loopback and private addresses are
 * allowed: desktop receivers live there. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define LT_OUTBOUND_ERROR (lt_outbound_error_quark ())

typedef enum
{
  LT_OUTBOUND_ERROR_FAILED,
  LT_OUTBOUND_ERROR_INVALID_URL,     /* not an absolute http(s) URL with a host */
  LT_OUTBOUND_ERROR_FORBIDDEN,       /* resolves to a link-local / metadata address */
  LT_OUTBOUND_ERROR_TIMEOUT,
} LtOutboundError;

GQuark      lt_outbound_error_quark     (void);

/* Syntax only: absolute http:// or https:// with a host, no user info, ≤ 2048 bytes. */
gboolean    lt_outbound_check_url       (const char    *url,
                                         GError       **error);
/* Whether Livetape refuses to connect to @address (link-local, metadata, unspecified,
 * multicast). */
gboolean    lt_outbound_address_is_forbidden (GInetAddress *address);
/* A session for outbound requests: no redirects (SOUP_MESSAGE_NO_REDIRECT is set by
 * lt_outbound_message_new), a User-Agent of "Livetape/VERSION", @timeout_s for each I/O
 * step. */
SoupSession *lt_outbound_session_new    (guint          timeout_s);
/* A message to @url (checked with lt_outbound_check_url) that refuses, while connecting,
 * a forbidden remote address (the message is cancelled; lt_outbound_send_finish() then
 * fails with LT_OUTBOUND_ERROR_FORBIDDEN). */
SoupMessage *lt_outbound_message_new    (const char    *method,
                                         const char    *url,
                                         GError       **error);
/* The error the guard set on @message (FORBIDDEN), or NULL. lt_outbound_send_finish()
 * already reports it; this is for a send that did not go through it. */
const GError *lt_outbound_message_get_error (SoupMessage *message);

/* Sends @message and reads at most @max_bytes of the reply body (the rest is not read;
 * the connection is closed), all within @timeout_ms in total. Never blocks the caller's
 * main context: a slow or endless reply costs nothing but a connection. Result: the body
 * read (GBytes) — also for non-2xx statuses; see soup_message_get_status(). */
void        lt_outbound_send_async      (SoupSession         *session,
                                         SoupMessage         *message,
                                         gsize                max_bytes,
                                         guint                timeout_ms,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
/* @truncated (may be NULL): the reply was longer than max_bytes. */
GBytes     *lt_outbound_send_finish     (SoupSession         *session,
                                         GAsyncResult        *result,
                                         gboolean            *truncated,
                                         GError             **error);

G_END_DECLS

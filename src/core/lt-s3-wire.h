/* lt-s3-wire.h: the S3 client's own HTTP/1.1 path for requests with a large body (private
 * to lt-s3-client.c).
 *
 * libsoup 3.2 writes a request body through GIO's splice, 8 KiB per step and a trip
 * through the main loop for each: about 500 dispatches for a 4 MB slice, which cost more
 * CPU than the rest of its upload, and the server (reading what trickles in) pays for it
 * too. Here the request goes out as the signed head and the body in writes of up to
 * 1 MiB on a kept-alive connection, and the reply is read with libsoup's header parser.
 * Requests without a file body still go through libsoup. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "lt-s3-client.h"

G_BEGIN_DECLS

typedef struct _LtS3Wire LtS3Wire;

typedef struct
{
  guint               status;
  char               *reason;
  SoupMessageHeaders *headers;     /* the reply's */
  GBytes             *body;        /* never NULL */
} LtS3WireReply;

void           lt_s3_wire_reply_free     (LtS3WireReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtS3WireReply, lt_s3_wire_reply_free)

/* A request body: @data, or else @length bytes of the file at @path from @offset (read as
 * it is sent; a file that turns out shorter fails the request); @length -1: up to the end
 * of the file as it is when opened. */
typedef struct
{
  GBytes     *data;
  const char *path;
  goffset     offset;
  goffset     length;
} LtS3WireBody;

/* Bytes of the body written so far, of @total. */
typedef void (*LtS3WireProgress) (guint64  sent,
                                  guint64  total,
                                  gpointer user_data);

/* Connections to any host, over TLS when @tls; each I/O step may take @timeout_s; up to
 * @max_idle idle connections are kept per host. */
LtS3Wire      *lt_s3_wire_new            (gboolean       tls,
                                          guint          timeout_s,
                                          guint          max_idle);
void           lt_s3_wire_free           (LtS3Wire      *wire);

/* Sends "@method @target HTTP/1.1", @headers (complete and signed; Content-Length is
 * written from @body) and @body to @host:@port. Errors: G_IO_ERROR for the transport
 * (connect, timeouts, resets, a file that shrank), LT_S3_ERROR_ACCESS_DENIED when @host
 * resolves to an address lt_outbound_address_is_forbidden() refuses. */
void           lt_s3_wire_send_async     (LtS3Wire            *wire,
                                          const char          *host,
                                          guint16              port,
                                          const char          *method,
                                          const char          *target,
                                          SoupMessageHeaders  *headers,
                                          const LtS3WireBody  *body,
                                          LtS3Bandwidth       *bandwidth,
                                          LtS3WireProgress     progress,
                                          gpointer             progress_data,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
LtS3WireReply *lt_s3_wire_send_finish    (LtS3Wire            *wire,
                                          GAsyncResult        *result,
                                          GError             **error);

/* For a GSocketClient "event" (libsoup forwards them as "network-event"): when a
 * connection is about to be made to a forbidden address, closes it and returns that
 * address (free it); NULL otherwise. */
char          *lt_s3_wire_refuse_forbidden (GSocketClientEvent  event,
                                            GIOStream          *connection);
/* The error for a connection refused by lt_s3_wire_refuse_forbidden(). */
GError        *lt_s3_wire_forbidden_error  (const char         *address);

G_END_DECLS

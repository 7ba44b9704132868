/* lt-s3-wire.c: HTTP/1.1 requests with a large body, written in big steps (see
 * lt-s3-wire.h).
 *
 * One Op per request: take an idle connection to the host (or connect), write the head and
 * the body, read the reply's head (parsed by soup_headers_parse_response()) and its body
 * (Content-Length or chunked), then keep the connection for the next request when the
 * reply allows it. Everything runs on the calling thread's main context. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "lt-outbound.h"
#include "lt-s3-wire.h"

#define CHUNK_MAX (1024 * 1024)
#define CHUNK_MIN (16 * 1024)
#define READ_STEP (16 * 1024)
#define REPLY_MAX (1024 * 1024)           /* S3 replies to a PUT are small */
#define IDLE_MAX_US (50 * G_USEC_PER_SEC) /* below the usual 60 s of servers */

typedef struct
{
  /* With TLS a GTcpWrapperConnection: its streams are the TLS ones, its socket the TCP
   * one. */
  GSocketConnection *connection;
  gint64             idle_since;
} Conn;

static GSocket *
conn_socket (Conn *conn)
{
  return g_socket_connection_get_socket (conn->connection);
}

static GIOStream *
conn_stream (Conn *conn)
{
  return G_IO_STREAM (conn->connection);
}

struct _LtS3Wire
{
  guint       ref_count;
  gboolean    tls;
  guint       timeout_s;
  guint       max_idle;
  GHashTable *idle;                /* "host:port" → GQueue of Conn */
};

static void
conn_free (Conn *conn)
{
  if (conn == NULL)
    return;
  /* The socket itself: closing a TLS stream would first write its close_notify, which
   * can block on a server that stopped reading. */
  g_socket_close (conn_socket (conn), NULL);
  g_object_unref (conn->connection);
  g_free (conn);
}

static void
idle_queue_free (GQueue *queue)
{
  g_queue_free_full (queue, (GDestroyNotify) conn_free);
}

LtS3Wire *
lt_s3_wire_new (gboolean tls,
                guint    timeout_s,
                guint    max_idle)
{
  LtS3Wire *wire = g_new0 (LtS3Wire, 1);

  wire->ref_count = 1;
  wire->tls = tls;
  wire->timeout_s = timeout_s;
  wire->max_idle = MAX (max_idle, 1);
  wire->idle = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) idle_queue_free);
  return wire;
}

static LtS3Wire *
wire_ref (LtS3Wire *wire)
{
  wire->ref_count++;
  return wire;
}

static void
wire_unref (LtS3Wire *wire)
{
  if (--wire->ref_count > 0)
    return;
  g_hash_table_unref (wire->idle);
  g_free (wire);
}

void
lt_s3_wire_free (LtS3Wire *wire)
{
  if (wire == NULL)
    return;
  /* Requests in flight keep their own reference; the idle connections go now. */
  g_hash_table_remove_all (wire->idle);
  wire_unref (wire);
}

void
lt_s3_wire_reply_free (LtS3WireReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->reason);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_free (reply);
}

char *
lt_s3_wire_refuse_forbidden (GSocketClientEvent  event,
                             GIOStream          *connection)
{
  g_autoptr(GSocketAddress) remote = NULL;
  GInetAddress *address;

  if (event != G_SOCKET_CLIENT_CONNECTING || !G_IS_SOCKET_CONNECTION (connection))
    return NULL;
  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  /* Like every operator-given address (lt-outbound.h): never a link-local or metadata
   * address, so that signed requests cannot be pointed at a cloud's metadata service. */
  if (!lt_outbound_address_is_forbidden (address))
    return NULL;
  g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)), NULL);
  return g_inet_address_to_string (address);
}

GError *
lt_s3_wire_forbidden_error (const char *address)
{
  return g_error_new (LT_S3_ERROR, LT_S3_ERROR_ACCESS_DENIED,
                      _("Refused to connect to %s: a link-local or cloud-metadata address"),
                      address);
}

/* ---- one request ------------------------------------------------------------------------ */

typedef struct
{
  LtS3Wire           *wire;
  char               *host;
  guint16             port;
  char               *pool_key;
  GString            *head;
  GBytes             *data;
  int                 fd;
  goffset             offset;
  goffset             length;
  goffset             sent;
  guint8             *chunk;        /* a step read from fd */
  GOutputVector       vectors[2];
  gsize               step;
  LtS3Bandwidth      *bandwidth;
  LtS3WireProgress    progress;
  gpointer            progress_data;
  GSocketClient      *client;
  char               *forbidden;
  Conn               *conn;
  gboolean            reused;       /* conn was an idle one: may have been closed meanwhile */
  gboolean            head_sent;
  GError             *write_error;  /* kept while a reply that came early is read */
  GByteArray         *in;
  guint8              buffer[READ_STEP];
  LtS3WireReply      *reply;
  SoupEncoding        encoding;
  gsize               body_at;      /* where the body starts in in */
  gsize               chunk_at;     /* chunked: the next chunk's size line */
  GByteArray         *body;
  gboolean            reusable;
} Op;

static void
op_free (Op *op)
{
  conn_free (op->conn);
  g_clear_object (&op->client);
  g_free (op->host);
  g_free (op->pool_key);
  g_string_free (op->head, TRUE);
  g_clear_pointer (&op->data, g_bytes_unref);
  if (op->fd >= 0)
    close (op->fd);
  g_free (op->chunk);
  g_clear_pointer (&op->bandwidth, lt_s3_bandwidth_unref);
  g_free (op->forbidden);
  g_clear_error (&op->write_error);
  g_clear_pointer (&op->in, g_byte_array_unref);
  g_clear_pointer (&op->body, g_byte_array_unref);
  lt_s3_wire_reply_free (op->reply);
  wire_unref (op->wire);
  g_free (op);
}

static void write_step (GTask *task);
static void read_more (GTask *task);
static void connect_fresh (GTask *task);
static gboolean retry_on_fresh (GTask        *task,
                                const GError *error);

/* An idle connection to the host that the server has not closed meanwhile: a connection
 * with something to read while idle was closed (or is broken) by the other end. */
static Conn *
take_idle (LtS3Wire   *wire,
           const char *pool_key)
{
  GQueue *queue = g_hash_table_lookup (wire->idle, pool_key);
  gint64 now = g_get_monotonic_time ();
  Conn *conn;

  while (queue != NULL && (conn = g_queue_pop_tail (queue)) != NULL)
    {
      GSocket *socket = conn_socket (conn);

      if (now - conn->idle_since < IDLE_MAX_US && !g_socket_is_closed (socket)
          && g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR) == 0)
        return conn;
      conn_free (conn);
    }
  return NULL;
}

static void
give_idle (LtS3Wire   *wire,
           const char *pool_key,
           Conn       *conn)
{
  GQueue *queue = g_hash_table_lookup (wire->idle, pool_key);

  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (wire->idle, g_strdup (pool_key), queue);
    }
  conn->idle_since = g_get_monotonic_time ();
  g_queue_push_tail (queue, conn);
  while (g_queue_get_length (queue) > wire->max_idle)
    conn_free (g_queue_pop_head (queue));
}

static void
client_event_cb (GSocketClient      *client,
                 GSocketClientEvent  event,
                 GSocketConnectable *connectable,
                 GIOStream          *connection,
                 gpointer            user_data)
{
  Op *op = user_data;
  char *refused = lt_s3_wire_refuse_forbidden (event, connection);

  if (refused != NULL)
    {
      g_free (op->forbidden);
      op->forbidden = refused;
    }
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source),
                                                                  result, &error);

  g_signal_handlers_disconnect_by_data (op->client, op);
  g_clear_object (&op->client);
  if (connection == NULL)
    {
      if (op->forbidden != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, lt_s3_wire_forbidden_error (op->forbidden));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  op->conn = g_new0 (Conn, 1);
  op->conn->connection = connection;
  /* The head and the last step of a body go out at once, not after a delayed ACK. */
  g_socket_set_option (conn_socket (op->conn), IPPROTO_TCP,
                       TCP_NODELAY, 1, NULL);
  write_step (task);
}

/* How much to write in one step: everything up to 1 MiB, and a tenth of a second's worth
 * under a bandwidth cap, so that the cap is smooth. */
static gsize
step_size (Op *op)
{
  guint64 rate = op->bandwidth != NULL ? lt_s3_bandwidth_get_rate (op->bandwidth) : 0;
  gsize size = CHUNK_MAX;

  if (rate > 0)
    size = (gsize) CLAMP (rate / 10, CHUNK_MIN, CHUNK_MAX);
  return (gsize) MIN ((goffset) size, op->length - op->sent);
}

static void written_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data);

/* Writes the head (the first time) and the step of the body that is ready. */
static void
write_ready_step (GTask        *task,
                  const guint8 *at)
{
  Op *op = g_task_get_task_data (task);
  GOutputStream *out = g_io_stream_get_output_stream (conn_stream (op->conn));
  guint n = 0;

  if (!op->head_sent)
    op->vectors[n++] = (GOutputVector) { op->head->str, op->head->len };
  if (op->step > 0)
    op->vectors[n++] = (GOutputVector) { at, op->step };
  g_output_stream_writev_all_async (out, op->vectors, n, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), written_cb,
                                    g_object_ref (task));
}

typedef struct
{
  int      fd;
  guint8  *buffer;
  gsize    length;
  goffset  offset;
} ReadStep;

/* The next step of a file body, read on a worker thread: the spool may be on a slow disk,
 * and this runs for every MiB sent. */
static void
read_step_thread (GTask        *read_task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  ReadStep *step = task_data;
  gsize filled = 0;

  while (filled < step->length)
    {
      gssize got = pread (step->fd, step->buffer + filled, step->length - filled,
                          step->offset + (goffset) filled);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved = errno;
          g_task_return_new_error (read_task, G_IO_ERROR, g_io_error_from_errno (saved), "%s",
                                   g_strerror (saved));
          return;
        }
      if (got == 0)
        {
          /* Sending less than Content-Length would hang the server. */
          g_task_return_new_error (read_task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                   _("The file became shorter while it was being uploaded"));
          return;
        }
      filled += (gsize) got;
    }
  g_task_return_boolean (read_task, TRUE);
}

static void
step_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  write_ready_step (task, op->chunk);
}

static void
write_step (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr(GTask) read_task = NULL;
  ReadStep *step;

  op->step = step_size (op);
  if (op->step == 0 || op->data != NULL)
    {
      write_ready_step (task, op->data != NULL
                              ? (const guint8 *) g_bytes_get_data (op->data, NULL) + op->sent
                              : NULL);
      return;
    }
  if (op->chunk == NULL)
    op->chunk = g_malloc (CHUNK_MAX);
  step = g_new0 (ReadStep, 1);
  step->fd = op->fd;
  step->buffer = op->chunk;
  step->length = op->step;
  step->offset = op->offset + op->sent;
  /* The op (its fd and buffer) outlives the read: the read task holds the request's. */
  read_task = g_task_new (NULL, g_task_get_cancellable (task), step_read_cb,
                          g_object_ref (task));
  g_task_set_source_tag (read_task, write_step);
  g_task_set_task_data (read_task, step, g_free);
  g_task_run_in_thread (read_task, read_step_thread);
}

static gboolean
resume_write_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (!g_task_return_error_if_cancelled (task))
    write_step (task);
  return G_SOURCE_REMOVE;
}

static void
start_reading (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op->in = g_byte_array_new ();
  read_more (task);
}

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gint64 wait = 0;

  if (!g_output_stream_writev_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* The server may have answered (and closed) before taking the whole body, e.g.
       * refusing the request: its reply says more than the broken pipe. */
      op->write_error = g_steal_pointer (&error);
      op->reusable = FALSE;
      start_reading (task);
      return;
    }
  op->head_sent = TRUE;
  op->sent += (goffset) op->step;
  if (op->step > 0 && op->progress != NULL)
    op->progress ((guint64) op->sent, (guint64) op->length, op->progress_data);
  if (op->sent >= op->length)
    {
      start_reading (task);
      return;
    }
  if (op->bandwidth != NULL)
    wait = lt_s3_bandwidth_take (op->bandwidth, op->step);
  if (wait > 0)
    {
      g_autoptr(GSource) timeout = g_timeout_source_new ((guint) ((wait + 999) / 1000));

      g_task_attach_source (task, timeout, resume_write_cb);
      return;
    }
  write_step (task);
}

/* ---- the reply -------------------------------------------------------------------------- */

static const guint8 *
find_bytes (const guint8 *data,
            gsize         len,
            const char   *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (data[i] == (guint8) needle[0] && memcmp (data + i, needle, n) == 0)
      return data + i;
  return NULL;
}

/* Returns TRUE once the head is complete (then op->reply is set), FALSE to read more. */
static gboolean
parse_head (Op      *op,
            GError **error)
{
  for (;;)
    {
      const guint8 *end = find_bytes (op->in->data, op->in->len, "\r\n\r\n");
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *reason = NULL;
      SoupHTTPVersion version;
      guint status;
      gsize head_len;

      if (end == NULL)
        {
          if (op->in->len > 64 * 1024)
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The storage server's reply head is too long"));
              return FALSE;
            }
          return FALSE;
        }
      head_len = (gsize) (end - op->in->data) + 4;
      headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
      /* Up to the last header's CRLF, without the blank line (as libsoup passes it). */
      if (!soup_headers_parse_response ((const char *) op->in->data, (int) head_len - 2,
                                        headers, &version, &status, &reason))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The storage server's reply could not be read"));
          return FALSE;
        }
      if (status >= 100 && status < 200)
        {
          /* An interim reply (100 Continue): the real one follows. */
          g_byte_array_remove_range (op->in, 0, (guint) head_len);
          continue;
        }
      op->reply = g_new0 (LtS3WireReply, 1);
      op->reply->status = status;
      op->reply->reason = g_steal_pointer (&reason);
      op->reply->headers = g_steal_pointer (&headers);
      op->encoding = soup_message_headers_get_encoding (op->reply->headers);
      if (status == 204 || status == 304)
        op->encoding = SOUP_ENCODING_NONE;
      op->reusable = op->write_error == NULL && version == SOUP_HTTP_1_1
                     && !soup_message_headers_header_contains (op->reply->headers,
                                                               "Connection", "close")
                     && op->encoding != SOUP_ENCODING_EOF;
      op->body_at = head_len;
      op->chunk_at = head_len;
      op->body = g_byte_array_new ();
      return TRUE;
    }
}

/* Returns TRUE once the body is complete, FALSE to read more (or on error). */
static gboolean
parse_body (Op       *op,
            gboolean  eof,
            GError  **error)
{
  switch (op->encoding)
    {
    case SOUP_ENCODING_NONE:
      return TRUE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      {
        goffset want = soup_message_headers_get_content_length (op->reply->headers);
        gsize have = op->in->len - op->body_at;

        if (want > REPLY_MAX)
          {
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                 _("The storage server's reply is too long"));
            return FALSE;
          }
        if ((goffset) have < want)
          {
            if (eof)
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                   _("The storage server closed the connection in its reply"));
            return FALSE;
          }
        if ((goffset) have > want)
          op->reusable = FALSE;      /* more than announced: do not trust the rest */
        g_byte_array_append (op->body, op->in->data + op->body_at, (guint) want);
        return TRUE;
      }
    case SOUP_ENCODING_CHUNKED:
      for (;;)
        {
          const guint8 *line = op->in->data + op->chunk_at;
          const guint8 *eol = find_bytes (line, op->in->len - op->chunk_at, "\r\n");
          g_autofree char *size_text = NULL;
          guint64 size;
          char *rest;

          if (eol == NULL)
            break;
          size_text = g_strndup ((const char *) line, (gsize) (eol - line));
          size = g_ascii_strtoull (size_text, &rest, 16);
          if (rest == size_text || (*rest != '\0' && *rest != ';' && *rest != ' '))
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The storage server's reply could not be read"));
              return FALSE;
            }
          if (size == 0)
            {
              /* The last chunk, then trailers (none expected) up to a blank line. */
              const guint8 *after = eol + 2;
              gsize left = op->in->len - (gsize) (after - op->in->data);
              gsize end;

              if (left >= 2 && after[0] == '\r' && after[1] == '\n')
                end = (gsize) (after - op->in->data) + 2;
              else
                {
                  const guint8 *blank = find_bytes (after, left, "\r\n\r\n");

                  if (blank == NULL)
                    break;
                  end = (gsize) (blank - op->in->data) + 4;
                }
              if (end != op->in->len)
                op->reusable = FALSE;
              return TRUE;
            }
          if (size > REPLY_MAX || op->body->len + size > REPLY_MAX)
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The storage server's reply is too long"));
              return FALSE;
            }
          if ((gsize) (eol + 2 - op->in->data) + size + 2 > op->in->len)
            break;
          g_byte_array_append (op->body, eol + 2, (guint) size);
          op->chunk_at = (gsize) (eol + 2 - op->in->data) + (gsize) size + 2;
        }
      if (eof)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                             _("The storage server closed the connection in its reply"));
      return FALSE;
    case SOUP_ENCODING_EOF:
    default:
      if (op->in->len - op->body_at > REPLY_MAX)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The storage server's reply is too long"));
          return FALSE;
        }
      if (!eof)
        return FALSE;
      g_byte_array_append (op->body, op->in->data + op->body_at, op->in->len - op->body_at);
      return TRUE;
    }
}

static void
finish (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  LtS3WireReply *reply = g_steal_pointer (&op->reply);

  reply->body = g_byte_array_free_to_bytes (g_steal_pointer (&op->body));
  if (op->reusable)
    give_idle (op->wire, op->pool_key, g_steal_pointer (&op->conn));
  g_task_return_pointer (task, reply, (GDestroyNotify) lt_s3_wire_reply_free);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  gboolean eof = n == 0;

  if (n < 0)
    {
      if (retry_on_fresh (task, op->write_error != NULL ? op->write_error : error))
        return;
      /* Nothing readable after a failed write: the write's error is the one to report. */
      if (op->write_error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&op->write_error));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_byte_array_append (op->in, op->buffer, (guint) n);

  if (op->reply == NULL && !parse_head (op, &error))
    {
      if (error == NULL && !eof)
        {
          read_more (task);
          return;
        }
      if (error == NULL && retry_on_fresh (task, op->write_error))
        return;
      if (error == NULL)
        {
          if (op->write_error != NULL)
            error = g_steal_pointer (&op->write_error);
          else
            error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                         _("The storage server closed the connection without a reply"));
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (parse_body (op, eof, &error))
    {
      if (eof)
        op->reusable = FALSE;
      finish (task);
      return;
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  read_more (task);
}

static void
read_more (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  g_input_stream_read_async (g_io_stream_get_input_stream (conn_stream (op->conn)), op->buffer,
                             sizeof op->buffer, G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task), read_cb, g_object_ref (task));
}

/* ---- the call --------------------------------------------------------------------------- */

static void
connect_fresh (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr(GSocketConnectable) address = g_network_address_new (op->host, op->port);

  op->client = g_socket_client_new ();
  g_socket_client_set_timeout (op->client, op->wire->timeout_s);
  /* Never a proxy from the environment: credentials go only where configured. */
  g_socket_client_set_enable_proxy (op->client, FALSE);
  g_socket_client_set_tls (op->client, op->wire->tls);
  g_signal_connect (op->client, "event", G_CALLBACK (client_event_cb), op);
  g_socket_client_connect_async (op->client, address, g_task_get_cancellable (task),
                                 connected_cb, g_object_ref (task));
}

/* A kept-alive connection that the server closed just as it was taken fails before any
 * byte of a reply: the request goes again, once, on a new connection (PUT is idempotent),
 * as libsoup does. Returns FALSE when that does not apply. */
static gboolean
retry_on_fresh (GTask        *task,
                const GError *error)
{
  Op *op = g_task_get_task_data (task);

  if (!op->reused || (op->in != NULL && op->in->len > 0)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return FALSE;
  g_clear_pointer (&op->conn, conn_free);
  g_clear_error (&op->write_error);
  g_clear_pointer (&op->in, g_byte_array_unref);
  op->reused = FALSE;
  op->head_sent = FALSE;
  op->sent = 0;
  connect_fresh (task);
  return TRUE;
}

static void
append_header (const char *name,
               const char *value,
               gpointer    user_data)
{
  GString *head = user_data;

  if (g_ascii_strcasecmp (name, "Host") == 0 || g_ascii_strcasecmp (name, "Content-Length") == 0)
    return;
  g_string_append_printf (head, "%s: %s\r\n", name, value);
}

void
lt_s3_wire_send_async (LtS3Wire            *wire,
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
                       gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);
  const char *host_header = soup_message_headers_get_one (headers, "Host");

  g_task_set_source_tag (task, lt_s3_wire_send_async);
  op->wire = wire_ref (wire);
  op->host = g_strdup (host);
  op->port = port;
  op->pool_key = g_strdup_printf ("%s:%u", host, port);
  op->fd = -1;
  op->bandwidth = bandwidth != NULL ? lt_s3_bandwidth_ref (bandwidth) : NULL;
  op->progress = progress;
  op->progress_data = progress_data;
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);

  if (body->data != NULL)
    {
      op->data = g_bytes_ref (body->data);
      op->length = (goffset) g_bytes_get_size (body->data);
    }
  else
    {
      op->fd = open (body->path, O_RDONLY | O_CLOEXEC);
      if (op->fd < 0)
        {
          int saved = errno;
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not open “%s”: %s"), body->path,
                                   g_strerror (saved));
          return;
        }
      op->offset = body->offset;
      op->length = body->length;
      if (op->length < 0)
        {
          struct stat st;

          /* The inode is at hand: no lookup by name, nothing that waits for the disk. */
          if (fstat (op->fd, &st) < 0 || st.st_size < op->offset)
            {
              int saved = errno;
              g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                       _("Could not read “%s”: %s"), body->path,
                                       g_strerror (saved));
              return;
            }
          op->length = st.st_size - op->offset;
        }
      posix_fadvise (op->fd, op->offset, op->length, POSIX_FADV_SEQUENTIAL);
    }

  op->head = g_string_sized_new (1024);
  g_string_append_printf (op->head, "%s %s HTTP/1.1\r\n", method, target);
  if (host_header != NULL)
    g_string_append_printf (op->head, "Host: %s\r\n", host_header);
  soup_message_headers_foreach (headers, append_header, op->head);
  g_string_append_printf (op->head, "Content-Length: %" G_GINT64_FORMAT "\r\n\r\n",
                          (gint64) op->length);

  op->conn = take_idle (wire, op->pool_key);
  op->reused = op->conn != NULL;
  if (op->conn != NULL)
    write_step (task);
  else
    connect_fresh (task);
}

LtS3WireReply *
lt_s3_wire_send_finish (LtS3Wire      *wire,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_s3_wire_send_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

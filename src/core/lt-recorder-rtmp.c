/* lt-recorder-rtmp.c: LtRtmpSrc, a minimal RTMP player (play only) for the recorder's
 * loopback connections to nginx-rtmp. It outputs the stream as FLV, like rtmp2src.
 *
 * Why not rtmp2src or rtmpsrc: rtmp2src runs its connection on a thread of its own and
 * hands every message over (with a timer attached per message when idle-timeout is set),
 * which alone costs about what ffmpeg's whole recording costs; rtmpsrc (librtmp) is cheaper
 * but its unlock() closes the connection under a thread still reading it, which crashed
 * when 20 recordings stopped at once. This one reads on the streaming thread, wakes up
 * only when a batch of data is there (SO_RCVLOWAT with a 40 ms bound on the wait) instead
 * of for every TCP segment, hands each batch downstream as one buffer, and unblocks with
 * shutdown(2), which is safe while another thread waits in poll().
 *
 * Protocol subset: simple handshake, connect / createStream / play, chunk size, window
 * acknowledgements, ping, StreamEOF and NetStream.Play.UnpublishNotify (end of stream).
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <gst/base/gstpushsrc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lt-recorder-private.h"

/* Wake up for this much data, or after PACE_MS without it. */
#define RCVLOWAT_BYTES (16 * 1024)
#define PACE_MS 40
#define CONNECT_TIMEOUT_MS 10000
#define HANDSHAKE_SIZE 1536
#define OUT_CHUNK_SIZE 4096
#define MAX_MESSAGE_SIZE (16 * 1024 * 1024)

typedef struct
{
  guint32     timestamp;
  guint32     delta;
  guint32     length;
  guint8      type;
  guint32     stream_id;
  gboolean    extended;
  GByteArray *payload;   /* the message being assembled */
} ChunkStream;

struct _LtRtmpSrc
{
  GstPushSrc   parent_instance;

  char        *host;
  guint        port;
  char        *app;
  char        *stream;
  char        *tc_url;

  GMutex       lock;
  int          fd;
  gboolean     flushing;
  gboolean     connected;
  gboolean     eos;

  guint8      *buf;
  gsize        buf_start;
  gsize        buf_end;
  gsize        buf_alloc;
  guint32      in_chunk_size;
  guint64      received;
  guint64      acked;
  guint32      window;
  GHashTable  *chunk_streams;  /* csid → ChunkStream */
  guint32      stream_id;
  gboolean     sent_header;
  GByteArray  *out;            /* FLV tags for the next buffer */
};

G_DEFINE_FINAL_TYPE (LtRtmpSrc, lt_rtmp_src, GST_TYPE_PUSH_SRC)

static GstStaticPadTemplate src_template =
  GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                           GST_STATIC_CAPS ("video/x-flv"));

typedef enum
{
  READ_OK,
  READ_EOS,
  READ_FLUSHING,
  READ_ERROR,
} ReadResult;

/* ---- socket I/O ---- */

static void
chunk_stream_free (gpointer data)
{
  ChunkStream *cs = data;

  g_byte_array_unref (cs->payload);
  g_free (cs);
}

/* Waits for @events on the socket; FALSE on timeout or when flushing. */
static gboolean
wait_fd (LtRtmpSrc *self,
         short      events,
         int        timeout_ms)
{
  struct pollfd pfd = { self->fd, events, 0 };
  int r;

  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0 && !g_atomic_int_get (&self->flushing);
}

static gboolean
send_all (LtRtmpSrc    *self,
          const guint8 *data,
          gsize         size)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = send (self->fd, data + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n > 0)
        {
          done += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
          wait_fd (self, POLLOUT, CONNECT_TIMEOUT_MS))
        continue;
      return FALSE;
    }
  return TRUE;
}

/* Makes at least @need unread bytes available. @pace: wait for batches (media phase). */
static ReadResult
fill (LtRtmpSrc *self,
      gsize      need,
      gboolean   pace)
{
  while (self->buf_end - self->buf_start < need)
    {
      ssize_t n;

      if (g_atomic_int_get (&self->flushing))
        return READ_FLUSHING;

      if (self->buf_start > 0 && self->buf_start == self->buf_end)
        self->buf_start = self->buf_end = 0;
      if (self->buf_alloc - self->buf_end < 64 * 1024)
        {
          /* Compact, then grow if a message needs it. */
          memmove (self->buf, self->buf + self->buf_start, self->buf_end - self->buf_start);
          self->buf_end -= self->buf_start;
          self->buf_start = 0;
          if (self->buf_alloc - self->buf_end < 64 * 1024 || self->buf_alloc < need)
            {
              self->buf_alloc = MAX (self->buf_alloc * 2, need + 64 * 1024);
              self->buf = g_realloc (self->buf, self->buf_alloc);
            }
        }

      n = recv (self->fd, self->buf + self->buf_end, self->buf_alloc - self->buf_end,
                MSG_DONTWAIT);
      if (n > 0)
        {
          self->buf_end += n;
          self->received += n;
          continue;
        }
      if (n == 0)
        return READ_EOS;
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return READ_ERROR;
      if (!wait_fd (self, POLLIN, pace ? PACE_MS : CONNECT_TIMEOUT_MS) && !pace)
        return g_atomic_int_get (&self->flushing) ? READ_FLUSHING : READ_ERROR;
    }
  return READ_OK;
}

/* ---- RTMP messages out ---- */

static void
put_amf_string (GByteArray *b,
                const char *value)
{
  guint8 h[3] = { 0x02, 0, 0 };

  _lt_write_u16_be (h + 1, strlen (value));
  g_byte_array_append (b, h, 3);
  g_byte_array_append (b, (const guint8 *) value, strlen (value));
}

static void
put_amf_number (GByteArray *b,
                double      value)
{
  guint8 v[9] = { 0x00 };

  _lt_write_double_be (v + 1, value);
  g_byte_array_append (b, v, 9);
}

static void
put_amf_key (GByteArray *b,
             const char *key)
{
  guint8 len[2];

  _lt_write_u16_be (len, strlen (key));
  g_byte_array_append (b, len, 2);
  g_byte_array_append (b, (const guint8 *) key, strlen (key));
}

/* One message in one chunk (our chunk size is set large enough first). */
static gboolean
send_message (LtRtmpSrc    *self,
              guint8        csid,
              guint8        type,
              guint32       stream_id,
              const guint8 *payload,
              gsize         size)
{
  g_autoptr(GByteArray) b = g_byte_array_sized_new (12 + size);
  guint8 h[12];

  g_assert (size <= OUT_CHUNK_SIZE);
  h[0] = csid & 0x3f;
  _lt_write_u24_be (h + 1, 0);
  _lt_write_u24_be (h + 4, size);
  h[7] = type;
  _lt_write_u32_le (h + 8, stream_id);
  g_byte_array_append (b, h, 12);
  g_byte_array_append (b, payload, size);
  return send_all (self, b->data, b->len);
}

static gboolean
send_u32_message (LtRtmpSrc *self,
                  guint8     type,
                  guint32    value)
{
  guint8 v[4];

  _lt_write_u32_be (v, value);
  return send_message (self, 2, type, 0, v, 4);
}

static gboolean
send_user_control (LtRtmpSrc *self,
                   guint16    event,
                   guint32    a,
                   guint32    b,
                   gboolean   with_b)
{
  guint8 v[10];

  _lt_write_u16_be (v, event);
  _lt_write_u32_be (v + 2, a);
  _lt_write_u32_be (v + 6, b);
  return send_message (self, 2, 4, 0, v, with_b ? 10 : 6);
}

/* ---- AMF0 reading (just enough for _result and onStatus) ---- */

typedef struct
{
  const guint8 *p;
  const guint8 *end;
} Amf;

static gboolean amf_skip (Amf *amf);

static gboolean
amf_read_string (Amf   *amf,
                 char **value)
{
  gsize len;

  if (amf->end - amf->p < 3 || amf->p[0] != 0x02)
    return FALSE;
  len = _lt_read_u16_be (amf->p + 1);
  if ((gsize) (amf->end - amf->p) < 3 + len)
    return FALSE;
  if (value != NULL)
    *value = g_strndup ((const char *) amf->p + 3, len);
  amf->p += 3 + len;
  return TRUE;
}

static gboolean
amf_read_number (Amf    *amf,
                 double *value)
{
  if (amf->end - amf->p < 9 || amf->p[0] != 0x00)
    return FALSE;
  *value = _lt_read_double_be (amf->p + 1);
  amf->p += 9;
  return TRUE;
}

/* Properties of an object or ECMA array; @code receives the "code" string if any. */
static gboolean
amf_skip_properties (Amf   *amf,
                     char **code)
{
  for (;;)
    {
      gsize len;
      gboolean is_code;

      if (amf->end - amf->p < 3)
        return FALSE;
      len = _lt_read_u16_be (amf->p);
      if (len == 0 && amf->p[2] == 0x09)
        {
          amf->p += 3;
          return TRUE;
        }
      if ((gsize) (amf->end - amf->p) < 2 + len + 1)
        return FALSE;
      is_code = len == 4 && memcmp (amf->p + 2, "code", 4) == 0;
      amf->p += 2 + len;
      if (is_code && code != NULL && amf->p[0] == 0x02)
        {
          g_free (*code);
          if (!amf_read_string (amf, code))
            return FALSE;
        }
      else if (!amf_skip (amf))
        return FALSE;
    }
}

static gboolean
amf_skip_full (Amf   *amf,
               char **code)
{
  if (amf->p >= amf->end)
    return FALSE;
  switch (amf->p[0])
    {
    case 0x00:
      if (amf->end - amf->p < 9)
        return FALSE;
      amf->p += 9;
      return TRUE;
    case 0x01:
      if (amf->end - amf->p < 2)
        return FALSE;
      amf->p += 2;
      return TRUE;
    case 0x02:
      return amf_read_string (amf, NULL);
    case 0x03:
      amf->p += 1;
      return amf_skip_properties (amf, code);
    case 0x05:
    case 0x06:
      amf->p += 1;
      return TRUE;
    case 0x08:
      if (amf->end - amf->p < 5)
        return FALSE;
      amf->p += 5;
      return amf_skip_properties (amf, code);
    default:
      return FALSE;
    }
}

static gboolean
amf_skip (Amf *amf)
{
  return amf_skip_full (amf, NULL);
}

/* ---- RTMP messages in ---- */

static void
append_flv_tag (LtRtmpSrc    *self,
                guint8        type,
                guint32       timestamp,
                const guint8 *data,
                gsize         size)
{
  guint8 h[11];
  guint8 tail[4];

  if (!self->sent_header)
    {
      static const guint8 header[13] = { 'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0 };

      g_byte_array_append (self->out, header, sizeof header);
      self->sent_header = TRUE;
    }
  h[0] = type;
  _lt_write_u24_be (h + 1, size);
  _lt_write_u24_be (h + 4, timestamp & 0xffffff);
  h[7] = timestamp >> 24;
  _lt_write_u24_be (h + 8, 0);
  g_byte_array_append (self->out, h, 11);
  g_byte_array_append (self->out, data, size);
  _lt_write_u32_be (tail, 11 + size);
  g_byte_array_append (self->out, tail, 4);
}

/* Reads one whole message. With @pace, waits for data in batches and never gives up;
 * without, a silent peer is an error after CONNECT_TIMEOUT_MS. */
static ReadResult
read_message (LtRtmpSrc    *self,
              gboolean      pace,
              ChunkStream **message)
{
  static const gsize header_sizes[4] = { 11, 7, 3, 0 };

  for (;;)
    {
      const guint8 *p;
      guint fmt;
      guint32 csid;
      gsize basic = 1;
      gsize header;
      gsize chunk;
      guint32 ts_field = 0;
      ChunkStream *cs;
      ReadResult r;

      if ((r = fill (self, 1, pace)) != READ_OK)
        return r;
      p = self->buf + self->buf_start;
      fmt = p[0] >> 6;
      csid = p[0] & 0x3f;
      if (csid == 0)
        basic = 2;
      else if (csid == 1)
        basic = 3;
      header = basic + header_sizes[fmt];
      if ((r = fill (self, header, pace)) != READ_OK)
        return r;
      p = self->buf + self->buf_start;
      if (csid == 0)
        csid = 64 + p[1];
      else if (csid == 1)
        csid = 64 + p[1] + 256 * p[2];

      cs = g_hash_table_lookup (self->chunk_streams, GUINT_TO_POINTER (csid));
      if (cs == NULL)
        {
          cs = g_new0 (ChunkStream, 1);
          cs->payload = g_byte_array_new ();
          g_hash_table_insert (self->chunk_streams, GUINT_TO_POINTER (csid), cs);
        }

      p += basic;
      if (fmt <= 2)
        {
          ts_field = _lt_read_u24_be (p);
          cs->extended = ts_field == 0xffffff;
        }
      if (fmt <= 1)
        {
          cs->length = _lt_read_u24_be (p + 3);
          cs->type = p[6];
          if (cs->length > MAX_MESSAGE_SIZE)
            return READ_ERROR;
        }
      if (fmt == 0)
        cs->stream_id = _lt_read_u32_le (p + 7);

      /* nginx repeats the extended timestamp on type-3 chunks too. */
      if (cs->extended)
        {
          if ((r = fill (self, header + 4, pace)) != READ_OK)
            return r;
          ts_field = _lt_read_u32_be (self->buf + self->buf_start + header);
          header += 4;
        }

      /* A new message starts: its timestamp (type 3 repeats the last delta). */
      if (cs->payload->len == 0)
        {
          if (fmt == 0)
            {
              cs->timestamp = ts_field;
              cs->delta = 0;
            }
          else if (fmt <= 2)
            {
              cs->delta = ts_field;
              cs->timestamp += cs->delta;
            }
          else
            cs->timestamp += cs->delta;
        }

      chunk = MIN (self->in_chunk_size, cs->length - cs->payload->len);
      if ((r = fill (self, header + chunk, pace)) != READ_OK)
        return r;
      g_byte_array_append (cs->payload, self->buf + self->buf_start + header, chunk);
      self->buf_start += header + chunk;

      if (cs->payload->len >= cs->length)
        {
          *message = cs;
          return READ_OK;
        }
    }
}

/* Handles a control or command message. Returns READ_EOS at the end of the stream. */
static ReadResult
handle_message (LtRtmpSrc   *self,
                ChunkStream *msg,
                double      *result_number)
{
  const guint8 *d = msg->payload->data;
  gsize n = msg->payload->len;

  switch (msg->type)
    {
    case 1: /* set chunk size */
      if (n >= 4)
        self->in_chunk_size = MAX (_lt_read_u32_be (d) & 0x7fffffff, 1);
      break;
    case 4: /* user control */
      if (n >= 6 && _lt_read_u16_be (d) == 6)
        send_user_control (self, 7, _lt_read_u32_be (d + 2), 0, FALSE);
      else if (n >= 6 && _lt_read_u16_be (d) == 1 &&
               _lt_read_u32_be (d + 2) == self->stream_id && self->stream_id != 0)
        return READ_EOS;  /* StreamEOF */
      break;
    case 5: /* window acknowledgement size */
      if (n >= 4)
        self->window = _lt_read_u32_be (d);
      break;
    case 6: /* set peer bandwidth: answer with our window */
      if (n >= 4)
        send_u32_message (self, 5, _lt_read_u32_be (d));
      break;
    case 20: /* AMF0 command */
      {
        Amf amf = { d, d + n };
        g_autofree char *name = NULL;
        g_autofree char *code = NULL;
        double txn = 0;

        if (!amf_read_string (&amf, &name) || !amf_read_number (&amf, &txn))
          break;
        if (g_str_equal (name, "_result"))
          {
            double value = 0;

            /* command object (or null), then the result */
            if (amf_skip (&amf) && amf_read_number (&amf, &value) && result_number != NULL)
              *result_number = value;
            else if (result_number != NULL)
              *result_number = 0;
          }
        else if (g_str_equal (name, "_error"))
          return READ_ERROR;
        else if (g_str_equal (name, "onStatus"))
          {
            if (amf_skip (&amf) && amf_skip_full (&amf, &code) && code != NULL)
              {
                if (g_str_equal (code, "NetStream.Play.UnpublishNotify") ||
                    g_str_equal (code, "NetStream.Play.Stop") ||
                    g_str_equal (code, "NetStream.Play.Complete"))
                  return READ_EOS;
                if (g_str_has_suffix (code, "Failed") || g_str_has_suffix (code, "NotFound") ||
                    g_str_has_suffix (code, "Rejected"))
                  return READ_ERROR;
              }
          }
      }
      break;
    default:
      break;
    }
  return READ_OK;
}

static void
acknowledge (LtRtmpSrc *self)
{
  if (self->window > 0 && self->received - self->acked >= self->window / 2)
    {
      send_u32_message (self, 3, (guint32) self->received);
      self->acked = self->received;
    }
}

/* Reads messages until a _result for transaction @txn arrives. */
static gboolean
wait_result (LtRtmpSrc *self,
             double    *value)
{
  for (;;)
    {
      ChunkStream *msg = NULL;
      double result = -1;

      if (read_message (self, FALSE, &msg) != READ_OK)
        return FALSE;
      if (handle_message (self, msg, &result) != READ_OK)
        {
          g_byte_array_set_size (msg->payload, 0);
          return FALSE;
        }
      g_byte_array_set_size (msg->payload, 0);
      if (result >= 0)
        {
          *value = result;
          return TRUE;
        }
    }
}

static gboolean
rtmp_connect (LtRtmpSrc  *self,
              GError    **error)
{
  struct addrinfo hints = { 0, };
  struct addrinfo *res = NULL;
  g_autofree char *port = g_strdup_printf ("%u", self->port);
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint8 c0c1[1 + HANDSHAKE_SIZE];
  double value = 0;
  int fd = -1;
  int one = 1;
  int lowat = RCVLOWAT_BYTES;

  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo (self->host, port, &hints, &res) != 0 || res == NULL)
    goto failed;
  fd = socket (res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    goto failed;
  g_mutex_lock (&self->lock);
  self->fd = fd;
  g_mutex_unlock (&self->lock);
  if (connect (fd, res->ai_addr, res->ai_addrlen) != 0)
    {
      int so_error = 0;
      socklen_t len = sizeof so_error;

      if (errno != EINPROGRESS || !wait_fd (self, POLLOUT, CONNECT_TIMEOUT_MS) ||
          getsockopt (fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0)
        goto failed;
    }
  freeaddrinfo (res);
  res = NULL;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  /* Simple handshake: C0 C1, S0 S1 S2, C2 = S1. */
  c0c1[0] = 3;
  memset (c0c1 + 1, 0, 8);
  for (guint i = 9; i < sizeof c0c1; i++)
    c0c1[i] = g_random_int () & 0xff;
  if (!send_all (self, c0c1, sizeof c0c1) || fill (self, 1 + 2 * HANDSHAKE_SIZE, FALSE) != READ_OK)
    goto failed;
  if (!send_all (self, self->buf + self->buf_start + 1, HANDSHAKE_SIZE))
    goto failed;
  self->buf_start += 1 + 2 * HANDSHAKE_SIZE;

  if (!send_u32_message (self, 1, OUT_CHUNK_SIZE))
    goto failed;

  put_amf_string (b, "connect");
  put_amf_number (b, 1);
  g_byte_array_append (b, (const guint8 *) "\x03", 1);
  put_amf_key (b, "app");
  put_amf_string (b, self->app);
  put_amf_key (b, "type");
  put_amf_string (b, "nonprivate");
  put_amf_key (b, "flashVer");
  put_amf_string (b, "LNX 9,0,124,2");
  put_amf_key (b, "tcUrl");
  put_amf_string (b, self->tc_url);
  g_byte_array_append (b, (const guint8 *) "\x00\x00\x09", 3);
  if (!send_message (self, 3, 20, 0, b->data, b->len) || !wait_result (self, &value))
    goto failed;

  g_byte_array_set_size (b, 0);
  put_amf_string (b, "createStream");
  put_amf_number (b, 2);
  g_byte_array_append (b, (const guint8 *) "\x05", 1);
  if (!send_message (self, 3, 20, 0, b->data, b->len) || !wait_result (self, &value) || value <= 0)
    goto failed;
  self->stream_id = (guint32) value;

  g_byte_array_set_size (b, 0);
  put_amf_string (b, "play");
  put_amf_number (b, 0);
  g_byte_array_append (b, (const guint8 *) "\x05", 1);
  put_amf_string (b, self->stream);
  put_amf_number (b, -2000);
  if (!send_message (self, 8, 20, self->stream_id, b->data, b->len) ||
      !send_user_control (self, 3, self->stream_id, 3000, TRUE))
    goto failed;

  /* From now on wake up for batches only. */
  setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
  self->connected = TRUE;
  return TRUE;

failed:
  if (res != NULL)
    freeaddrinfo (res);
  if (!g_atomic_int_get (&self->flushing))
    g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_SOURCE,
                 _("Could not play “rtmp://%s:%u/%s/%s”"), self->host, self->port, self->app,
                 self->stream);
  return FALSE;
}

/* ---- GstPushSrc ---- */

static GstFlowReturn
lt_rtmp_src_create (GstPushSrc  *push_src,
                    GstBuffer  **out)
{
  LtRtmpSrc *self = LT_RTMP_SRC (push_src);
  gboolean more = TRUE;

  if (self->eos)
    return GST_FLOW_EOS;

  if (!self->connected)
    {
      g_autoptr(GError) error = NULL;

      if (!rtmp_connect (self, &error))
        {
          if (g_atomic_int_get (&self->flushing))
            return GST_FLOW_FLUSHING;
          GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message), (NULL));
          return GST_FLOW_ERROR;
        }
    }

  /* One buffer per batch: every complete media message that is already here. */
  g_byte_array_set_size (self->out, 0);
  while (more)
    {
      ChunkStream *msg = NULL;
      ReadResult r;

      /* Once something can be handed out, only finish what is already arriving. */
      if (self->out->len > 0 && self->buf_start == self->buf_end)
        break;
      r = read_message (self, TRUE, &msg);
      if (r == READ_OK)
        {
          if (msg->type == 8 || msg->type == 9 || msg->type == 18)
            {
              if (msg->stream_id == self->stream_id && msg->payload->len > 0)
                append_flv_tag (self, msg->type, msg->timestamp, msg->payload->data,
                                msg->payload->len);
            }
          else
            r = handle_message (self, msg, NULL);
          g_byte_array_set_size (msg->payload, 0);
          acknowledge (self);
        }
      if (r == READ_EOS)
        {
          self->eos = TRUE;
          more = FALSE;
        }
      else if (r == READ_FLUSHING)
        return GST_FLOW_FLUSHING;
      else if (r == READ_ERROR)
        {
          if (self->out->len == 0)
            {
              GST_ELEMENT_ERROR (self, RESOURCE, READ, (_("The RTMP connection failed")), (NULL));
              return GST_FLOW_ERROR;
            }
          self->eos = TRUE;
          more = FALSE;
        }
    }

  if (self->out->len == 0)
    return GST_FLOW_EOS;
  *out = gst_buffer_new_memdup (self->out->data, self->out->len);
  return GST_FLOW_OK;
}

static gboolean
lt_rtmp_src_unlock (GstBaseSrc *src)
{
  LtRtmpSrc *self = LT_RTMP_SRC (src);

  /* shutdown() wakes a poll() on another thread; the fd itself stays valid until stop. */
  g_atomic_int_set (&self->flushing, TRUE);
  g_mutex_lock (&self->lock);
  if (self->fd >= 0)
    shutdown (self->fd, SHUT_RDWR);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
lt_rtmp_src_unlock_stop (GstBaseSrc *src)
{
  /* A shut down connection does not come back: the recorder makes a new source. */
  return TRUE;
}

static gboolean
lt_rtmp_src_stop (GstBaseSrc *src)
{
  LtRtmpSrc *self = LT_RTMP_SRC (src);

  g_mutex_lock (&self->lock);
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  g_mutex_unlock (&self->lock);
  self->connected = FALSE;
  return TRUE;
}

static void
lt_rtmp_src_finalize (GObject *object)
{
  LtRtmpSrc *self = LT_RTMP_SRC (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->host);
  g_free (self->app);
  g_free (self->stream);
  g_free (self->tc_url);
  g_free (self->buf);
  g_hash_table_unref (self->chunk_streams);
  g_byte_array_unref (self->out);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (lt_rtmp_src_parent_class)->finalize (object);
}

static void
lt_rtmp_src_class_init (LtRtmpSrcClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);

  object_class->finalize = lt_rtmp_src_finalize;
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Livetape RTMP player", "Source/Network",
                                         "Plays an RTMP stream as FLV", "Livetape");
  base_class->unlock = lt_rtmp_src_unlock;
  base_class->unlock_stop = lt_rtmp_src_unlock_stop;
  base_class->stop = lt_rtmp_src_stop;
  push_class->create = lt_rtmp_src_create;
}

static void
lt_rtmp_src_init (LtRtmpSrc *self)
{
  g_mutex_init (&self->lock);
  self->fd = -1;
  self->in_chunk_size = 128;
  self->buf_alloc = 256 * 1024;
  self->buf = g_malloc (self->buf_alloc);
  self->chunk_streams = g_hash_table_new_full (NULL, NULL, NULL, chunk_stream_free);
  self->out = g_byte_array_sized_new (256 * 1024);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
}

GstElement *
_lt_rtmp_src_new (const char  *uri,
                  GError     **error)
{
  g_autoptr(GUri) parsed = NULL;
  const char *path;
  const char *slash;
  LtRtmpSrc *self;

  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL)
    goto invalid;
  path = g_uri_get_path (parsed);
  while (*path == '/')
    path++;
  slash = strchr (path, '/');
  if (slash == NULL || slash == path || slash[1] == '\0')
    goto invalid;

  self = g_object_new (LT_TYPE_RTMP_SRC, NULL);
  self->host = g_strdup (g_uri_get_host (parsed));
  self->port = g_uri_get_port (parsed) > 0 ? (guint) g_uri_get_port (parsed) : 1935;
  self->app = g_uri_unescape_segment (path, slash, NULL);
  {
    g_autofree char *name = g_uri_unescape_string (slash + 1, NULL);

    if (name == NULL)
      name = g_strdup (slash + 1);
    self->stream = g_uri_get_query (parsed) != NULL
      ? g_strdup_printf ("%s?%s", name, g_uri_get_query (parsed))
      : g_steal_pointer (&name);
  }
  self->tc_url = g_strdup_printf ("rtmp://%s:%u/%s", self->host, self->port, self->app);
  if (self->app == NULL)
    {
      gst_object_unref (self);
      goto invalid;
    }
  return GST_ELEMENT (self);

invalid:
  g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_SOURCE,
               _("Not an RTMP address: “%s”"), uri);
  return NULL;
}

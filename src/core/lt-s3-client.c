/* lt-s3-client.c: one S3-compatible storage target over libsoup (see lt-s3-client.h).
 *
 * Every operation is a Request: a method, a key, an encoded query, maybe a body (bytes, or
 * a range of a local file), and a handler for the reply. A request is signed just before
 * it is written, with the clock offset in force at that moment: in the message's
 * "starting" signal when libsoup sends it, right before lt_s3_wire_send_async() when the
 * body is a file range (lt-s3-wire.c writes those in big steps instead of libsoup's 8 KiB
 * ones). URIs are built already encoded
 * (g_uri_build with G_URI_FLAGS_ENCODED), so that nothing removes "." or ".." segments
 * from a key. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "lt-outbound.h"
#include "lt-s3-client.h"
#include "lt-s3-sigv4.h"
#include "lt-s3-wire.h"

/* ---- errors -------------------------------------------------------------------------- */

typedef struct
{
  gint64  server_time;
  guint   http_status;
  char   *s3_code;
} LtS3ErrorPrivate;

static void
lt_s3_error_private_init (LtS3ErrorPrivate *priv)
{
  priv->server_time = 0;
  priv->http_status = 0;
  priv->s3_code = NULL;
}

static void
lt_s3_error_private_copy (const LtS3ErrorPrivate *src,
                          LtS3ErrorPrivate       *dest)
{
  dest->server_time = src->server_time;
  dest->http_status = src->http_status;
  dest->s3_code = g_strdup (src->s3_code);
}

static void
lt_s3_error_private_clear (LtS3ErrorPrivate *priv)
{
  g_clear_pointer (&priv->s3_code, g_free);
}

G_DEFINE_EXTENDED_ERROR (LtS3Error, lt_s3_error)

gint64
lt_s3_error_get_server_time (const GError *error)
{
  LtS3ErrorPrivate *priv = error != NULL ? lt_s3_error_get_private (error) : NULL;

  return priv != NULL ? priv->server_time : 0;
}

guint
lt_s3_error_get_http_status (const GError *error)
{
  LtS3ErrorPrivate *priv = error != NULL ? lt_s3_error_get_private (error) : NULL;

  return priv != NULL ? priv->http_status : 0;
}

const char *
lt_s3_error_get_s3_code (const GError *error)
{
  LtS3ErrorPrivate *priv = error != NULL ? lt_s3_error_get_private (error) : NULL;

  return priv != NULL ? priv->s3_code : NULL;
}

gboolean
lt_s3_error_is_retryable (const GError *error)
{
  return error != NULL && error->domain == LT_S3_ERROR
         && (error->code == LT_S3_ERROR_TRANSIENT || error->code == LT_S3_ERROR_CLOCK_SKEW
             || error->code == LT_S3_ERROR_BAD_DIGEST);
}

gboolean
lt_s3_error_is_permanent (const GError *error)
{
  return error != NULL && error->domain == LT_S3_ERROR
         && (error->code == LT_S3_ERROR_ACCESS_DENIED
             || error->code == LT_S3_ERROR_INVALID_ACCESS_KEY
             || error->code == LT_S3_ERROR_SIGNATURE
             || error->code == LT_S3_ERROR_NO_SUCH_BUCKET);
}

LtS3Error
lt_s3_error_classify (guint       status,
                      const char *s3_code)
{
  static const struct { const char *code; LtS3Error error; } codes[] = {
    { "RequestTimeTooSkewed", LT_S3_ERROR_CLOCK_SKEW },
    { "SlowDown", LT_S3_ERROR_TRANSIENT },
    { "InternalError", LT_S3_ERROR_TRANSIENT },
    { "ServiceUnavailable", LT_S3_ERROR_TRANSIENT },
    { "RequestTimeout", LT_S3_ERROR_TRANSIENT },
    { "Throttling", LT_S3_ERROR_TRANSIENT },
    { "AccessDenied", LT_S3_ERROR_ACCESS_DENIED },
    { "AllAccessDisabled", LT_S3_ERROR_ACCESS_DENIED },
    { "InvalidAccessKeyId", LT_S3_ERROR_INVALID_ACCESS_KEY },
    { "SignatureDoesNotMatch", LT_S3_ERROR_SIGNATURE },
    { "NoSuchBucket", LT_S3_ERROR_NO_SUCH_BUCKET },
    { "NoSuchUpload", LT_S3_ERROR_NO_SUCH_UPLOAD },
    { "NoSuchKey", LT_S3_ERROR_NO_SUCH_KEY },
    { "BadDigest", LT_S3_ERROR_BAD_DIGEST },
    { "InvalidDigest", LT_S3_ERROR_BAD_DIGEST },
  };

  if (s3_code != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
      if (strcmp (s3_code, codes[i].code) == 0)
        return codes[i].error;

  if (status >= 500 || status == 429 || status == 408)
    return LT_S3_ERROR_TRANSIENT;
  if (status == 403)
    return LT_S3_ERROR_ACCESS_DENIED;
  return LT_S3_ERROR_FAILED;
}

/* ---- a small XML reader ---------------------------------------------------------------
 * S3 replies are flat enough that "path → text of the last such element" plus a list of
 * records (the children of every <record> element) covers all of them. */

typedef struct
{
  const char *record;           /* element name whose children make a record, or NULL */
  GPtrArray  *stack;            /* element names */
  GString    *text;
  GHashTable *fields;           /* "Root/A/B" → text */
  GPtrArray  *records;          /* GHashTable * (child name → text) */
  GHashTable *current;
  char       *root;
} XmlReader;

static void
xml_start (GMarkupParseContext  *context,
           const char           *element,
           const char          **names,
           const char          **values,
           gpointer              user_data,
           GError              **error)
{
  XmlReader *reader = user_data;

  if (reader->stack->len == 0)
    reader->root = g_strdup (element);
  g_ptr_array_add (reader->stack, g_strdup (element));
  g_string_truncate (reader->text, 0);
  if (reader->record != NULL && strcmp (element, reader->record) == 0)
    {
      g_clear_pointer (&reader->current, g_hash_table_unref);
      reader->current = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
}

static void
xml_end (GMarkupParseContext  *context,
         const char           *element,
         gpointer              user_data,
         GError              **error)
{
  XmlReader *reader = user_data;
  GString *path = g_string_new (NULL);

  for (guint i = 0; i < reader->stack->len; i++)
    {
      if (i > 0)
        g_string_append_c (path, '/');
      g_string_append (path, reader->stack->pdata[i]);
    }
  g_hash_table_replace (reader->fields, g_string_free (path, FALSE),
                        g_strdup (reader->text->str));

  if (reader->current != NULL && reader->stack->len >= 2
      && strcmp (reader->stack->pdata[reader->stack->len - 2], reader->record) == 0)
    g_hash_table_replace (reader->current, g_strdup (element), g_strdup (reader->text->str));
  if (reader->record != NULL && reader->current != NULL && strcmp (element, reader->record) == 0)
    g_ptr_array_add (reader->records, g_steal_pointer (&reader->current));

  g_ptr_array_remove_index (reader->stack, reader->stack->len - 1);
  g_string_truncate (reader->text, 0);
}

static void
xml_text (GMarkupParseContext  *context,
          const char           *text,
          gsize                 length,
          gpointer              user_data,
          GError              **error)
{
  XmlReader *reader = user_data;

  g_string_append_len (reader->text, text, length);
}

static void
xml_reader_clear (XmlReader *reader)
{
  g_clear_pointer (&reader->stack, g_ptr_array_unref);
  if (reader->text != NULL)
    g_string_free (reader->text, TRUE);
  reader->text = NULL;
  g_clear_pointer (&reader->fields, g_hash_table_unref);
  g_clear_pointer (&reader->records, g_ptr_array_unref);
  g_clear_pointer (&reader->current, g_hash_table_unref);
  g_clear_pointer (&reader->root, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (XmlReader, xml_reader_clear)

static gboolean
xml_read (XmlReader   *reader,
          const char  *record,
          const char  *xml,
          gssize       length,
          GError     **error)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;

  reader->record = record;
  reader->stack = g_ptr_array_new_with_free_func (g_free);
  reader->text = g_string_new (NULL);
  reader->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  reader->records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);

  context = g_markup_parse_context_new (&parser, G_MARKUP_IGNORE_QUALIFIED, reader, NULL);
  if (!g_markup_parse_context_parse (context, xml, length, error)
      || !g_markup_parse_context_end_parse (context, error))
    return FALSE;
  if (reader->root == NULL)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "empty document");
      return FALSE;
    }
  return TRUE;
}

gboolean
lt_s3_parse_error_xml (const char  *xml,
                       gssize       length,
                       char       **code,
                       char       **message)
{
  g_auto(XmlReader) reader = { 0 };
  const char *value;

  if (code != NULL)
    *code = NULL;
  if (message != NULL)
    *message = NULL;
  if (xml == NULL || !xml_read (&reader, NULL, xml, length, NULL)
      || strcmp (reader.root, "Error") != 0)
    return FALSE;
  if (code != NULL && (value = g_hash_table_lookup (reader.fields, "Error/Code")) != NULL)
    *code = g_strdup (value);
  if (message != NULL && (value = g_hash_table_lookup (reader.fields, "Error/Message")) != NULL)
    *message = g_strdup (value);
  return TRUE;
}

guint
lt_s3_backoff_delay (guint attempt,
                     guint cap_ms)
{
  guint64 ceiling = 200;

  /* Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): clients that
   * failed together do not come back together. */
  for (guint i = 0; i < attempt && ceiling < cap_ms; i++)
    ceiling *= 2;
  ceiling = MIN (ceiling, (guint64) cap_ms);
  return (guint) g_random_int_range (0, (gint32) ceiling + 1);
}

/* ---- bandwidth ----------------------------------------------------------------------- */

struct _LtS3Bandwidth
{
  gatomicrefcount  ref_count;
  GMutex           mutex;
  guint64          rate;
  gint64           next_free_us;   /* monotonic time at which the bucket is empty again */
};

G_DEFINE_BOXED_TYPE (LtS3Bandwidth, lt_s3_bandwidth, lt_s3_bandwidth_ref, lt_s3_bandwidth_unref)

LtS3Bandwidth *
lt_s3_bandwidth_new (guint64 bytes_per_s)
{
  LtS3Bandwidth *bandwidth = g_new0 (LtS3Bandwidth, 1);

  g_atomic_ref_count_init (&bandwidth->ref_count);
  g_mutex_init (&bandwidth->mutex);
  bandwidth->rate = bytes_per_s;
  return bandwidth;
}

LtS3Bandwidth *
lt_s3_bandwidth_ref (LtS3Bandwidth *bandwidth)
{
  g_return_val_if_fail (bandwidth != NULL, NULL);
  g_atomic_ref_count_inc (&bandwidth->ref_count);
  return bandwidth;
}

void
lt_s3_bandwidth_unref (LtS3Bandwidth *bandwidth)
{
  g_return_if_fail (bandwidth != NULL);
  if (g_atomic_ref_count_dec (&bandwidth->ref_count))
    {
      g_mutex_clear (&bandwidth->mutex);
      g_free (bandwidth);
    }
}

void
lt_s3_bandwidth_set_rate (LtS3Bandwidth *bandwidth,
                          guint64        bytes_per_s)
{
  g_return_if_fail (bandwidth != NULL);
  g_mutex_lock (&bandwidth->mutex);
  bandwidth->rate = bytes_per_s;
  bandwidth->next_free_us = 0;
  g_mutex_unlock (&bandwidth->mutex);
}

guint64
lt_s3_bandwidth_get_rate (LtS3Bandwidth *bandwidth)
{
  guint64 rate;

  g_return_val_if_fail (bandwidth != NULL, 0);
  g_mutex_lock (&bandwidth->mutex);
  rate = bandwidth->rate;
  g_mutex_unlock (&bandwidth->mutex);
  return rate;
}

gint64
lt_s3_bandwidth_take (LtS3Bandwidth *bandwidth,
                      gsize          bytes)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait = 0;

  g_return_val_if_fail (bandwidth != NULL, 0);
  g_mutex_lock (&bandwidth->mutex);
  if (bandwidth->rate > 0)
    {
      /* A bucket of one second's worth: an idle limiter lets a burst of up to that much
       * through, then every byte is paid for in time. */
      gint64 floor = now - G_USEC_PER_SEC;
      gint64 start = MAX (bandwidth->next_free_us, floor);

      bandwidth->next_free_us = start + (gint64) (bytes * (guint64) G_USEC_PER_SEC
                                                  / bandwidth->rate);
      wait = MAX (0, bandwidth->next_free_us - now);
    }
  g_mutex_unlock (&bandwidth->mutex);
  return wait;
}

/* ---- multipart values ------------------------------------------------------------------ */

LtS3Part *
lt_s3_part_new (guint       part_number,
                const char *etag,
                guint64     size)
{
  LtS3Part *part = g_new0 (LtS3Part, 1);

  part->part_number = part_number;
  part->etag = g_strdup (etag);
  part->size = size;
  return part;
}

void
lt_s3_part_free (LtS3Part *part)
{
  if (part == NULL)
    return;
  g_free (part->etag);
  g_free (part);
}

void
lt_s3_upload_free (LtS3Upload *upload)
{
  if (upload == NULL)
    return;
  g_free (upload->key);
  g_free (upload->upload_id);
  g_free (upload);
}

char *
lt_s3_multipart_etag (GPtrArray *parts)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_MD5);

  g_return_val_if_fail (parts != NULL, NULL);

  for (guint i = 0; i < parts->len; i++)
    {
      const LtS3Part *part = parts->pdata[i];
      guint8 digest[16];

      if (part->etag == NULL || strlen (part->etag) != 32)
        return NULL;
      for (guint j = 0; j < 16; j++)
        {
          int hi = g_ascii_xdigit_value (part->etag[2 * j]);
          int lo = g_ascii_xdigit_value (part->etag[2 * j + 1]);

          if (hi < 0 || lo < 0)
            return NULL;
          digest[j] = (guint8) (hi << 4 | lo);
        }
      g_checksum_update (checksum, digest, 16);
    }
  return g_strdup_printf ("%s-%u", g_checksum_get_string (checksum), parts->len);
}

/* Strips the quotes of an ETag header and lowercases it. */
static char *
normalize_etag (const char *etag)
{
  g_autofree char *copy = NULL;
  gsize n;

  if (etag == NULL)
    return NULL;
  copy = g_strstrip (g_strdup (etag));
  n = strlen (copy);
  if (n >= 2 && copy[0] == '"' && copy[n - 1] == '"')
    {
      copy[n - 1] = '\0';
      return g_ascii_strdown (copy + 1, -1);
    }
  return g_ascii_strdown (copy, -1);
}

/* ---- the client object ------------------------------------------------------------------ */

struct _LtS3Client
{
  GObject        parent_instance;

  char          *scheme;
  char          *host;          /* endpoint host (no brackets) */
  int            port;          /* -1: the scheme's default */
  char          *region;
  char          *bucket;
  char          *access_key_id;
  char          *secret;        /* wiped at dispose */
  gboolean       path_style;
  gint64         clock_offset;
  SoupSession   *session;
  LtS3Wire      *wire;          /* requests with a file-range body */
  LtS3Bandwidth *bandwidth;
  GPtrArray     *sockets;       /* GSocket: the corked connections (see flush_sockets) */
};

G_DEFINE_FINAL_TYPE (LtS3Client, lt_s3_client, G_TYPE_OBJECT)

static void
lt_s3_client_dispose (GObject *object)
{
  LtS3Client *self = LT_S3_CLIENT (object);

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  g_clear_pointer (&self->wire, lt_s3_wire_free);
  g_clear_pointer (&self->sockets, g_ptr_array_unref);
  g_clear_pointer (&self->bandwidth, lt_s3_bandwidth_unref);
  if (self->secret != NULL)
    {
      explicit_bzero (self->secret, strlen (self->secret));
      g_clear_pointer (&self->secret, g_free);
    }
  G_OBJECT_CLASS (lt_s3_client_parent_class)->dispose (object);
}

static void
lt_s3_client_finalize (GObject *object)
{
  LtS3Client *self = LT_S3_CLIENT (object);

  g_free (self->scheme);
  g_free (self->host);
  g_free (self->region);
  g_free (self->bucket);
  g_free (self->access_key_id);
  G_OBJECT_CLASS (lt_s3_client_parent_class)->finalize (object);
}

static void
lt_s3_client_class_init (LtS3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_s3_client_dispose;
  object_class->finalize = lt_s3_client_finalize;
}

static void
lt_s3_client_init (LtS3Client *self)
{
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
}

LtS3Client *
lt_s3_client_new (const LtS3Config  *config,
                  const char        *secret_access_key,
                  GError           **error)
{
  g_autoptr(LtS3Client) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  guint max_connections;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (config->endpoint == NULL || !lt_outbound_check_url (config->endpoint, &local_error))
    {
      g_set_error (error, LT_S3_ERROR, LT_S3_ERROR_FAILED, _("Invalid endpoint: %s"),
                   local_error != NULL ? local_error->message : _("none given"));
      return NULL;
    }
  uri = g_uri_parse (config->endpoint, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || (g_uri_get_path (uri)[0] != '\0' && strcmp (g_uri_get_path (uri), "/") != 0)
      || g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                   _("Invalid endpoint “%s”: give only http(s)://host[:port]"),
                   config->endpoint);
      return NULL;
    }
  if (config->bucket == NULL || config->bucket[0] == '\0' || strchr (config->bucket, '/') != NULL)
    {
      g_set_error_literal (error, LT_S3_ERROR, LT_S3_ERROR_FAILED, _("Invalid bucket name"));
      return NULL;
    }
  if (config->access_key_id == NULL || config->access_key_id[0] == '\0'
      || secret_access_key == NULL || secret_access_key[0] == '\0')
    {
      g_set_error_literal (error, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                           _("The access key id and the secret key are both needed"));
      return NULL;
    }

  self = g_object_new (LT_TYPE_S3_CLIENT, NULL);
  self->scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  self->host = g_strdup (g_uri_get_host (uri));
  self->port = g_uri_get_port (uri);
  self->region = g_strdup (config->region != NULL && config->region[0] != '\0'
                           ? config->region : "us-east-1");
  self->bucket = g_strdup (config->bucket);
  self->path_style = config->path_style;
  self->access_key_id = g_strdup (config->access_key_id);
  self->secret = g_strdup (secret_access_key);

  max_connections = config->max_connections > 0 ? config->max_connections : 8;
  self->session = soup_session_new_with_options ("timeout", config->timeout_s > 0 ? config->timeout_s : 60,
                                                 "idle-timeout", 60,
                                                 "user-agent", "Livetape/" PACKAGE_VERSION,
                                                 "max-conns", max_connections * 2,
                                                 "max-conns-per-host", max_connections,
                                                 /* Never a proxy from the environment:
                                                  * credentials go only where configured. */
                                                 "proxy-resolver", NULL,
                                                 NULL);
  self->wire = lt_s3_wire_new (strcmp (self->scheme, "https") == 0,
                               config->timeout_s > 0 ? config->timeout_s : 60, max_connections);
  return g_steal_pointer (&self);
}

const char *
lt_s3_client_get_bucket (LtS3Client *self)
{
  g_return_val_if_fail (LT_IS_S3_CLIENT (self), NULL);
  return self->bucket;
}

void
lt_s3_client_set_clock_offset (LtS3Client *self,
                               gint64      offset_s)
{
  g_return_if_fail (LT_IS_S3_CLIENT (self));
  self->clock_offset = offset_s;
}

gint64
lt_s3_client_get_clock_offset (LtS3Client *self)
{
  g_return_val_if_fail (LT_IS_S3_CLIENT (self), 0);
  return self->clock_offset;
}

void
lt_s3_client_set_bandwidth (LtS3Client    *self,
                            LtS3Bandwidth *bandwidth)
{
  g_return_if_fail (LT_IS_S3_CLIENT (self));
  if (bandwidth != NULL)
    lt_s3_bandwidth_ref (bandwidth);
  g_clear_pointer (&self->bandwidth, lt_s3_bandwidth_unref);
  self->bandwidth = bandwidth;
}

static char *
request_host (LtS3Client *self)
{
  if (self->path_style)
    return g_strdup (self->host);
  return g_strdup_printf ("%s.%s", self->bucket, self->host);
}

/* The decoded path that is signed: "/bucket/key" or "/key" (virtual-hosted); @key NULL
 * for the bucket itself. */
static char *
request_path (LtS3Client *self,
              const char *key)
{
  if (self->path_style)
    return key != NULL ? g_strdup_printf ("/%s/%s", self->bucket, key)
                       : g_strdup_printf ("/%s", self->bucket);
  return g_strdup_printf ("/%s", key != NULL ? key : "");
}

static GUri *
request_uri (LtS3Client *self,
             const char *key,
             const char *query)
{
  g_autofree char *host = request_host (self);
  g_autofree char *path = request_path (self, key);
  g_autofree char *encoded = lt_s3_sigv4_uri_encode (path, -1, TRUE);

  return g_uri_build (G_URI_FLAGS_ENCODED, self->scheme, NULL, host, self->port, encoded,
                      query, NULL);
}

/* ---- requests ---------------------------------------------------------------------------- */

typedef struct _Request Request;

/* What a handler needs of a reply, whichever path carried it (libsoup or lt-s3-wire). */
typedef struct
{
  guint               status;
  const char         *reason;
  SoupMessageHeaders *headers;
} Reply;

/* Turns a 2xx reply into the task's result (or an error). */
typedef void (*ReplyHandler) (GTask       *task,
                              Request     *request,
                              const Reply *reply,
                              GBytes      *body);

struct _Request
{
  LtS3Client       *client;
  char             *method;
  char             *key;          /* NULL: the bucket */
  char             *query;        /* encoded, or NULL */
  char             *content_type;
  GBytes           *body;         /* a small body, or NULL */
  char             *file_path;    /* a file range body, or NULL */
  goffset           file_offset;
  goffset           file_length;
  GBytes           *file_data;    /* that range, when it was read while hashing */
  char             *md5_hex;      /* of the body; checked against the ETag when check_etag */
  gboolean          check_etag;
  ReplyHandler      handler;
  LtS3ProgressFunc  progress;
  gpointer          progress_data;
  GDestroyNotify    progress_destroy;
  SoupMessage      *message;
  GFile            *dest;         /* get_object */
  gpointer          op_data;
  GDestroyNotify    op_data_free;
  char             *forbidden;    /* the refused address, when the connection was refused */
};

/* The Request is the borrowed user_data of the handlers on its message, and libsoup may
 * hold on to a message after the request let go of it (a cancelled send still leaving the
 * queue, a connection still being set up, the session's abort at dispose). So the
 * handlers are cut before the message is dropped: none of them can run with a freed
 * Request (and through it a finalized client). */
static void
request_release_message (Request *request)
{
  if (request->message == NULL)
    return;
  g_signal_handlers_disconnect_by_data (request->message, request);
  g_clear_object (&request->message);
}

static void
request_free (Request *request)
{
  if (request->progress_destroy != NULL)
    request->progress_destroy (request->progress_data);
  if (request->op_data_free != NULL)
    request->op_data_free (request->op_data);
  request_release_message (request);
  g_clear_object (&request->client);
  g_clear_object (&request->dest);
  g_free (request->method);
  g_free (request->key);
  g_free (request->query);
  g_free (request->content_type);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request->file_path);
  g_clear_pointer (&request->file_data, g_bytes_unref);
  g_free (request->md5_hex);
  g_free (request->forbidden);
  g_free (request);
}

static Request *
request_new (LtS3Client   *client,
             const char   *method,
             const char   *key,
             const char   *query,
             ReplyHandler  handler)
{
  Request *request = g_new0 (Request, 1);

  request->client = g_object_ref (client);
  request->method = g_strdup (method);
  request->key = g_strdup (key);
  request->query = g_strdup (query);
  request->handler = handler;
  return request;
}

static GTask *
request_task (LtS3Client          *self,
              Request             *request,
              gpointer             source_tag,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);
  return task;
}

static char *
md5_base64 (const char *md5_hex)
{
  guint8 digest[16];

  for (guint i = 0; i < 16; i++)
    digest[i] = (guint8) (g_ascii_xdigit_value (md5_hex[2 * i]) << 4
                          | g_ascii_xdigit_value (md5_hex[2 * i + 1]));
  return g_base64_encode (digest, 16);
}

/* Signs @headers now: Host and x-amz-date from the clock (plus the offset), then every
 * header we set is signed. */
static void
sign_headers (Request            *request,
              SoupMessageHeaders *headers)
{
  LtS3Client *self = request->client;
  g_autofree char *amz_date = NULL;
  g_autofree char *path = request_path (self, request->key);
  g_autofree char *host = request_host (self);
  g_autofree char *host_header = NULL;
  g_auto(LtS3Signature) signature = { 0 };
  const char *payload_hash;
  const LtS3Credentials credentials = {
    .access_key_id = self->access_key_id,
    .secret_access_key = self->secret,
    .region = self->region,
    .service = "s3",
  };
  LtS3Header signed_headers[5];
  gsize n = 0;

  if (self->port > 0)
    host_header = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]:%d", host, self->port)
                                             : g_strdup_printf ("%s:%d", host, self->port);
  else
    host_header = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host)
                                             : g_strdup (host);
  amz_date = lt_s3_sigv4_amz_date (g_get_real_time () / G_USEC_PER_SEC + self->clock_offset);
  soup_message_headers_replace (headers, "Host", host_header);
  soup_message_headers_replace (headers, "x-amz-date", amz_date);
  payload_hash = soup_message_headers_get_one (headers, "x-amz-content-sha256");

  signed_headers[n++] = (LtS3Header) { "host", host_header };
  if (soup_message_headers_get_one (headers, "Content-MD5") != NULL)
    signed_headers[n++] = (LtS3Header) { "content-md5",
                                         soup_message_headers_get_one (headers, "Content-MD5") };
  signed_headers[n++] = (LtS3Header) { "x-amz-content-sha256", payload_hash };
  signed_headers[n++] = (LtS3Header) { "x-amz-date", amz_date };

  lt_s3_sigv4_sign (&credentials, request->method, path, request->query, signed_headers, n,
                    payload_hash, amz_date, &signature);
  soup_message_headers_replace (headers, "Authorization", signature.authorization);
}

/* libsoup's "starting": just before it writes the request, again for any resend. */
static void
message_starting_cb (SoupMessage *message,
                     gpointer     user_data)
{
  sign_headers (user_data, soup_message_get_request_headers (message));
}

/* libsoup writes a body in 8 KiB steps (GIO's splice buffer). With Nagle, each step's
 * tail segment waits for the peer's delayed ACK; with TCP_NODELAY alone, every step is a
 * packet of its own and the receiver wakes up for each. So connections are corked (the
 * kernel sends full segments) and uncorked for a moment whenever a request has been
 * written, which pushes out its last partial segment at once. */
static void
flush_sockets (LtS3Client *self)
{
  for (guint i = self->sockets->len; i > 0; i--)
    {
      GSocket *socket = self->sockets->pdata[i - 1];

      if (g_socket_is_closed (socket)
          || !g_socket_set_option (socket, IPPROTO_TCP, TCP_CORK, 0, NULL))
        {
          g_ptr_array_remove_index_fast (self->sockets, i - 1);
          continue;
        }
      g_socket_set_option (socket, IPPROTO_TCP, TCP_CORK, 1, NULL);
    }
}

static void
message_wrote_cb (SoupMessage *message,
                  gpointer     user_data)
{
  Request *request = user_data;

  flush_sockets (request->client);
}

static void
message_network_event_cb (SoupMessage        *message,
                          GSocketClientEvent  event,
                          GIOStream          *connection,
                          gpointer            user_data)
{
  Request *request = user_data;
  char *refused;

  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    {
      GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));

      g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
      if (g_socket_set_option (socket, IPPROTO_TCP, TCP_CORK, 1, NULL))
        g_ptr_array_add (request->client->sockets, g_object_ref (socket));
      return;
    }
  refused = lt_s3_wire_refuse_forbidden (event, connection);
  if (refused != NULL)
    {
      g_free (request->forbidden);
      request->forbidden = refused;
    }
}

static void
set_reply_error (GError      **error,
                 const Reply  *reply,
                 GBytes       *body)
{
  guint status = reply->status;
  const char *date = soup_message_headers_get_one (reply->headers, "Date");
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  LtS3ErrorPrivate *priv;
  LtS3Error kind;

  if (body != NULL && g_bytes_get_size (body) > 0)
    lt_s3_parse_error_xml (g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                           &code, &text);
  kind = lt_s3_error_classify (status, code);
  if (status == 404 && code == NULL)
    kind = LT_S3_ERROR_NO_SUCH_KEY;
  g_set_error (error, LT_S3_ERROR, kind, _("The storage server answered %u %s%s%s%s%s"),
               status, reply->reason != NULL ? reply->reason : "",
               code != NULL ? ": " : "", code != NULL ? code : "",
               text != NULL ? " — " : "", text != NULL ? text : "");
  priv = lt_s3_error_get_private (*error);
  priv->http_status = status;
  priv->s3_code = g_steal_pointer (&code);
  if (date != NULL)
    {
      g_autoptr(GDateTime) time = soup_date_time_new_from_http_string (date);

      if (time != NULL)
        priv->server_time = g_date_time_to_unix (time);
    }
}

static void
reply_from_message (Reply       *reply,
                    SoupMessage *message)
{
  reply->status = soup_message_get_status (message);
  reply->reason = soup_message_get_reason_phrase (message);
  reply->headers = soup_message_get_response_headers (message);
}

/* A transport failure: cancellation stays what it is; a connection we refused ourselves (a
 * link-local or metadata address) is refused for good, as retrying cannot change it;
 * everything else (timeouts, resets, refused connections, TLS trouble) is worth a retry. */
static GError *
transport_error (Request *request,
                 GError  *error)
{
  GError *result;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == LT_S3_ERROR)
    return error;
  if (request->forbidden != NULL)
    result = lt_s3_wire_forbidden_error (request->forbidden);
  else
    result = g_error_new (LT_S3_ERROR, LT_S3_ERROR_TRANSIENT,
                          _("Could not reach the storage server: %s"), error->message);
  g_error_free (error);
  return result;
}

static void request_sent_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data);

static void
wire_progress_cb (guint64  sent,
                  guint64  total,
                  gpointer user_data)
{
  Request *request = user_data;

  request->file_length = (goffset) total;
  if (request->progress != NULL)
    request->progress (sent, (guint64) request->file_length, request->progress_data);
}

static void
wire_sent_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtS3WireReply) wire_reply = lt_s3_wire_send_finish (request->client->wire, result,
                                                                &error);
  Reply reply;

  if (wire_reply == NULL)
    {
      g_task_return_error (task, transport_error (request, g_steal_pointer (&error)));
      return;
    }
  reply = (Reply) { wire_reply->status, wire_reply->reason, wire_reply->headers };
  if (!SOUP_STATUS_IS_SUCCESSFUL (reply.status))
    {
      GError *reply_error = NULL;

      set_reply_error (&reply_error, &reply, wire_reply->body);
      g_task_return_error (task, reply_error);
      return;
    }
  request->handler (task, request, &reply, wire_reply->body);
}

/* A file-range body (a PUT, a part): through lt-s3-wire, signed right here. The body is
 * not hashed a second time: the signed Content-MD5 binds it. */
static void
request_send_wire (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  LtS3Client *self = request->client;
  g_autoptr(GUri) uri = request_uri (self, request->key, request->query);
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char *target = NULL;
  const LtS3WireBody body = {
    .data = request->file_data,
    .path = request->file_path,
    .offset = request->file_offset,
    .length = request->file_length,
  };
  int port = g_uri_get_port (uri);

  target = g_uri_get_query (uri) != NULL
           ? g_strconcat (g_uri_get_path (uri), "?", g_uri_get_query (uri), NULL)
           : g_strdup (g_uri_get_path (uri));
  soup_message_headers_replace (headers, "User-Agent", "Livetape/" PACKAGE_VERSION);
  if (request->content_type != NULL)
    soup_message_headers_replace (headers, "Content-Type", request->content_type);
  soup_message_headers_replace (headers, "x-amz-content-sha256", LT_S3_SIGV4_UNSIGNED_PAYLOAD);
  if (request->md5_hex != NULL)
    {
      g_autofree char *md5 = md5_base64 (request->md5_hex);
      soup_message_headers_replace (headers, "Content-MD5", md5);
    }
  sign_headers (request, headers);
  if (port < 0)
    port = strcmp (self->scheme, "https") == 0 ? 443 : 80;
  lt_s3_wire_send_async (self->wire, g_uri_get_host (uri), (guint16) port, request->method,
                         target, headers, &body, self->bandwidth, wire_progress_cb, request,
                         g_task_get_cancellable (task), wire_sent_cb, g_object_ref (task));
}

static void
request_send (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  LtS3Client *self = request->client;
  g_autoptr(GUri) uri = NULL;
  SoupMessageHeaders *headers;

  if (request->file_path != NULL)
    {
      request_send_wire (task);
      return;
    }

  request_release_message (request);
  uri = request_uri (self, request->key, request->query);
  /* Not lt_outbound_message_new(): it takes the URL as a string, and parsing one resolves
   * "." and ".." segments, which are part of an S3 key. Its guard is repeated on this
   * message instead (message_network_event_cb). */
  request->message = soup_message_new_from_uri (request->method, uri);
  headers = soup_message_get_request_headers (request->message);
  soup_message_add_flags (request->message, SOUP_MESSAGE_NO_REDIRECT);

  if (request->body != NULL)
    {
      gsize size;
      const void *data = g_bytes_get_data (request->body, &size);
      g_autofree char *sha = lt_s3_sigv4_sha256_hex (data != NULL ? data : "", size);

      soup_message_set_request_body_from_bytes (request->message, request->content_type,
                                                request->body);
      soup_message_headers_replace (headers, "x-amz-content-sha256", sha);
    }
  else
    soup_message_headers_replace (headers, "x-amz-content-sha256", LT_S3_SIGV4_EMPTY_SHA256);

  if (request->md5_hex != NULL)
    {
      g_autofree char *md5 = md5_base64 (request->md5_hex);
      soup_message_headers_replace (headers, "Content-MD5", md5);
    }

  g_signal_connect (request->message, "starting", G_CALLBACK (message_starting_cb), request);
  g_signal_connect (request->message, "network-event", G_CALLBACK (message_network_event_cb),
                    request);
  g_signal_connect (request->message, "wrote-headers", G_CALLBACK (message_wrote_cb), request);
  g_signal_connect (request->message, "wrote-body", G_CALLBACK (message_wrote_cb), request);

  if (request->dest != NULL)
    soup_session_send_async (self->session, request->message, G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task), request_sent_cb, g_object_ref (task));
  else
    soup_session_send_and_read_async (self->session, request->message, G_PRIORITY_DEFAULT,
                                      g_task_get_cancellable (task), request_sent_cb,
                                      g_object_ref (task));
}

/* Sends @request as a new task of @self: for the operations with nothing to prepare or
 * check first. */
static void
request_start (LtS3Client          *self,
               Request             *request,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = request_task (self, request, source_tag, cancellable, callback,
                                        user_data);

  request_send (task);
}

static void
get_spliced_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  Reply reply;

  if (g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, &error) < 0)
    {
      g_task_return_error (task, transport_error (request, g_steal_pointer (&error)));
      return;
    }
  reply_from_message (&reply, request->message);
  request->handler (task, request, &reply, NULL);
}

static void
error_body_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GBytes) body = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);
  GError *error = NULL;
  Reply reply;

  reply_from_message (&reply, request->message);
  set_reply_error (&error, &reply, body);
  g_task_return_error (task, error);
}

static void
request_sent_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  SoupSession *session = SOUP_SESSION (source);
  g_autoptr(GError) error = NULL;
  guint status;

  if (request->dest != NULL)
    {
      g_autoptr(GInputStream) stream = soup_session_send_finish (session, result, &error);
      g_autoptr(GFileOutputStream) out = NULL;

      if (stream == NULL)
        {
          g_task_return_error (task, transport_error (request, g_steal_pointer (&error)));
          return;
        }
      status = soup_message_get_status (request->message);
      if (!SOUP_STATUS_IS_SUCCESSFUL (status))
        {
          g_input_stream_read_bytes_async (stream, 64 * 1024, G_PRIORITY_DEFAULT,
                                           g_task_get_cancellable (task), error_body_read_cb,
                                           g_object_ref (task));
          return;
        }
      out = g_file_replace (request->dest, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                            g_task_get_cancellable (task), &error);
      if (out == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_output_stream_splice_async (G_OUTPUT_STREAM (out), stream,
                                    G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE
                                    | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                    G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                    get_spliced_cb, g_object_ref (task));
      return;
    }

  {
    g_autoptr(GBytes) body = soup_session_send_and_read_finish (session, result, &error);
    Reply reply;

    if (body == NULL)
      {
        g_task_return_error (task, transport_error (request, g_steal_pointer (&error)));
        return;
      }
    reply_from_message (&reply, request->message);
    if (!SOUP_STATUS_IS_SUCCESSFUL (reply.status))
      {
        GError *reply_error = NULL;

        set_reply_error (&reply_error, &reply, body);
        g_task_return_error (task, reply_error);
        return;
      }
    request->handler (task, request, &reply, body);
  }
}

/* An ETag check for PUT and UploadPart: the server stored what we hashed. */
static gboolean
check_reply_etag (Request      *request,
                  const Reply  *reply,
                  char        **etag_out,
                  GError      **error)
{
  const char *header = soup_message_headers_get_one (reply->headers, "ETag");
  g_autofree char *etag = normalize_etag (header);

  if (etag == NULL)
    {
      g_set_error_literal (error, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                           _("The storage server's reply had no ETag"));
      return FALSE;
    }
  if (request->check_etag && request->md5_hex != NULL
      && g_ascii_strcasecmp (etag, request->md5_hex) != 0)
    {
      g_set_error (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST,
                   _("The storage server's ETag %s does not match the local MD5 %s"),
                   etag, request->md5_hex);
      return FALSE;
    }
  *etag_out = g_steal_pointer (&etag);
  return TRUE;
}

static void
handle_boolean (GTask       *task,
                Request     *request,
                const Reply *reply,
                GBytes      *body)
{
  g_task_return_boolean (task, TRUE);
}

static void
handle_etag (GTask       *task,
             Request     *request,
             const Reply *reply,
             GBytes      *body)
{
  GError *error = NULL;
  char *etag = NULL;

  if (!check_reply_etag (request, reply, &etag, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, etag, g_free);
}

/* ---- the MD5 of a file range, computed in a worker thread --------------------------------
 * The main context keeps sending other requests meanwhile. A range of up to
 * READ_ONCE_MAX bytes (a slice, a part) is kept in memory once hashed and sent from there:
 * the file is read once, and what is sent is exactly what was hashed. Larger ranges are
 * hashed in 1 MiB steps and read again as they are sent. */

#define READ_ONCE_MAX (16 * 1024 * 1024)
#define HASH_STEP (1024 * 1024)

typedef struct
{
  char   *md5_hex;
  GBytes *data;                 /* the range, or NULL when it was too big to keep */
} HashResult;

static void
hash_result_free (HashResult *result)
{
  g_free (result->md5_hex);
  g_clear_pointer (&result->data, g_bytes_unref);
  g_free (result);
}

static void
md5_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Request *request = task_data;
  g_autoptr(GChecksum) checksum = NULL;
  g_autofree guint8 *buffer = NULL;
  goffset offset = request->file_offset;
  goffset remaining;
  gboolean keep;
  gsize filled = 0;
  HashResult *result;
  struct stat st;
  int fd;

  if (g_task_return_error_if_cancelled (task))
    return;
  checksum = g_checksum_new (G_CHECKSUM_MD5);
  fd = open (request->file_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Could not open “%s”: %s"), request->file_path,
                               g_strerror (saved));
      return;
    }
  /* A whole-file PUT is sized here, off the main thread (lt_s3_client_put_object_async). */
  if (request->file_length < 0)
    {
      if (fstat (fd, &st) < 0)
        {
          int saved = errno;
          close (fd);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not read “%s”: %s"), request->file_path,
                                   g_strerror (saved));
          return;
        }
      request->file_length = st.st_size;
    }
  remaining = request->file_length;
  keep = remaining <= READ_ONCE_MAX;
  buffer = g_malloc (keep ? (gsize) MAX (remaining, 1) : HASH_STEP);
  posix_fadvise (fd, offset, remaining, POSIX_FADV_SEQUENTIAL);
  while (remaining > 0)
    {
      guint8 *at = keep ? buffer + filled : buffer;
      gssize n = pread (fd, at, (gsize) MIN (remaining, HASH_STEP), offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : EIO;
          close (fd);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not read “%s”: %s"), request->file_path,
                                   n < 0 ? g_strerror (saved) : _("the file is shorter than expected"));
          return;
        }
      /* Hashed right after the read, while the step is still in the CPU cache. */
      g_checksum_update (checksum, at, n);
      offset += n;
      remaining -= n;
      filled += (gsize) n;
      if (g_task_return_error_if_cancelled (task))
        {
          close (fd);
          return;
        }
    }
  close (fd);
  result = g_new0 (HashResult, 1);
  result->md5_hex = g_strdup (g_checksum_get_string (checksum));
  if (keep)
    result->data = g_bytes_new_take (g_steal_pointer (&buffer), filled);
  g_task_return_pointer (task, result, (GDestroyNotify) hash_result_free);
}

static void
md5_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;
  HashResult *hash = g_task_propagate_pointer (G_TASK (result), &error);

  if (hash == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  request->md5_hex = g_steal_pointer (&hash->md5_hex);
  request->file_data = g_steal_pointer (&hash->data);
  hash_result_free (hash);
  request_send (task);
}

/* The hashing threads, shared by every client: half the cores (at least one), taking the
 * ranges in the order they were asked for. Hashing is CPU-bound; with a thread per request
 * in flight, all of them would crawl together and take the cores the sending main
 * context and the rest of the process need. In order, the first request's MD5 is ready
 * soonest and it goes on the wire while the next one is hashed. */
static void
md5_pool_func (gpointer data,
               gpointer user_data)
{
  g_autoptr(GTask) md5_task = data;

  md5_thread (md5_task, NULL, g_task_get_task_data (md5_task),
              g_task_get_cancellable (md5_task));
}

static GThreadPool *
md5_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool))
    {
      GThreadPool *new_pool = g_thread_pool_new (md5_pool_func, NULL,
                                                 MAX (1, (int) g_get_num_processors () / 2),
                                                 FALSE, NULL);

      g_once_init_leave (&pool, new_pool);
    }
  return pool;
}

/* Sends @task's file-range request once its MD5 is known. The MD5 thread gets a task of
 * its own that shares nothing but the Request (owned by @task, which outlives it). */
static void
request_send_file (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  GTask *md5_task = g_task_new (NULL, g_task_get_cancellable (task), md5_done_cb,
                                g_object_ref (task));

  g_task_set_source_tag (md5_task, request_send_file);
  g_task_set_task_data (md5_task, request, NULL);
  /* Unbounded, non-exclusive pool: pushing does not fail. */
  g_thread_pool_push (md5_pool (), md5_task, NULL);
}

/* ---- operations -------------------------------------------------------------------------- */

void
lt_s3_client_head_bucket_async (LtS3Client          *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LT_IS_S3_CLIENT (self));
  request_start (self, request_new (self, "HEAD", NULL, NULL, handle_boolean),
                 lt_s3_client_head_bucket_async, cancellable, callback, user_data);
}

static gboolean
boolean_finish (LtS3Client    *self,
                GAsyncResult  *result,
                gpointer       tag,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gpointer
pointer_finish (LtS3Client    *self,
                GAsyncResult  *result,
                gpointer       tag,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
lt_s3_client_head_bucket_finish (LtS3Client    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (boolean_finish (self, result, lt_s3_client_head_bucket_async, &local_error))
    return TRUE;
  /* HEAD replies have no body, so a 404 carries no code: for a bucket it means this. */
  if (g_error_matches (local_error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_KEY))
    local_error->code = LT_S3_ERROR_NO_SUCH_BUCKET;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

void
lt_s3_client_put_object_async (LtS3Client          *self,
                               const char          *key,
                               GFile               *file,
                               const char          *content_type,
                               LtS3ProgressFunc     progress,
                               gpointer             progress_data,
                               GDestroyNotify       progress_destroy,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  lt_s3_client_put_object_with_md5_async (self, key, file, content_type, NULL, progress,
                                          progress_data, progress_destroy, cancellable,
                                          callback, user_data);
}

gboolean
lt_s3_is_md5_hex (const char *text)
{
  if (text == NULL || strlen (text) != 32)
    return FALSE;
  for (guint i = 0; i < 32; i++)
    if (!g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* Sends a file-range request: hashing first unless the MD5 is known. */
static void
request_send_file_or_hash (GTask      *task,
                           const char *md5_hex)
{
  Request *request = g_task_get_task_data (task);

  if (md5_hex != NULL)
    {
      request->md5_hex = g_ascii_strdown (md5_hex, -1);
      request_send (task);
    }
  else
    request_send_file (task);
}

void
lt_s3_client_put_object_with_md5_async (LtS3Client          *self,
                                        const char          *key,
                                        GFile               *file,
                                        const char          *content_type,
                                        const char          *md5_hex,
                                        LtS3ProgressFunc     progress,
                                        gpointer             progress_data,
                                        GDestroyNotify       progress_destroy,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (md5_hex == NULL || lt_s3_is_md5_hex (md5_hex));

  request = request_new (self, "PUT", key, NULL, handle_etag);
  request->progress = progress;
  request->progress_data = progress_data;
  request->progress_destroy = progress_destroy;
  request->content_type = g_strdup (content_type != NULL ? content_type
                                                         : "application/octet-stream");
  request->check_etag = TRUE;
  task = request_task (self, request, lt_s3_client_put_object_async, cancellable, callback,
                       user_data);
  request->file_path = g_file_get_path (file);
  request->file_offset = 0;
  if (request->file_path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be uploaded"));
      return;
    }
  /* Sized by the hashing thread, or by lt-s3-wire once the file is open: no stat by name
   * on this thread. */
  request->file_length = -1;
  request_send_file_or_hash (task, md5_hex);
}

char *
lt_s3_client_put_object_finish (LtS3Client    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_put_object_async, error);
}

void
lt_s3_client_put_bytes_async (LtS3Client          *self,
                              const char          *key,
                              GBytes              *data,
                              const char          *content_type,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Request *request;
  gsize size;
  const void *bytes;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');
  g_return_if_fail (data != NULL);

  request = request_new (self, "PUT", key, NULL, handle_etag);
  request->body = g_bytes_ref (data);
  request->content_type = g_strdup (content_type != NULL ? content_type
                                                         : "application/octet-stream");
  bytes = g_bytes_get_data (data, &size);
  request->md5_hex = g_compute_checksum_for_data (G_CHECKSUM_MD5, bytes != NULL ? bytes : (const guchar *) "", size);
  request->check_etag = TRUE;
  request_start (self, request, lt_s3_client_put_bytes_async, cancellable,
                 callback, user_data);
}

char *
lt_s3_client_put_bytes_finish (LtS3Client    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_put_bytes_async, error);
}

/* check_writable: HEAD bucket → PUT probe → DELETE probe. */

static void
writable_deleted_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lt_s3_client_delete_object_finish (LT_S3_CLIENT (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
writable_put_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autofree char *etag = lt_s3_client_put_bytes_finish (LT_S3_CLIENT (source), result, &error);

  if (etag == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  lt_s3_client_delete_object_async (LT_S3_CLIENT (source), g_task_get_task_data (task),
                                    g_task_get_cancellable (task), writable_deleted_cb,
                                    g_object_ref (task));
}

static void
writable_head_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) probe = NULL;
  GError *error = NULL;

  if (!lt_s3_client_head_bucket_finish (LT_S3_CLIENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  probe = g_bytes_new_static ("livetape write probe\n", strlen ("livetape write probe\n"));
  lt_s3_client_put_bytes_async (LT_S3_CLIENT (source), g_task_get_task_data (task), probe,
                                "text/plain", g_task_get_cancellable (task), writable_put_cb,
                                g_object_ref (task));
}

void
lt_s3_client_check_writable_async (LtS3Client          *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_s3_client_check_writable_async);
  g_task_set_task_data (task, g_strdup_printf (".livetape-probe/%08x%08x", g_random_int (),
                                               g_random_int ()), g_free);
  lt_s3_client_head_bucket_async (self, cancellable, writable_head_cb, g_object_ref (task));
}

gboolean
lt_s3_client_check_writable_finish (LtS3Client    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return boolean_finish (self, result, lt_s3_client_check_writable_async, error);
}

/* Multipart. */

static void
handle_create_multipart (GTask       *task,
                         Request     *request,
                         const Reply *reply,
                         GBytes      *body)
{
  g_auto(XmlReader) reader = { 0 };
  g_autoptr(GError) error = NULL;
  const char *upload_id;

  if (!xml_read (&reader, NULL, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                 &error)
      || (upload_id = g_hash_table_lookup (reader.fields,
                                           "InitiateMultipartUploadResult/UploadId")) == NULL
      || upload_id[0] == '\0')
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                               _("The storage server's reply to CreateMultipartUpload had no "
                                 "upload id"));
      return;
    }
  g_task_return_pointer (task, g_strdup (upload_id), g_free);
}

void
lt_s3_client_create_multipart_async (LtS3Client          *self,
                                     const char          *key,
                                     const char          *content_type,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  Request *request;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');

  request = request_new (self, "POST", key, "uploads=", handle_create_multipart);
  request->content_type = g_strdup (content_type != NULL ? content_type
                                                         : "application/octet-stream");
  /* An empty body so that the content type goes out with the request. */
  request->body = g_bytes_new (NULL, 0);
  request_start (self, request, lt_s3_client_create_multipart_async, cancellable,
                 callback, user_data);
}

char *
lt_s3_client_create_multipart_finish (LtS3Client    *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_create_multipart_async, error);
}

static char *
upload_query (const char *upload_id,
              guint       part_number)
{
  g_autofree char *id = lt_s3_sigv4_uri_encode (upload_id, -1, FALSE);

  if (part_number > 0)
    return g_strdup_printf ("partNumber=%u&uploadId=%s", part_number, id);
  return g_strdup_printf ("uploadId=%s", id);
}

void
lt_s3_client_upload_part_async (LtS3Client          *self,
                                const char          *key,
                                const char          *upload_id,
                                guint                part_number,
                                GFile               *file,
                                goffset              offset,
                                goffset              length,
                                LtS3ProgressFunc     progress,
                                gpointer             progress_data,
                                GDestroyNotify       progress_destroy,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  lt_s3_client_upload_part_with_md5_async (self, key, upload_id, part_number, file, offset,
                                           length, NULL, progress, progress_data,
                                           progress_destroy, cancellable, callback,
                                           user_data);
}

void
lt_s3_client_upload_part_with_md5_async (LtS3Client          *self,
                                         const char          *key,
                                         const char          *upload_id,
                                         guint                part_number,
                                         GFile               *file,
                                         goffset              offset,
                                         goffset              length,
                                         const char          *md5_hex,
                                         LtS3ProgressFunc     progress,
                                         gpointer             progress_data,
                                         GDestroyNotify       progress_destroy,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *query = NULL;
  Request *request;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && upload_id != NULL);
  g_return_if_fail (part_number >= 1 && part_number <= 10000);
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (offset >= 0 && length >= 0);
  g_return_if_fail (md5_hex == NULL || lt_s3_is_md5_hex (md5_hex));

  query = upload_query (upload_id, part_number);
  request = request_new (self, "PUT", key, query, handle_etag);
  request->progress = progress;
  request->progress_data = progress_data;
  request->progress_destroy = progress_destroy;
  request->check_etag = TRUE;
  request->file_path = g_file_get_path (file);
  request->file_offset = offset;
  request->file_length = length;
  task = request_task (self, request, lt_s3_client_upload_part_async, cancellable, callback,
                       user_data);
  if (request->file_path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be uploaded"));
      return;
    }
  request_send_file_or_hash (task, md5_hex);
}

char *
lt_s3_client_upload_part_finish (LtS3Client    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_upload_part_async, error);
}

static void
handle_complete_multipart (GTask       *task,
                           Request     *request,
                           const Reply *reply,
                           GBytes      *body)
{
  g_auto(XmlReader) reader = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  char **expected = request->op_data;     /* { md5-of-md5s-N, whole object MD5 or NULL } */

  if (!xml_read (&reader, NULL, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                 &error))
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_TRANSIENT,
                               _("The storage server's reply to CompleteMultipartUpload could "
                                 "not be read: %s"), error->message);
      return;
    }
  /* S3 may answer 200 and report the failure in the body. */
  if (strcmp (reader.root, "Error") == 0)
    {
      GError *reply_error = NULL;

      set_reply_error (&reply_error, reply, body);
      g_task_return_error (task, reply_error);
      return;
    }
  etag = normalize_etag (g_hash_table_lookup (reader.fields,
                                              "CompleteMultipartUploadResult/ETag"));
  if (etag == NULL)
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                               _("The storage server's reply to CompleteMultipartUpload had no "
                                 "ETag"));
      return;
    }
  if ((expected[0] == NULL || g_ascii_strcasecmp (etag, expected[0]) != 0)
      && (expected[1] == NULL || g_ascii_strcasecmp (etag, expected[1]) != 0))
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST,
                               _("The storage server's multipart ETag %s does not match the "
                                 "local %s"), etag, expected[0] != NULL ? expected[0] : "?");
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&etag), g_free);
}

void
lt_s3_client_complete_multipart_async (LtS3Client          *self,
                                       const char          *key,
                                       const char          *upload_id,
                                       GPtrArray           *parts,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  lt_s3_client_complete_multipart_with_md5_async (self, key, upload_id, parts, NULL,
                                                  cancellable, callback, user_data);
}

void
lt_s3_client_complete_multipart_with_md5_async (LtS3Client          *self,
                                                const char          *key,
                                                const char          *upload_id,
                                                GPtrArray           *parts,
                                                const char          *object_md5,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data)
{
  g_autofree char *query = NULL;
  GString *xml;
  Request *request;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && upload_id != NULL && parts != NULL);

  xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  for (guint i = 0; i < parts->len; i++)
    {
      const LtS3Part *part = parts->pdata[i];
      g_autofree char *etag = g_markup_escape_text (part->etag != NULL ? part->etag : "", -1);

      g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
                              part->part_number, etag);
    }
  g_string_append (xml, "</CompleteMultipartUpload>");

  query = upload_query (upload_id, 0);
  request = request_new (self, "POST", key, query, handle_complete_multipart);
  request->content_type = g_strdup ("application/xml");
  request->body = g_string_free_to_bytes (xml);
  request->md5_hex = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, request->body);
  {
    char **expected = g_new0 (char *, 3);

    expected[0] = lt_s3_multipart_etag (parts);
    expected[1] = object_md5 != NULL ? g_ascii_strdown (object_md5, -1) : NULL;
    request->op_data = expected;
    request->op_data_free = (GDestroyNotify) g_strfreev;
  }
  request_start (self, request, lt_s3_client_complete_multipart_async, cancellable,
                 callback, user_data);
}

char *
lt_s3_client_complete_multipart_finish (LtS3Client    *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_complete_multipart_async, error);
}

void
lt_s3_client_abort_multipart_async (LtS3Client          *self,
                                    const char          *key,
                                    const char          *upload_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autofree char *query = NULL;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && upload_id != NULL);

  query = upload_query (upload_id, 0);
  request_start (self, request_new (self, "DELETE", key, query, handle_boolean),
                 lt_s3_client_abort_multipart_async, cancellable, callback, user_data);
}

gboolean
lt_s3_client_abort_multipart_finish (LtS3Client    *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return boolean_finish (self, result, lt_s3_client_abort_multipart_async, error);
}

/* Listings page through with a marker kept in the task's op data. */

typedef struct
{
  char      *upload_id;
  char      *prefix;
  char      *marker;        /* part-number-marker, or key-marker */
  char      *marker2;       /* upload-id-marker */
  GPtrArray *items;
} Listing;

static void
listing_free (Listing *listing)
{
  g_free (listing->upload_id);
  g_free (listing->prefix);
  g_free (listing->marker);
  g_free (listing->marker2);
  g_clear_pointer (&listing->items, g_ptr_array_unref);
  g_free (listing);
}

/* Ends a listing page: asks for the next page with @next_query (taken; NULL when this page
 * was the last), else returns the items gathered. */
static void
listing_next (GTask   *task,
              Request *request,
              char    *next_query)
{
  Listing *listing = request->op_data;

  if (next_query != NULL)
    {
      g_free (request->query);
      request->query = next_query;
      request_send (task);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&listing->items),
                         (GDestroyNotify) g_ptr_array_unref);
}

static gboolean
is_true (const char *text)
{
  return text != NULL && g_ascii_strcasecmp (text, "true") == 0;
}

static void
handle_list_parts (GTask       *task,
                   Request     *request,
                   const Reply *reply,
                   GBytes      *body)
{
  Listing *listing = request->op_data;
  g_auto(XmlReader) reader = { 0 };
  g_autoptr(GError) error = NULL;
  const char *next;
  char *next_query = NULL;

  if (!xml_read (&reader, "Part", g_bytes_get_data (body, NULL),
                 (gssize) g_bytes_get_size (body), &error))
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                               _("The storage server's part list could not be read: %s"),
                               error->message);
      return;
    }
  for (guint i = 0; i < reader.records->len; i++)
    {
      GHashTable *record = reader.records->pdata[i];
      const char *number = g_hash_table_lookup (record, "PartNumber");
      const char *size = g_hash_table_lookup (record, "Size");
      g_autofree char *etag = normalize_etag (g_hash_table_lookup (record, "ETag"));

      if (number == NULL)
        continue;
      g_ptr_array_add (listing->items,
                       lt_s3_part_new ((guint) g_ascii_strtoull (number, NULL, 10), etag,
                                       size != NULL ? g_ascii_strtoull (size, NULL, 10) : 0));
    }
  next = g_hash_table_lookup (reader.fields, "ListPartsResult/NextPartNumberMarker");
  if (is_true (g_hash_table_lookup (reader.fields, "ListPartsResult/IsTruncated"))
      && next != NULL && next[0] != '\0' && g_strcmp0 (next, listing->marker) != 0)
    {
      g_autofree char *id = lt_s3_sigv4_uri_encode (listing->upload_id, -1, FALSE);

      g_free (listing->marker);
      listing->marker = g_strdup (next);
      next_query = g_strdup_printf ("part-number-marker=%s&uploadId=%s", next, id);
    }
  listing_next (task, request, next_query);
}

void
lt_s3_client_list_parts_async (LtS3Client          *self,
                               const char          *key,
                               const char          *upload_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autofree char *query = NULL;
  Request *request;
  Listing *listing;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && upload_id != NULL);

  query = upload_query (upload_id, 0);
  request = request_new (self, "GET", key, query, handle_list_parts);
  listing = g_new0 (Listing, 1);
  listing->upload_id = g_strdup (upload_id);
  listing->items = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_part_free);
  request->op_data = listing;
  request->op_data_free = (GDestroyNotify) listing_free;
  request_start (self, request, lt_s3_client_list_parts_async, cancellable,
                 callback, user_data);
}

GPtrArray *
lt_s3_client_list_parts_finish (LtS3Client    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_list_parts_async, error);
}

static char *
uploads_query (Listing *listing)
{
  GString *query = g_string_new (NULL);

  if (listing->marker != NULL)
    {
      g_autofree char *marker = lt_s3_sigv4_uri_encode (listing->marker, -1, FALSE);
      g_string_append_printf (query, "key-marker=%s&", marker);
    }
  if (listing->prefix != NULL)
    {
      g_autofree char *prefix = lt_s3_sigv4_uri_encode (listing->prefix, -1, FALSE);
      g_string_append_printf (query, "prefix=%s&", prefix);
    }
  if (listing->marker2 != NULL)
    {
      g_autofree char *marker = lt_s3_sigv4_uri_encode (listing->marker2, -1, FALSE);
      g_string_append_printf (query, "upload-id-marker=%s&", marker);
    }
  g_string_append (query, "uploads=");
  return g_string_free (query, FALSE);
}

static void
handle_list_uploads (GTask       *task,
                     Request     *request,
                     const Reply *reply,
                     GBytes      *body)
{
  Listing *listing = request->op_data;
  g_auto(XmlReader) reader = { 0 };
  g_autoptr(GError) error = NULL;
  const char *next_key;
  const char *next_id;
  char *next_query = NULL;

  if (!xml_read (&reader, "Upload", g_bytes_get_data (body, NULL),
                 (gssize) g_bytes_get_size (body), &error))
    {
      g_task_return_new_error (task, LT_S3_ERROR, LT_S3_ERROR_FAILED,
                               _("The storage server's upload list could not be read: %s"),
                               error->message);
      return;
    }
  for (guint i = 0; i < reader.records->len; i++)
    {
      GHashTable *record = reader.records->pdata[i];
      const char *initiated = g_hash_table_lookup (record, "Initiated");
      LtS3Upload *upload;

      if (g_hash_table_lookup (record, "Key") == NULL
          || g_hash_table_lookup (record, "UploadId") == NULL)
        continue;
      upload = g_new0 (LtS3Upload, 1);
      upload->key = g_strdup (g_hash_table_lookup (record, "Key"));
      upload->upload_id = g_strdup (g_hash_table_lookup (record, "UploadId"));
      if (initiated != NULL)
        {
          g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (initiated, NULL);
          upload->initiated = time != NULL ? g_date_time_to_unix (time) : 0;
        }
      g_ptr_array_add (listing->items, upload);
    }
  next_key = g_hash_table_lookup (reader.fields, "ListMultipartUploadsResult/NextKeyMarker");
  next_id = g_hash_table_lookup (reader.fields,
                                 "ListMultipartUploadsResult/NextUploadIdMarker");
  if (is_true (g_hash_table_lookup (reader.fields, "ListMultipartUploadsResult/IsTruncated"))
      && next_key != NULL && next_key[0] != '\0'
      && (g_strcmp0 (next_key, listing->marker) != 0 || g_strcmp0 (next_id, listing->marker2) != 0))
    {
      g_free (listing->marker);
      g_free (listing->marker2);
      listing->marker = g_strdup (next_key);
      listing->marker2 = next_id != NULL && next_id[0] != '\0' ? g_strdup (next_id) : NULL;
      next_query = uploads_query (listing);
    }
  listing_next (task, request, next_query);
}

void
lt_s3_client_list_multipart_uploads_async (LtS3Client          *self,
                                           const char          *prefix,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  g_autofree char *query = NULL;
  Request *request;
  Listing *listing;

  g_return_if_fail (LT_IS_S3_CLIENT (self));

  listing = g_new0 (Listing, 1);
  listing->prefix = g_strdup (prefix);
  listing->items = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_upload_free);
  query = uploads_query (listing);
  request = request_new (self, "GET", NULL, query, handle_list_uploads);
  request->op_data = listing;
  request->op_data_free = (GDestroyNotify) listing_free;
  request_start (self, request, lt_s3_client_list_multipart_uploads_async, cancellable,
                 callback, user_data);
}

GPtrArray *
lt_s3_client_list_multipart_uploads_finish (LtS3Client    *self,
                                            GAsyncResult  *result,
                                            GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_list_multipart_uploads_async, error);
}

void
lt_s3_client_delete_object_async (LtS3Client          *self,
                                  const char          *key,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');
  request_start (self, request_new (self, "DELETE", key, NULL, handle_boolean),
                 lt_s3_client_delete_object_async, cancellable, callback, user_data);
}

gboolean
lt_s3_client_delete_object_finish (LtS3Client    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return boolean_finish (self, result, lt_s3_client_delete_object_async, error);
}

static void
handle_get_object (GTask       *task,
                   Request     *request,
                   const Reply *reply,
                   GBytes      *body)
{
  const char *header = soup_message_headers_get_one (reply->headers, "ETag");

  g_task_return_pointer (task, header != NULL ? normalize_etag (header) : g_strdup (""), g_free);
}

void
lt_s3_client_get_object_async (LtS3Client          *self,
                               const char          *key,
                               GFile               *dest,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Request *request;

  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');
  g_return_if_fail (G_IS_FILE (dest));

  request = request_new (self, "GET", key, NULL, handle_get_object);
  request->dest = g_object_ref (dest);
  request_start (self, request, lt_s3_client_get_object_async, cancellable,
                 callback, user_data);
}

char *
lt_s3_client_get_object_finish (LtS3Client    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return pointer_finish (self, result, lt_s3_client_get_object_async, error);
}

typedef struct
{
  char    *etag;
  guint64  size;
} HeadResult;

static void
head_result_free (HeadResult *head)
{
  g_free (head->etag);
  g_free (head);
}

static void
handle_head_object (GTask       *task,
                    Request     *request,
                    const Reply *reply,
                    GBytes      *body)
{
  SoupMessageHeaders *headers = reply->headers;
  HeadResult *head = g_new0 (HeadResult, 1);

  head->etag = normalize_etag (soup_message_headers_get_one (headers, "ETag"));
  if (head->etag == NULL)
    head->etag = g_strdup ("");
  head->size = (guint64) soup_message_headers_get_content_length (headers);
  g_task_return_pointer (task, head, (GDestroyNotify) head_result_free);
}

void
lt_s3_client_head_object_async (LtS3Client          *self,
                                const char          *key,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LT_IS_S3_CLIENT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');
  request_start (self, request_new (self, "HEAD", key, NULL, handle_head_object),
                 lt_s3_client_head_object_async, cancellable, callback, user_data);
}

char *
lt_s3_client_head_object_finish (LtS3Client    *self,
                                 GAsyncResult  *result,
                                 guint64       *size,
                                 GError       **error)
{
  HeadResult *head = pointer_finish (self, result, lt_s3_client_head_object_async, error);
  char *etag;

  if (head == NULL)
    return NULL;
  if (size != NULL)
    *size = head->size;
  etag = g_steal_pointer (&head->etag);
  head_result_free (head);
  return etag;
}

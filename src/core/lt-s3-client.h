/* lt-s3-client.h: one S3-compatible storage target spoken to over libsoup (SPEC section 7).
 * Each operation is one request (no retries here: the sync engine retries with
 * lt_s3_backoff_delay() and calls again), signed with SigV4 just before it is sent: over
 * libsoup, or over the client's own HTTP/1.1 path (lt-s3-wire.h) when the body is a file.
 * Object keys are sent exactly as given: the path is built encoded, never dot-segment
 * normalised. Bodies stream from disk with Content-MD5, and every returned ETag is checked
 * against the local MD5 (md5-of-md5s-N for multipart). The secret lives only in this
 * object's memory and is wiped when it goes. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- errors ------------------------------------------------------------------------ */

#define LT_S3_ERROR (lt_s3_error_quark ())

typedef enum
{
  LT_S3_ERROR_FAILED,              /* anything else (a 4xx we do not know, a bad reply) */
  LT_S3_ERROR_TRANSIENT,           /* 5xx, 429, SlowDown, timeouts, resets: retry later */
  LT_S3_ERROR_CLOCK_SKEW,          /* RequestTimeTooSkewed: see lt_s3_error_get_server_time() */
  LT_S3_ERROR_ACCESS_DENIED,       /* 403 AccessDenied: stop the target */
  LT_S3_ERROR_INVALID_ACCESS_KEY,  /* InvalidAccessKeyId: stop the target */
  LT_S3_ERROR_SIGNATURE,           /* SignatureDoesNotMatch: stop the target */
  LT_S3_ERROR_NO_SUCH_BUCKET,
  LT_S3_ERROR_NO_SUCH_UPLOAD,      /* the multipart upload is gone (aborted, completed) */
  LT_S3_ERROR_NO_SUCH_KEY,         /* GET/HEAD of an object that does not exist */
  LT_S3_ERROR_BAD_DIGEST,          /* the server's ETag (or BadDigest) disagrees with our MD5 */
} LtS3Error;

GQuark      lt_s3_error_quark              (void);

/* For an LT_S3_ERROR error that came from a reply: the server's Date header as Unix
 * seconds (0 when it had none), the HTTP status (0: no reply — timeout, reset) and the
 * S3 error code ("SlowDown", …; NULL when none). */
gint64      lt_s3_error_get_server_time    (const GError *error);
guint       lt_s3_error_get_http_status    (const GError *error);
const char *lt_s3_error_get_s3_code        (const GError *error);
/* TRUE for errors worth retrying with backoff: TRANSIENT, and CLOCK_SKEW once the clock
 * offset was set; BAD_DIGEST (the data arrived damaged). */
gboolean    lt_s3_error_is_retryable       (const GError *error);
/* TRUE for ACCESS_DENIED, INVALID_ACCESS_KEY, SIGNATURE, NO_SUCH_BUCKET: retrying will
 * not help, the target stops with the error's message. */
gboolean    lt_s3_error_is_permanent       (const GError *error);

/* The code for a reply: @status with the S3 error @s3_code (may be NULL). */
LtS3Error   lt_s3_error_classify           (guint         status,
                                            const char   *s3_code);
/* Reads an S3 error document (<Error><Code/><Message/>…</Error>); FALSE when @xml is not
 * one. *@code and *@message may be NULL afterwards when the element was missing. */
gboolean    lt_s3_parse_error_xml          (const char   *xml,
                                            gssize        length,
                                            char        **code,
                                            char        **message);

/* Exponential backoff with full jitter: a random delay in [0, min(@cap_ms, 200 ms ·
 * 2^@attempt)] milliseconds; @attempt counts from 0. LT_S3_BACKOFF_CAP_MS is SPEC's cap. */
#define LT_S3_BACKOFF_CAP_MS 20000
guint       lt_s3_backoff_delay            (guint         attempt,
                                            guint         cap_ms);

/* ---- a shared bandwidth limit -------------------------------------------------------- */

/* A token bucket shared by any number of clients (all targets, or one): request bodies
 * take tokens as they are read; 0 bytes/s means no limit. Thread-safe. */
typedef struct _LtS3Bandwidth LtS3Bandwidth;

GType          lt_s3_bandwidth_get_type    (void) G_GNUC_CONST;
#define LT_TYPE_S3_BANDWIDTH (lt_s3_bandwidth_get_type ())
LtS3Bandwidth *lt_s3_bandwidth_new         (guint64        bytes_per_s);
LtS3Bandwidth *lt_s3_bandwidth_ref         (LtS3Bandwidth *bandwidth);
void           lt_s3_bandwidth_unref       (LtS3Bandwidth *bandwidth);
void           lt_s3_bandwidth_set_rate    (LtS3Bandwidth *bandwidth,
                                            guint64        bytes_per_s);
guint64        lt_s3_bandwidth_get_rate    (LtS3Bandwidth *bandwidth);
/* Takes @bytes tokens, returning how many microseconds the caller must wait first
 * (0: go now). Used as request bodies are written; exposed for tests. */
gint64         lt_s3_bandwidth_take        (LtS3Bandwidth *bandwidth,
                                            gsize          bytes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtS3Bandwidth, lt_s3_bandwidth_unref)

/* ---- multipart values ---------------------------------------------------------------- */

typedef struct
{
  guint   part_number;          /* 1…10000 */
  char   *etag;                 /* without quotes, lowercase hex for our uploads */
  guint64 size;                 /* as listed by ListParts; 0 when unknown */
} LtS3Part;

LtS3Part   *lt_s3_part_new                 (guint          part_number,
                                            const char    *etag,
                                            guint64        size);
void        lt_s3_part_free                (LtS3Part      *part);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtS3Part, lt_s3_part_free)

typedef struct
{
  char   *key;
  char   *upload_id;
  gint64  initiated;            /* Unix seconds; 0 when the listing had none */
} LtS3Upload;

void        lt_s3_upload_free              (LtS3Upload    *upload);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtS3Upload, lt_s3_upload_free)

/* The multipart ETag S3 gives for @parts (LtS3Part *, in part order, each etag the part's
 * hex MD5): hex MD5 of the concatenated binary MD5s, "-", the number of parts. NULL when a
 * part's etag is not 32 hex digits. */
char       *lt_s3_multipart_etag           (GPtrArray     *parts);
/* Whether @text is an MD5 in hex: 32 hex digits (either case). */
gboolean    lt_s3_is_md5_hex               (const char    *text);

/* ---- the client ---------------------------------------------------------------------- */

/* Called on the calling thread's main context while a body is sent: bytes of this
 * request's body written so far, and its total. */
typedef void (*LtS3ProgressFunc) (guint64  bytes_sent,
                                  guint64  bytes_total,
                                  gpointer user_data);

/* A target's settings (all but the secret). Zero fields take the defaults. */
typedef struct
{
  const char *endpoint;         /* "http(s)://host[:port]", no path, no user info */
  const char *region;           /* NULL: "us-east-1" */
  const char *bucket;
  gboolean    path_style;       /* TRUE: endpoint/bucket/key; FALSE: bucket.host/key */
  const char *access_key_id;
  guint       max_connections;  /* per host; 0: 8 (≥ the sync engine's concurrency) */
  guint       timeout_s;        /* each I/O step (connect, a read, a write); 0: 60 */
} LtS3Config;

#define LT_TYPE_S3_CLIENT (lt_s3_client_get_type ())
G_DECLARE_FINAL_TYPE (LtS3Client, lt_s3_client, LT, S3_CLIENT, GObject)

/* A client for one target. Fails (LT_S3_ERROR_FAILED) when the endpoint is not an http(s)
 * URL with a host (checked like every operator-given address, lt-outbound.h), or bucket
 * or key id is missing. @secret_access_key is copied into memory that is wiped at
 * dispose; it is never logged nor exposed as a property. */
LtS3Client *lt_s3_client_new               (const LtS3Config *config,
                                            const char       *secret_access_key,
                                            GError          **error);

const char *lt_s3_client_get_bucket        (LtS3Client    *self);

/* Seconds added to the local clock when signing (server time − local time). Set it from
 * a CLOCK_SKEW error: lt_s3_error_get_server_time (error) − g_get_real_time () / 1e6. */
void        lt_s3_client_set_clock_offset  (LtS3Client    *self,
                                            gint64         offset_s);
gint64      lt_s3_client_get_clock_offset  (LtS3Client    *self);
/* Limits the bodies this client sends (NULL: no limit). The limiter may be shared. */
void        lt_s3_client_set_bandwidth     (LtS3Client    *self,
                                            LtS3Bandwidth *bandwidth);

/* HEAD the bucket: NO_SUCH_BUCKET, permission errors, … */
void        lt_s3_client_head_bucket_async        (LtS3Client          *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    lt_s3_client_head_bucket_finish       (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* The "test connection": HEAD the bucket, PUT a small probe object
 * (".livetape-probe/<random>") and DELETE it again. */
void        lt_s3_client_check_writable_async     (LtS3Client          *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    lt_s3_client_check_writable_finish    (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* PUT @file as @key, read and hashed in a worker thread first (kept in memory up to 16 MiB,
 * else read again as it is sent),
 * with Content-MD5, Content-Length and x-amz-content-sha256: UNSIGNED-PAYLOAD (the body is
 * bound to the signature through the signed Content-MD5 instead of a second full hash
 * pass). @content_type may be NULL. @progress (may be NULL) reports bytes sent. Result: the
 * object's ETag (hex MD5, no quotes); BAD_DIGEST when the server's ETag differs. */
void        lt_s3_client_put_object_async         (LtS3Client          *self,
                                                   const char          *key,
                                                   GFile               *file,
                                                   const char          *content_type,
                                                   LtS3ProgressFunc     progress,
                                                   gpointer             progress_data,
                                                   GDestroyNotify       progress_destroy,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_put_object_finish        (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* The same with the file's MD5 already known (@md5_hex, 32 hex digits, e.g. computed
 * while the file was written): no hashing pass before sending. The server still checks
 * the body against it (Content-MD5), and the ETag is checked against it. Finish with
 * lt_s3_client_put_object_finish(). */
void        lt_s3_client_put_object_with_md5_async (LtS3Client          *self,
                                                    const char          *key,
                                                    GFile               *file,
                                                    const char          *content_type,
                                                    const char          *md5_hex,
                                                    LtS3ProgressFunc     progress,
                                                    gpointer             progress_data,
                                                    GDestroyNotify       progress_destroy,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);

/* PUT @data (small objects: playlists, index files, the probe) as @key. Result: ETag. */
void        lt_s3_client_put_bytes_async          (LtS3Client          *self,
                                                   const char          *key,
                                                   GBytes              *data,
                                                   const char          *content_type,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_put_bytes_finish         (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* CreateMultipartUpload. Result: the upload id. */
void        lt_s3_client_create_multipart_async   (LtS3Client          *self,
                                                   const char          *key,
                                                   const char          *content_type,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_create_multipart_finish  (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* UploadPart @part_number (1…10000): @length bytes of @file from @offset, streamed, with
 * Content-MD5. Result: the part's ETag (hex MD5, checked: BAD_DIGEST on mismatch). */
void        lt_s3_client_upload_part_async        (LtS3Client          *self,
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
                                                   gpointer             user_data);
char       *lt_s3_client_upload_part_finish       (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* The same with the part's MD5 already known (@md5_hex, 32 hex digits). Finish with
 * lt_s3_client_upload_part_finish(). */
void        lt_s3_client_upload_part_with_md5_async (LtS3Client          *self,
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
                                                     gpointer             user_data);

/* CompleteMultipartUpload with @parts (LtS3Part *, ascending part numbers). The final
 * ETag must be lt_s3_multipart_etag (@parts), else BAD_DIGEST. Result: the final ETag. */
void        lt_s3_client_complete_multipart_async (LtS3Client          *self,
                                                   const char          *key,
                                                   const char          *upload_id,
                                                   GPtrArray           *parts,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_complete_multipart_finish (LtS3Client         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* The same, for S3-compatible servers that answer with the whole object's MD5 instead of
 * md5-of-md5s-N (s3rver does): a plain ETag equal to @object_md5 (hex, may be NULL) is
 * accepted too. Finish with lt_s3_client_complete_multipart_finish(). */
void        lt_s3_client_complete_multipart_with_md5_async (LtS3Client          *self,
                                                            const char          *key,
                                                            const char          *upload_id,
                                                            GPtrArray           *parts,
                                                            const char          *object_md5,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);

/* AbortMultipartUpload. */
void        lt_s3_client_abort_multipart_async    (LtS3Client          *self,
                                                   const char          *key,
                                                   const char          *upload_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    lt_s3_client_abort_multipart_finish   (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* ListParts, every page. Result: GPtrArray of LtS3Part * (ascending), free func set. */
void        lt_s3_client_list_parts_async         (LtS3Client          *self,
                                                   const char          *key,
                                                   const char          *upload_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GPtrArray  *lt_s3_client_list_parts_finish        (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* ListMultipartUploads under @prefix (NULL: all), every page. Result: GPtrArray of
 * LtS3Upload *, free func set. */
void        lt_s3_client_list_multipart_uploads_async  (LtS3Client          *self,
                                                        const char          *prefix,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GPtrArray  *lt_s3_client_list_multipart_uploads_finish (LtS3Client          *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* DeleteObject (S3 answers 204 also for a key that does not exist). */
void        lt_s3_client_delete_object_async      (LtS3Client          *self,
                                                   const char          *key,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    lt_s3_client_delete_object_finish     (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* GET @key into @dest (replaced). Result: the object's ETag (no quotes). */
void        lt_s3_client_get_object_async         (LtS3Client          *self,
                                                   const char          *key,
                                                   GFile               *dest,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_get_object_finish        (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* HEAD @key. Result: its ETag (no quotes); *@size its Content-Length (may be NULL).
 * NO_SUCH_KEY when it does not exist. */
void        lt_s3_client_head_object_async        (LtS3Client          *self,
                                                   const char          *key,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char       *lt_s3_client_head_object_finish       (LtS3Client          *self,
                                                   GAsyncResult        *result,
                                                   guint64             *size,
                                                   GError             **error);

G_END_DECLS

/* lt-api-server.h: the local control API in the cloud's RPC style (SPEC section 6).
 *
 * GET or POST (form) on "/" with Action, Version, Format, AccessKeyId, SignatureMethod,
 * SignatureVersion, SignatureNonce, Timestamp, Signature and the action's parameters. The
 * server checks the common parameters, the signature (HMAC-SHA1), the nonce (accepted once),
 * the timestamp window (15 minutes) and the per-key rate (30 requests/s), then hands the
 * request to the registered action. Replies are JSON or XML with a RequestId; errors are
 * {Code, Message, RequestId, HostId} with the HTTP status of the error.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "lt-catalog.h"
#include "lt-secret-store.h"

G_BEGIN_DECLS

#define LT_API_ERROR (lt_api_error_quark ())

typedef enum
{
  LT_API_ERROR_INTERNAL,                 /* InternalError, 500 */
  LT_API_ERROR_MISSING_PARAMETER,        /* MissingParameter, 400 */
  LT_API_ERROR_INVALID_PARAMETER,        /* InvalidParameter, 400 */
  LT_API_ERROR_ACTION_NOT_FOUND,         /* InvalidAction.NotFound, 404 */
  LT_API_ERROR_ACCESS_KEY_NOT_FOUND,     /* InvalidAccessKeyId.NotFound, 404 */
  LT_API_ERROR_SIGNATURE_DOES_NOT_MATCH, /* SignatureDoesNotMatch, 400 */
  LT_API_ERROR_NONCE_USED,               /* SignatureNonceUsed, 400 */
  LT_API_ERROR_TIMESTAMP_EXPIRED,        /* InvalidTimeStamp.Expired, 400 */
  LT_API_ERROR_THROTTLING,               /* Throttling, 400 */
  LT_API_ERROR_STREAM_NOT_FOUND,         /* InvalidStream.NotFound, 404 (issue 3) */
  LT_API_ERROR_TASK_ALREADY_STARTED,     /* TaskAlreadyStarted, 409 (issue 3) */
} LtApiError;

GQuark       lt_api_error_quark        (void);
const char  *lt_api_error_code_name    (LtApiError code);
guint        lt_api_error_http_status  (LtApiError code);

/* HMAC-SHA1 signature of SPEC section 6 over @params (Signature itself is ignored).
 * @method is "GET" or "POST". Exposed for tests and for the console's "copy as curl". */
char        *lt_api_compute_signature  (const char  *method,
                                        GHashTable  *params,
                                        const char  *access_key_secret);
/* RFC 3986 percent-encoding as the signature uses it. */
char        *lt_api_percent_encode     (const char  *value);
/* The StringToSign, for diagnostics and tests. */
char        *lt_api_string_to_sign     (const char  *method,
                                        GHashTable  *params);

typedef struct _LtApiRequest LtApiRequest;

LtApiRequest *lt_api_request_ref        (LtApiRequest *request);
void          lt_api_request_unref      (LtApiRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtApiRequest, lt_api_request_unref)

const char   *lt_api_request_get_action     (LtApiRequest *request);
const char   *lt_api_request_get_request_id (LtApiRequest *request);
const char   *lt_api_request_get_param      (LtApiRequest *request,
                                             const char   *name);
/* All parameters, name → value (transfer none). */
GHashTable   *lt_api_request_get_params     (LtApiRequest *request);
/* Completes the request with @result (the action's fields; RequestId is added). Exactly one
 * return per request; may be called later from the main context (async actions). */
void          lt_api_request_return_result  (LtApiRequest *request,
                                             JsonObject   *result);
/* Maps LT_API_ERROR, LT_RULE_ERROR and other known domains to Code + HTTP status; any
 * other error is InternalError. */
void          lt_api_request_return_error   (LtApiRequest *request,
                                             const GError *error);

typedef void (*LtApiActionFunc) (LtApiRequest *request,
                                 gpointer      user_data);

#define LT_API_DEFAULT_LISTEN "127.0.0.1:8088"

#define LT_TYPE_API_SERVER (lt_api_server_get_type ())
G_DECLARE_FINAL_TYPE (LtApiServer, lt_api_server, LT, API_SERVER, GObject)

LtApiServer *lt_api_server_new         (LtCatalog       *catalog,
                                        LtSecretStore   *secrets);
void         lt_api_server_add_action  (LtApiServer     *self,
                                        const char      *action,
                                        LtApiActionFunc  func,
                                        gpointer         user_data,
                                        GDestroyNotify   user_data_free);
/* @listen is "HOST:PORT" (IPv6 as "[::1]:PORT"); port 0 picks a free one. */
gboolean     lt_api_server_listen      (LtApiServer     *self,
                                        const char      *listen,
                                        GError         **error);
/* The port actually listened on (after lt_api_server_listen). */
guint16      lt_api_server_get_port    (LtApiServer     *self);
void         lt_api_server_disconnect  (LtApiServer     *self);
/* For tests: the clock the timestamp window is checked against (Unix seconds). */
void         lt_api_server_set_clock   (LtApiServer     *self,
                                        gint64         (*now_func) (void));
/* Forgets cached key secrets (after a key was deleted). */
void         lt_api_server_forget_key  (LtApiServer     *self,
                                        const char      *access_key_id);

/* Additions (API helper): limits, time format, test hooks and helpers for actions.
 * lt_api_request_return_result() copies @result (transfer none). */

#define LT_API_VERSION                  "2016-11-01"
#define LT_API_TIMESTAMP_WINDOW_SECONDS (15 * 60)
#define LT_API_RATE_LIMIT               30    /* requests per second per access key */

/* For tests: the clock the per-key rate and the key cache are measured with
 * (microseconds, like g_get_monotonic_time(), which is the default; NULL restores it). */
void         lt_api_server_set_monotonic_clock (LtApiServer  *self,
                                                gint64      (*now_func) (void));

/* "yyyy-MM-ddTHH:mm:ssZ" (UTC) ⇄ Unix seconds; parsing is strict. */
char        *lt_api_format_time        (gint64       unix_time);
gboolean     lt_api_parse_time         (const char  *text,
                                        gint64      *unix_time);
/* The generic JSON → XML mapping of the replies: members become elements, an array
 * member X becomes repeated <X> elements. @node is an object; returns the whole document
 * with the XML declaration and the root element @root_name. */
char        *lt_api_json_to_xml        (const char  *root_name,
                                        JsonNode    *node);

/* The request's time on the server's clock (when it arrived; transfer none). */
GDateTime    *lt_api_request_get_time          (LtApiRequest *request);
const char   *lt_api_request_get_access_key_id (LtApiRequest *request);
/* The value of @name, or NULL and MissingParameter when absent or empty. */
const char   *lt_api_request_require_param     (LtApiRequest *request,
                                                const char   *name,
                                                GError      **error);
/* An integer parameter in [@min, @max], @default_value when absent or empty;
 * InvalidParameter otherwise. */
gboolean      lt_api_request_get_int_param     (LtApiRequest *request,
                                                const char   *name,
                                                gint64        default_value,
                                                gint64        min,
                                                gint64        max,
                                                gint64       *value,
                                                GError      **error);
/* An error with a code of the action's own (for codes no GError domain carries). */
void          lt_api_request_return_error_code (LtApiRequest *request,
                                                guint         http_status,
                                                const char   *code,
                                                const char   *message);

G_END_DECLS

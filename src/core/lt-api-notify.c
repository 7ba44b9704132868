/* lt-api-notify.c: the callback-settings actions of the control API (SPEC section 4).
 *
 * Add and Update take DomainName, NotifyUrl, NeedStatusNotify (true|false, default false)
 * and OnDemandUrl; as in the cloud, Update replaces all three settings, so an absent
 * NeedStatusNotify means false and an absent OnDemandUrl removes it. The store validates
 * and persists; this file only maps parameters and errors. Messages are English, as the
 * cloud's are, whatever the daemon's locale. The signing key never leaves through the API.
 */
#include "config.h"

#include <string.h>

#include "lt-api-notify.h"

static const char *
optional_param (LtApiRequest *request,
                const char   *name)
{
  const char *value = lt_api_request_get_param (request, name);

  return value != NULL && *value != '\0' ? value : NULL;
}

/* The store's errors as the cloud words them; keyring and catalog failures keep their own
 * message (InternalError). */
static void
return_store_error (LtApiRequest *request,
                    const char   *domain,
                    const GError *error)
{
  g_autofree char *message = NULL;
  LtNotifyError code;

  if (error->domain != LT_NOTIFY_ERROR)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  code = error->code;

  switch (code)
    {
    case LT_NOTIFY_ERROR_MISSING_PARAMETER:
      message = g_strdup ("The input parameter 'DomainName' that is mandatory for processing "
                          "this request is not supplied.");
      break;
    case LT_NOTIFY_ERROR_INVALID_DOMAIN:
      message = g_strdup ("The specified DomainName is not a valid host name.");
      break;
    case LT_NOTIFY_ERROR_INVALID_NOTIFY_URL:
      message = g_strdup ("The specified NotifyUrl is invalid: it must be an absolute http:// "
                          "or https:// URL with a host, without user information, of at most "
                          "2048 bytes.");
      break;
    case LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL:
      message = g_strdup ("The specified OnDemandUrl is invalid: it must be an absolute "
                          "http:// or https:// URL with a host, without user information, of "
                          "at most 2048 bytes.");
      break;
    case LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS:
      message = g_strdup_printf ("A notify configuration for the domain %s already exists.",
                                 domain);
      break;
    case LT_NOTIFY_ERROR_CONFIG_NOT_FOUND:
      message = g_strdup_printf ("There is no notify configuration for the domain %s.", domain);
      break;
    case LT_NOTIFY_ERROR_FAILED:
    case LT_NOTIFY_ERROR_KEYRING:
    default:
      message = g_strdup (error->message);
      break;
    }

  lt_api_request_return_error_code (request, lt_notify_error_http_status (code),
                                    lt_notify_error_code_name (code), message);
}

/* lt_notify_store_add_finish, _update_finish and _remove_finish */
typedef gboolean (*StoreFinishFunc) (LtNotifyStore  *store,
                                     GAsyncResult   *result,
                                     GError        **error);

typedef struct
{
  LtApiRequest    *request;
  char            *domain;
  StoreFinishFunc  finish;
} Call;

static Call *
call_new (LtApiRequest    *request,
          const char      *domain,
          StoreFinishFunc  finish)
{
  Call *call = g_new0 (Call, 1);

  call->request = lt_api_request_ref (request);
  call->domain = g_strdup (domain);
  call->finish = finish;
  return call;
}

static void
call_free (Call *call)
{
  lt_api_request_unref (call->request);
  g_free (call->domain);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

/* An add, update or remove finished: an empty result, or the store's error. */
static void
store_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;

  if (!call->finish (LT_NOTIFY_STORE (source), result, &error))
    return_store_error (call->request, call->domain, error);
  else
    lt_api_request_return_result (call->request, NULL);
}

/* DomainName, NotifyUrl (both required), NeedStatusNotify, OnDemandUrl. */
static gboolean
read_config (LtApiRequest    *request,
             LtNotifyConfig  *config,
             GError         **error)
{
  const char *need_status;

  if ((config->domain = (char *) lt_api_request_require_param (request, "DomainName",
                                                                error)) == NULL ||
      (config->notify_url = (char *) lt_api_request_require_param (request, "NotifyUrl",
                                                                    error)) == NULL)
    return FALSE;

  need_status = optional_param (request, "NeedStatusNotify");
  if (need_status == NULL || g_ascii_strcasecmp (need_status, "false") == 0)
    config->need_status_notify = FALSE;
  else if (g_ascii_strcasecmp (need_status, "true") == 0)
    config->need_status_notify = TRUE;
  else
    {
      g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                   "The parameter 'NeedStatusNotify' must be true or false.");
      return FALSE;
    }

  config->on_demand_url = (char *) optional_param (request, "OnDemandUrl");
  return TRUE;
}

/* AddLiveRecordNotifyConfig, UpdateLiveRecordNotifyConfig ------------------------------- */

typedef void (*StoreWriteFunc) (LtNotifyStore        *store,
                                const LtNotifyConfig *config,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data);

static void
write_config (LtApiRequest    *request,
              LtNotifyStore   *store,
              StoreWriteFunc   write,
              StoreFinishFunc  finish)
{
  LtNotifyConfig config = { 0, };
  g_autoptr(GError) error = NULL;

  /* The config borrows the request's strings; the store copies them. */
  if (!read_config (request, &config, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }

  write (store, &config, NULL, store_done_cb, call_new (request, config.domain, finish));
}

static void
add_live_record_notify_config (LtApiRequest *request,
                               gpointer      user_data)
{
  write_config (request, user_data, lt_notify_store_add_async, lt_notify_store_add_finish);
}

static void
update_live_record_notify_config (LtApiRequest *request,
                                  gpointer      user_data)
{
  write_config (request, user_data, lt_notify_store_update_async,
                lt_notify_store_update_finish);
}

/* DeleteLiveRecordNotifyConfig --------------------------------------------------------- */

static void
delete_live_record_notify_config (LtApiRequest *request,
                                  gpointer      user_data)
{
  LtNotifyStore *store = user_data;
  g_autoptr(GError) error = NULL;
  const char *domain;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  lt_notify_store_remove_async (store, domain, NULL, store_done_cb,
                                call_new (request, domain, lt_notify_store_remove_finish));
}

/* DescribeLiveRecordNotifyConfig ------------------------------------------------------- */

static void
describe_live_record_notify_config (LtApiRequest *request,
                                    gpointer      user_data)
{
  LtNotifyStore *store = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(JsonObject) object = NULL;
  const LtNotifyConfig *config;
  const char *domain;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  config = lt_notify_store_lookup (store, domain);
  if (config == NULL)
    {
      g_autoptr(GError) not_found = g_error_new_literal (LT_NOTIFY_ERROR,
                                                         LT_NOTIFY_ERROR_CONFIG_NOT_FOUND, "");

      return_store_error (request, domain, not_found);
      return;
    }

  /* Never the signing key: secrets do not leave through the API. */
  object = json_object_new ();
  json_object_set_string_member (object, "DomainName", config->domain);
  json_object_set_string_member (object, "NotifyUrl",
                                 config->notify_url != NULL ? config->notify_url : "");
  json_object_set_boolean_member (object, "NeedStatusNotify", config->need_status_notify);
  json_object_set_string_member (object, "OnDemandUrl",
                                 config->on_demand_url != NULL ? config->on_demand_url : "");

  result = json_object_new ();
  json_object_set_object_member (result, "LiveRecordNotifyConfig", g_steal_pointer (&object));
  lt_api_request_return_result (request, result);
}

void
lt_api_notify_register (LtApiServer   *server,
                        LtNotifyStore *store)
{
  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_NOTIFY_STORE (store));

  lt_api_server_add_action (server, "AddLiveRecordNotifyConfig",
                            add_live_record_notify_config,
                            g_object_ref (store), g_object_unref);
  lt_api_server_add_action (server, "UpdateLiveRecordNotifyConfig",
                            update_live_record_notify_config,
                            g_object_ref (store), g_object_unref);
  lt_api_server_add_action (server, "DeleteLiveRecordNotifyConfig",
                            delete_live_record_notify_config,
                            g_object_ref (store), g_object_unref);
  lt_api_server_add_action (server, "DescribeLiveRecordNotifyConfig",
                            describe_live_record_notify_config,
                            g_object_ref (store), g_object_unref);
}

/* lt-api-index.c: CreateLiveStreamRecordIndexFiles, DescribeLiveStreamRecordIndexFile and
 * DescribeLiveStreamRecordIndexFiles (SPEC section 5) over lt-index-files.
 *
 * Error codes (cloud style): InvalidStartTime.Malformed / InvalidEndTime.Malformed (400)
 * for times that are not "yyyy-MM-ddTHH:mm:ssZ", InvalidEndTime.Mismatch (400) for
 * EndTime ≤ StartTime, InvalidEndTime.Exceeded (400) for a span over 4 days,
 * InvalidRecordContent.NotFound (404) when nothing was recorded in the range,
 * InvalidRecordId.NotFound (404) for an unknown RecordId, InvalidOssBucket.* from the
 * storage target, InvalidParameter (400) for a bad OssObject template, Order or paging.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-api-index.h"
#include "lt-index-files.h"
#include "lt-template.h"

#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MIN     5
#define PAGE_SIZE_MAX     30

typedef struct
{
  LtCatalog *catalog;
  char      *local_root;
} Context;

static void
context_free (gpointer data)
{
  Context *context = data;

  g_object_unref (context->catalog);
  g_free (context->local_root);
  g_free (context);
}

static void
return_error (LtApiRequest *request,
              const GError *error)
{
  if (error->domain == LT_INDEX_FILES_ERROR)
    {
      switch ((LtIndexFilesError) error->code)
        {
        case LT_INDEX_FILES_ERROR_END_BEFORE_START:
          lt_api_request_return_error_code (request, 400, "InvalidEndTime.Mismatch", error->message);
          return;
        case LT_INDEX_FILES_ERROR_SPAN_TOO_LONG:
          lt_api_request_return_error_code (request, 400, "InvalidEndTime.Exceeded", error->message);
          return;
        case LT_INDEX_FILES_ERROR_NO_CONTENT:
          lt_api_request_return_error_code (request, 404, "InvalidRecordContent.NotFound",
                                            error->message);
          return;
        case LT_INDEX_FILES_ERROR_NOT_FOUND:
          lt_api_request_return_error_code (request, 404, "InvalidRecordId.NotFound", error->message);
          return;
        case LT_INDEX_FILES_ERROR_FAILED:
        default:
          break;
        }
    }
  else if (error->domain == LT_TEMPLATE_ERROR)
    {
      lt_api_request_return_error_code (request, 400, "InvalidParameter", error->message);
      return;
    }
  lt_api_request_return_error (request, error);
}

gboolean
_lt_api_require_stream (LtApiRequest  *request,
                        const char   **domain,
                        const char   **app,
                        const char   **stream)
{
  g_autoptr(GError) error = NULL;

  if ((*domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL ||
      (*app = lt_api_request_require_param (request, "AppName", &error)) == NULL ||
      (*stream = lt_api_request_require_param (request, "StreamName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
_lt_api_require_times (LtApiRequest *request,
                       gint64       *start_time,
                       gint64       *end_time)
{
  g_autoptr(GError) error = NULL;
  const char *start;
  const char *end;

  if ((start = lt_api_request_require_param (request, "StartTime", &error)) == NULL ||
      (end = lt_api_request_require_param (request, "EndTime", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return FALSE;
    }
  if (!lt_api_parse_time (start, start_time))
    {
      lt_api_request_return_error_code (request, 400, "InvalidStartTime.Malformed",
                                        _("StartTime must look like 2006-01-02T15:04:05Z"));
      return FALSE;
    }
  if (!lt_api_parse_time (end, end_time))
    {
      lt_api_request_return_error_code (request, 400, "InvalidEndTime.Malformed",
                                        _("EndTime must look like 2006-01-02T15:04:05Z"));
      return FALSE;
    }
  if (*end_time <= *start_time)
    {
      lt_api_request_return_error_code (request, 400, "InvalidEndTime.Mismatch",
                                        _("EndTime must be later than StartTime"));
      return FALSE;
    }
  return TRUE;
}

/* The index files' range: at most four days. */
static gboolean
require_range (LtApiRequest *request,
               gint64       *start_time,
               gint64       *end_time)
{
  g_autoptr(GError) error = NULL;

  if (!_lt_api_require_times (request, start_time, end_time))
    return FALSE;
  if (!lt_index_files_check_range (*start_time, *end_time, &error))
    {
      return_error (request, error);
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
file_to_info (LtIndexFile *file)
{
  JsonObject *info = json_object_new ();
  g_autofree char *start = lt_api_format_time (file->start_time_us / G_USEC_PER_SEC);
  g_autofree char *end = lt_api_format_time (file->end_time_us / G_USEC_PER_SEC);
  g_autofree char *created = lt_api_format_time (file->create_time);

  json_object_set_string_member (info, "RecordId", file->record_id);
  json_object_set_string_member (info, "RecordUrl", file->url);
  json_object_set_string_member (info, "DomainName", file->domain);
  json_object_set_string_member (info, "AppName", file->app);
  json_object_set_string_member (info, "StreamName", file->stream);
  json_object_set_string_member (info, "StartTime", start);
  json_object_set_string_member (info, "EndTime", end);
  json_object_set_double_member (info, "Duration", (double) file->duration_us / G_USEC_PER_SEC);
  json_object_set_int_member (info, "Width", file->width);
  json_object_set_int_member (info, "Height", file->height);
  json_object_set_string_member (info, "CreateTime", created);
  json_object_set_string_member (info, "OssEndpoint", file->endpoint);
  json_object_set_string_member (info, "OssBucket", file->bucket);
  json_object_set_string_member (info, "OssObject", file->object_key);
  return info;
}

/* The reply with @file as @member, or @error when there is no @file. */
static void
return_file (LtApiRequest *request,
             const char   *member,
             LtIndexFile  *file,
             const GError *error)
{
  g_autoptr(JsonObject) reply = NULL;

  if (file == NULL)
    {
      return_error (request, error);
      return;
    }
  reply = json_object_new ();
  json_object_set_object_member (reply, member, file_to_info (file));
  lt_api_request_return_result (request, reply);
}

/* CreateLiveStreamRecordIndexFiles ------------------------------------------------------ */

static void
create_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtIndexFile) file = lt_index_files_create_finish (LT_CATALOG (source), result,
                                                              &error);

  return_file (request, "RecordInfo", file, error);
}

static void
create_index_files (LtApiRequest *request,
                    gpointer      user_data)
{
  Context *context = user_data;
  g_autoptr(GError) error = NULL;
  LtIndexFileRequest spec = { 0 };
  const char *included;

  if (!_lt_api_require_stream (request, &spec.domain, &spec.app, &spec.stream) ||
      !require_range (request, &spec.start_time, &spec.end_time))
    return;
  if ((spec.endpoint = lt_api_request_require_param (request, "OssEndpoint", &error)) == NULL ||
      (spec.bucket = lt_api_request_require_param (request, "OssBucket", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  spec.object_template = lt_api_request_get_param (request, "OssObject");
  if (spec.object_template != NULL && spec.object_template[0] != '\0' &&
      !lt_template_check (spec.object_template, &error))
    {
      return_error (request, error);
      return;
    }

  included = lt_api_request_get_param (request, "EndTimeIncluded");
  if (included == NULL || included[0] == '\0' || g_ascii_strcasecmp (included, "false") == 0)
    spec.end_time_included = FALSE;
  else if (g_ascii_strcasecmp (included, "true") == 0)
    spec.end_time_included = TRUE;
  else
    {
      lt_api_request_return_error_code (request, 400, "InvalidParameter",
                                        _("EndTimeIncluded must be true or false"));
      return;
    }

  lt_index_files_create_async (context->catalog, context->local_root, &spec, NULL,
                               create_done_cb, lt_api_request_ref (request));
}

/* DescribeLiveStreamRecordIndexFile ----------------------------------------------------- */

static void
lookup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtIndexFile) file = lt_index_files_lookup_finish (LT_CATALOG (source), result,
                                                              &error);

  return_file (request, "RecordIndexInfo", file, error);
}

static void
describe_index_file (LtApiRequest *request,
                     gpointer      user_data)
{
  Context *context = user_data;
  g_autoptr(GError) error = NULL;
  const char *domain, *app, *stream, *record_id;

  if (!_lt_api_require_stream (request, &domain, &app, &stream))
    return;
  if ((record_id = lt_api_request_require_param (request, "RecordId", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  lt_index_files_lookup_async (context->catalog, domain, app, stream, record_id, NULL,
                               lookup_done_cb, lt_api_request_ref (request));
}

/* DescribeLiveStreamRecordIndexFiles ---------------------------------------------------- */

typedef struct
{
  LtApiRequest *request;
  gint64        page_num;
  gint64        page_size;
} ListCall;

static void
list_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ListCall *call = user_data;
  g_autoptr(LtApiRequest) request = call->request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autoptr(JsonArray) infos = NULL;
  gint64 page_num = call->page_num;
  gint64 page_size = call->page_size;
  guint64 total = 0;

  g_free (call);
  files = lt_index_files_list_finish (LT_CATALOG (source), result, &total, &error);
  if (files == NULL)
    {
      return_error (request, error);
      return;
    }

  infos = json_array_new ();
  for (guint i = 0; i < files->len; i++)
    json_array_add_object_element (infos, file_to_info (g_ptr_array_index (files, i)));
  list = json_object_new ();
  json_object_set_array_member (list, "RecordIndexInfo", g_steal_pointer (&infos));

  reply = json_object_new ();
  json_object_set_object_member (reply, "RecordIndexInfoList", g_steal_pointer (&list));
  json_object_set_int_member (reply, "TotalNum", (gint64) total);
  json_object_set_int_member (reply, "TotalPage", (gint64) ((total + page_size - 1) / page_size));
  json_object_set_int_member (reply, "PageNum", page_num);
  json_object_set_int_member (reply, "PageSize", page_size);
  lt_api_request_return_result (request, reply);
}

static void
describe_index_files (LtApiRequest *request,
                      gpointer      user_data)
{
  Context *context = user_data;
  g_autoptr(GError) error = NULL;
  const char *domain, *app, *stream, *order;
  gint64 start_time, end_time, page_num, page_size;
  gboolean descending;
  ListCall *call;

  if (!_lt_api_require_stream (request, &domain, &app, &stream) ||
      !require_range (request, &start_time, &end_time))
    return;
  if (!lt_api_request_get_int_param (request, "PageNum", 1, 1, G_MAXINT32, &page_num, &error) ||
      !lt_api_request_get_int_param (request, "PageSize", PAGE_SIZE_DEFAULT, PAGE_SIZE_MIN,
                                     PAGE_SIZE_MAX, &page_size, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }
  order = lt_api_request_get_param (request, "Order");
  if (order == NULL || order[0] == '\0' || g_ascii_strcasecmp (order, "asc") == 0)
    descending = FALSE;
  else if (g_ascii_strcasecmp (order, "desc") == 0)
    descending = TRUE;
  else
    {
      lt_api_request_return_error_code (request, 400, "InvalidParameter",
                                        _("Order must be asc or desc"));
      return;
    }

  call = g_new0 (ListCall, 1);
  call->request = lt_api_request_ref (request);
  call->page_num = page_num;
  call->page_size = page_size;
  lt_index_files_list_async (context->catalog, domain, app, stream, start_time, end_time,
                             descending, (guint) page_num, (guint) page_size, NULL,
                             list_done_cb, call);
}

void
lt_api_index_register (LtApiServer *server,
                       LtCatalog   *catalog,
                       const char  *local_storage_root)
{
  Context *context;

  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (local_storage_root != NULL);

  /* One context per action: each is freed with its action. */
  for (guint i = 0; i < 3; i++)
    {
      static const struct
      {
        const char      *name;
        LtApiActionFunc  func;
      } actions[] = {
        { "CreateLiveStreamRecordIndexFiles", create_index_files },
        { "DescribeLiveStreamRecordIndexFile", describe_index_file },
        { "DescribeLiveStreamRecordIndexFiles", describe_index_files },
      };

      context = g_new0 (Context, 1);
      context->catalog = g_object_ref (catalog);
      context->local_root = g_strdup (local_storage_root);
      lt_api_server_add_action (server, actions[i].name, actions[i].func, context, context_free);
    }
}

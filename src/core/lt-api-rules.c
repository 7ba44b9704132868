/* lt-api-rules.c: the recording-rule actions of the control API (SPEC section 2).
 *
 * AddLiveAppRecordConfig builds the rule with the same validation the console's editor
 * uses (lt_rule_new_from_params), so codes and messages are identical everywhere; the
 * rule store persists it and tells the console. DescribeLiveRecordConfig answers in the
 * shape of the cloud's reply (including its "OnDemond" spelling) so SDK models parse it.
 */
#include "config.h"

#include <string.h>

#include "lt-api-rules.h"

/* Parameters of the request envelope (and the cloud SDKs' usual extras) that are not
 * rule fields. */
static const char * const envelope_params[] = {
  "Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
  "SignatureNonce", "Timestamp", "Signature", "RegionId", "ServiceCode", "OwnerId",
  NULL,
};

static GHashTable *
rule_params (LtApiRequest *request)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, lt_api_request_get_params (request));
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!g_strv_contains (envelope_params, key))
        g_hash_table_insert (params, g_strdup (key), g_strdup (value));
    }
  return params;
}

static const char *
optional_param (LtApiRequest *request,
                const char   *name)
{
  const char *value = lt_api_request_get_param (request, name);

  return value != NULL && *value != '\0' ? value : NULL;
}

/* AddLiveAppRecordConfig ------------------------------------------------------------ */

static void
add_rule_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_rule_store_add_finish (LT_RULE_STORE (source), result, &error))
    lt_api_request_return_error (request, error);
  else
    lt_api_request_return_result (request, NULL);
}

static void
add_live_app_record_config (LtApiRequest *request,
                            gpointer      user_data)
{
  LtRuleStore *store = user_data;
  g_autoptr(GHashTable) params = rule_params (request);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  GDateTime *now = lt_api_request_get_time (request);

  /* @now is the request's time on the server clock: the StartTime/EndTime checks use it
   * and it becomes the create time DescribeLiveRecordConfig orders by. */
  rule = lt_rule_new_from_params (params, now, &error);
  if (rule == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  lt_rule_store_add_async (store, rule, NULL, add_rule_cb, lt_api_request_ref (request));
}

/* DeleteLiveAppRecordConfig --------------------------------------------------------- */

static void
remove_rule_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_rule_store_remove_finish (LT_RULE_STORE (source), result, &error))
    lt_api_request_return_error (request, error);
  else
    lt_api_request_return_result (request, NULL);
}

static void
delete_live_app_record_config (LtApiRequest *request,
                               gpointer      user_data)
{
  LtRuleStore *store = user_data;
  g_autoptr(GError) error = NULL;
  const char *domain;
  const char *app;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL ||
      (app = lt_api_request_require_param (request, "AppName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  lt_rule_store_remove_async (store, domain, app, optional_param (request, "StreamName"),
                              NULL, remove_rule_cb, lt_api_request_ref (request));
}

/* DescribeLiveRecordConfig ---------------------------------------------------------- */

#define PAGE_SIZE_MIN     5
#define PAGE_SIZE_MAX     30
#define PAGE_SIZE_DEFAULT 10

static int
compare_rules (LtRule *a,
               LtRule *b)
{
  gint64 ta = lt_rule_get_create_time (a);
  gint64 tb = lt_rule_get_create_time (b);
  int cmp;

  if (ta != tb)
    return ta < tb ? -1 : 1;

  /* Rules created in the same second: a stable order by triplet. */
  if ((cmp = strcmp (lt_rule_get_domain_name (a), lt_rule_get_domain_name (b))) != 0)
    return cmp;
  if ((cmp = strcmp (lt_rule_get_app_name (a), lt_rule_get_app_name (b))) != 0)
    return cmp;
  return strcmp (lt_rule_get_stream_name (a), lt_rule_get_stream_name (b));
}

static int
compare_rules_asc (gconstpointer a,
                   gconstpointer b)
{
  return compare_rules (*(LtRule * const *) a, *(LtRule * const *) b);
}

static int
compare_rules_desc (gconstpointer a,
                    gconstpointer b)
{
  return compare_rules (*(LtRule * const *) b, *(LtRule * const *) a);
}

static void
set_time_member (JsonObject *object,
                 const char *name,
                 gint64      unix_time)
{
  g_autofree char *text = lt_api_format_time (unix_time);

  json_object_set_string_member (object, name, text);
}

static JsonNode *
formats_to_json (GPtrArray *formats)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonObject) list = json_object_new ();
  JsonNode *node;

  for (guint i = 0; formats != NULL && i < formats->len; i++)
    {
      const LtRecordFormat *format = g_ptr_array_index (formats, i);
      g_autoptr(JsonObject) object = json_object_new ();
      gboolean sliced = lt_record_format_kind_is_sliced (format->kind);

      json_object_set_string_member (object, "Format",
                                     lt_record_format_kind_to_string (format->kind));
      json_object_set_string_member (object, "OssObjectPrefix",
                                     format->object_prefix != NULL ? format->object_prefix : "");
      if (sliced)
        json_object_set_string_member (object, "SliceOssObjectPrefix",
                                       format->slice_object_prefix != NULL ? format->slice_object_prefix : "");
      json_object_set_int_member (object, "CycleDuration", format->cycle_duration);
      if (sliced)
        json_object_set_int_member (object, "SliceDuration", format->slice_duration);

      json_array_add_object_element (array, g_steal_pointer (&object));
    }

  json_object_set_array_member (list, "RecordFormat", g_steal_pointer (&array));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, list);
  return node;
}

static JsonObject *
rule_to_record (LtRule *rule)
{
  JsonObject *record = json_object_new ();
  g_autoptr(JsonArray) templates = json_array_new ();
  g_autoptr(JsonObject) templates_object = json_object_new ();
  const char * const *names = lt_rule_get_transcode_templates (rule);

  json_object_set_string_member (record, "DomainName", lt_rule_get_domain_name (rule));
  json_object_set_string_member (record, "AppName", lt_rule_get_app_name (rule));
  json_object_set_string_member (record, "StreamName", lt_rule_get_stream_name (rule));
  json_object_set_string_member (record, "OssEndpoint", lt_rule_get_oss_endpoint (rule));
  json_object_set_string_member (record, "OssBucket", lt_rule_get_oss_bucket (rule));
  set_time_member (record, "CreateTime", lt_rule_get_create_time (rule));
  if (lt_rule_get_start_time (rule) != 0)
    set_time_member (record, "StartTime", lt_rule_get_start_time (rule));
  if (lt_rule_get_end_time (rule) != 0)
    set_time_member (record, "EndTime", lt_rule_get_end_time (rule));
  /* The cloud's reply spells it "OnDemond"; SDK models read that name. "OnDemand" is
   * the request's spelling, for scripts that round-trip the parameters. */
  json_object_set_int_member (record, "OnDemond", lt_rule_get_on_demand (rule));
  json_object_set_int_member (record, "OnDemand", lt_rule_get_on_demand (rule));
  json_object_set_int_member (record, "DelayTime", lt_rule_get_delay_time (rule));
  json_object_set_member (record, "RecordFormatList", formats_to_json (lt_rule_get_formats (rule)));

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    json_array_add_string_element (templates, names[i]);
  json_object_set_array_member (templates_object, "Templates", g_steal_pointer (&templates));
  json_object_set_object_member (record, "TranscodeTemplates", g_steal_pointer (&templates_object));
  json_object_set_member (record, "TranscodeRecordFormatList",
                          formats_to_json (lt_rule_get_transcode_formats (rule)));

  return record;
}

static void
describe_live_record_config (LtApiRequest *request,
                             gpointer      user_data)
{
  GListModel *rules = G_LIST_MODEL (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autoptr(JsonArray) records = NULL;
  const char *domain;
  const char *app;
  const char *stream;
  const char *order;
  gboolean descending = FALSE;
  gint64 page_num;
  gint64 page_size;
  guint n_items;
  guint64 first;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  app = optional_param (request, "AppName");
  stream = optional_param (request, "StreamName");

  order = optional_param (request, "Order");
  if (order != NULL && g_ascii_strcasecmp (order, "desc") == 0)
    {
      descending = TRUE;
    }
  else if (order != NULL && g_ascii_strcasecmp (order, "asc") != 0)
    {
      g_set_error (&error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                   "The parameter 'Order' must be asc or desc.");
      lt_api_request_return_error (request, error);
      return;
    }

  if (!lt_api_request_get_int_param (request, "PageNum", 1, 1, G_MAXINT32, &page_num, &error) ||
      !lt_api_request_get_int_param (request, "PageSize", PAGE_SIZE_DEFAULT,
                                     PAGE_SIZE_MIN, PAGE_SIZE_MAX, &page_size, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }

  matches = g_ptr_array_new_with_free_func (g_object_unref);
  n_items = g_list_model_get_n_items (rules);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (rules, i);

      /* Domain names are case-insensitive; app and stream names are not. */
      if (g_ascii_strcasecmp (lt_rule_get_domain_name (rule), domain) != 0)
        continue;
      if (app != NULL && strcmp (lt_rule_get_app_name (rule), app) != 0)
        continue;
      if (stream != NULL && strcmp (lt_rule_get_stream_name (rule), stream) != 0)
        continue;
      g_ptr_array_add (matches, g_steal_pointer (&rule));
    }
  g_ptr_array_sort (matches, descending ? compare_rules_desc : compare_rules_asc);

  records = json_array_new ();
  first = (guint64) (page_num - 1) * (guint64) page_size;
  for (guint64 i = first; i < matches->len && i < first + (guint64) page_size; i++)
    json_array_add_object_element (records, rule_to_record (g_ptr_array_index (matches, i)));

  list = json_object_new ();
  json_object_set_array_member (list, "LiveAppRecord", g_steal_pointer (&records));

  result = json_object_new ();
  json_object_set_int_member (result, "PageNum", page_num);
  json_object_set_int_member (result, "PageSize", page_size);
  json_object_set_string_member (result, "Order", descending ? "desc" : "asc");
  json_object_set_int_member (result, "TotalNum", matches->len);
  json_object_set_int_member (result, "TotalPage", (matches->len + page_size - 1) / page_size);
  json_object_set_object_member (result, "LiveAppRecordList", g_steal_pointer (&list));

  lt_api_request_return_result (request, result);
}

void
lt_api_rules_register (LtApiServer *server,
                       LtRuleStore *store)
{
  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_RULE_STORE (store));

  lt_api_server_add_action (server, "AddLiveAppRecordConfig",
                            add_live_app_record_config,
                            g_object_ref (store), g_object_unref);
  lt_api_server_add_action (server, "DeleteLiveAppRecordConfig",
                            delete_live_app_record_config,
                            g_object_ref (store), g_object_unref);
  lt_api_server_add_action (server, "DescribeLiveRecordConfig",
                            describe_live_record_config,
                            g_object_ref (store), g_object_unref);
}

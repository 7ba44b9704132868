/* lt-on-demand.c: the on-demand decision of OnDemand 1 rules (SPEC section 4): the GET to
 * the domain's OnDemandUrl and the reading of its JSON reply.
 *
 * Decisions where the spec is silent:
 * - NeedRecord must be a JSON boolean. The cloud documents it as a boolean, and a receiver
 *   that answers 1, "true" or "yes" is not following it: such a reply is malformed (do not
 *   record) rather than guessed at.
 * - NeedRecord false wins over everything else in the reply: the rest is not checked.
 * - Interval keys are matched case-insensitively (Mp4, MP4, m3u8, Cmaf); keys that are not
 *   a format name are ignored (a newer ApiVersion may add some), the same format twice
 *   ("Mp4" and "mp4") is malformed. Values must be JSON integers in 5–21600; 300.0, "300"
 *   or 3 are malformed. An Interval for a format the rule does not record is still checked.
 * - Format entries that are not a format name ("ts") cannot match a rule format and are
 *   dropped; an entry that is not a string is malformed. Format [] is an empty
 *   intersection.
 * - A JSON null Interval or Format counts as absent.
 * - A 3xx answer is a non-200 status like any other: redirects are never followed.
 * - An invalid OnDemandUrl (not http/https) is "OnDemandNoUrl": there is no usable address.
 * - A cancelled query finishes with an "OnDemandUnreachable" decision (the caller that
 *   cancelled does not look at it).
 * - A reply whose status line came but whose body did not within the 5 s is a timeout;
 *   http_status then says what the status was.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "lt-on-demand.h"
#include "lt-outbound.h"

#define INTERVAL_MIN 5
#define INTERVAL_MAX 21600

void
lt_on_demand_decision_free (LtOnDemandDecision *decision)
{
  if (decision == NULL)
    return;
  g_clear_pointer (&decision->formats, g_ptr_array_unref);
  g_free (decision->reason);
  g_free (decision->reason_code);
  g_free (decision);
}

static LtOnDemandDecision *
decision_new (void)
{
  LtOnDemandDecision *decision = g_new0 (LtOnDemandDecision, 1);

  decision->formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  return decision;
}

/* A decision not to record, taking @reason. */
static LtOnDemandDecision *
decision_refuse (guint       http_status,
                 const char *reason_code,
                 char       *reason)
{
  LtOnDemandDecision *decision = decision_new ();

  decision->need_record = FALSE;
  decision->http_status = http_status;
  decision->reason_code = g_strdup (reason_code);
  decision->reason = reason;
  return decision;
}

static char *
kinds_to_string (const gboolean kinds[LT_RECORD_FORMAT_KIND_COUNT])
{
  g_autoptr(GString) str = g_string_new (NULL);

  for (guint i = 0; i < LT_RECORD_FORMAT_KIND_COUNT; i++)
    if (kinds[i])
      {
        if (str->len > 0)
          g_string_append (str, ", ");
        g_string_append (str, lt_record_format_kind_to_string (i));
      }
  if (str->len == 0)
    g_string_append (str, C_("list of record formats", "none"));
  return g_string_free (g_steal_pointer (&str), FALSE);
}

/* Reads Interval into @intervals (0 = not given). Returns a translated reason when it is
 * malformed, NULL when it is fine. */
static char *
read_intervals (JsonNode *node,
                guint     intervals[LT_RECORD_FORMAT_KIND_COUNT])
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return g_strdup (_("Interval in the on-demand reply is not an object."));

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      LtRecordFormatKind kind;
      const char *name;
      gint64 seconds;

      if (!lt_record_format_kind_from_string (key, &kind))
        continue;

      name = lt_record_format_kind_to_string (kind);
      if (intervals[kind] != 0)
        return g_strdup_printf (_("The on-demand reply gives Interval %s twice."), name);
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_INT64)
        return g_strdup_printf (_("Interval %s in the on-demand reply is not a whole number "
                                  "of seconds."), name);

      seconds = json_node_get_int (value);
      if (seconds < INTERVAL_MIN || seconds > INTERVAL_MAX)
        return g_strdup_printf (_("Interval %s in the on-demand reply is outside %d–%d "
                                  "seconds."), name, INTERVAL_MIN, INTERVAL_MAX);
      intervals[kind] = (guint) seconds;
    }

  return NULL;
}

/* Reads Format into @wanted (all TRUE when absent). Returns a translated reason when it is
 * malformed, NULL when it is fine. */
static char *
read_formats (JsonNode *node,
              gboolean  wanted[LT_RECORD_FORMAT_KIND_COUNT])
{
  JsonArray *array;
  guint n;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      for (guint i = 0; i < LT_RECORD_FORMAT_KIND_COUNT; i++)
        wanted[i] = TRUE;
      return NULL;
    }

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return g_strdup (_("Format in the on-demand reply is not a list of format names."));

  array = json_node_get_array (node);
  n = json_array_get_length (array);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      LtRecordFormatKind kind;

      if (!JSON_NODE_HOLDS_VALUE (element) ||
          json_node_get_value_type (element) != G_TYPE_STRING)
        return g_strdup (_("Format in the on-demand reply is not a list of format names."));

      /* A name that is no format can match no rule format: it is simply dropped. */
      if (lt_record_format_kind_from_string (json_node_get_string (element), &kind))
        wanted[kind] = TRUE;
    }

  return NULL;
}

LtOnDemandDecision *
lt_on_demand_decide (guint       status,
                     const char *body,
                     gsize       length,
                     gboolean    truncated,
                     GPtrArray  *rule_formats)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtOnDemandDecision) decision = NULL;
  guint intervals[LT_RECORD_FORMAT_KIND_COUNT] = { 0, };
  gboolean wanted[LT_RECORD_FORMAT_KIND_COUNT] = { FALSE, };
  gboolean ruled[LT_RECORD_FORMAT_KIND_COUNT] = { FALSE, };
  JsonObject *object;
  JsonNode *root;
  JsonNode *need_record;
  char *reason;

  g_return_val_if_fail (body != NULL || length == 0, NULL);
  g_return_val_if_fail (rule_formats != NULL, NULL);

  if (status != SOUP_STATUS_OK)
    {
      if (SOUP_STATUS_IS_REDIRECTION (status))
        reason = g_strdup_printf (_("The on-demand address answered HTTP %u, a redirect, "
                                    "which is not followed."), status);
      else
        reason = g_strdup_printf (_("The on-demand address answered HTTP %u."), status);
      return decision_refuse (status, "OnDemandHttpStatus", reason);
    }

  if (truncated || length > LT_ON_DEMAND_REPLY_MAX_BYTES)
    return decision_refuse (status, "OnDemandMalformed",
                            g_strdup_printf (_("The on-demand reply is longer than %d bytes."),
                                             LT_ON_DEMAND_REPLY_MAX_BYTES));

  parser = json_parser_new ();
  if (length == 0 ||
      !json_parser_load_from_data (parser, body, (gssize) length, &error) ||
      (root = json_parser_get_root (parser)) == NULL)
    return decision_refuse (status, "OnDemandMalformed",
                            g_strdup (_("The on-demand reply is not valid JSON.")));

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return decision_refuse (status, "OnDemandMalformed",
                            g_strdup (_("The on-demand reply is not a JSON object.")));
  object = json_node_get_object (root);

  need_record = json_object_get_member (object, "NeedRecord");
  if (need_record == NULL)
    return decision_refuse (status, "OnDemandMalformed",
                            g_strdup (_("The on-demand reply has no NeedRecord.")));
  /* JSON booleans only, as the cloud documents it: 1, "true" and null are malformed. */
  if (!JSON_NODE_HOLDS_VALUE (need_record) ||
      json_node_get_value_type (need_record) != G_TYPE_BOOLEAN)
    return decision_refuse (status, "OnDemandMalformed",
                            g_strdup (_("NeedRecord in the on-demand reply is not true or "
                                        "false.")));
  if (!json_node_get_boolean (need_record))
    return decision_refuse (status, "OnDemandRefused",
                            g_strdup (_("The on-demand reply says NeedRecord: false.")));

  if ((reason = read_intervals (json_object_get_member (object, "Interval"), intervals)) != NULL ||
      (reason = read_formats (json_object_get_member (object, "Format"), wanted)) != NULL)
    return decision_refuse (status, "OnDemandMalformed", reason);

  decision = decision_new ();
  decision->http_status = status;
  for (guint i = 0; i < rule_formats->len; i++)
    {
      const LtRecordFormat *format = g_ptr_array_index (rule_formats, i);
      LtRecordFormat *copy;

      ruled[format->kind] = TRUE;
      if (!wanted[format->kind])
        continue;

      copy = lt_record_format_copy (format);
      if (intervals[format->kind] != 0)
        copy->cycle_duration = intervals[format->kind];
      g_ptr_array_add (decision->formats, copy);
    }

  if (decision->formats->len == 0)
    {
      g_autofree char *asked = kinds_to_string (wanted);
      g_autofree char *recorded = kinds_to_string (ruled);

      return decision_refuse (status, "OnDemandNoFormat",
                              g_strdup_printf (_("None of the formats the on-demand reply asks "
                                                 "for (%s) is one the rule records (%s)."),
                                               asked, recorded));
    }

  decision->need_record = TRUE;
  return g_steal_pointer (&decision);
}

/* ---- the query ---- */

typedef struct
{
  GPtrArray   *rule_formats;  /* copies: the caller's rule may change meanwhile */
  SoupMessage *message;
} QueryData;

static void
query_data_free (QueryData *data)
{
  g_clear_pointer (&data->rule_formats, g_ptr_array_unref);
  g_clear_object (&data->message);
  g_free (data);
}

/* Appends "name=value" (value percent-encoded) to @query, with "&" when needed. */
static void
append_param (GString    *query,
              const char *name,
              const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value != NULL ? value : "", NULL, FALSE);

  if (query->len > 0 && query->str[query->len - 1] != '?' && query->str[query->len - 1] != '&')
    g_string_append_c (query, '&');
  g_string_append_printf (query, "%s=%s", name, escaped);
}

/* @url with the on-demand parameters appended to its query (after "?" or "&"); a
 * fragment is dropped: it is never sent anyway. */
static char *
build_url (const char *url,
           const char *domain,
           const char *app,
           const char *stream,
           guint       vbitrate_kbps,
           const char *codec)
{
  g_autoptr(GString) str = g_string_new_len (url, strcspn (url, "#"));
  g_autofree char *vbitrate = g_strdup_printf ("%u", vbitrate_kbps);

  if (strchr (str->str, '?') == NULL)
    g_string_append_c (str, '?');
  append_param (str, "app", app);
  append_param (str, "domain", domain);
  append_param (str, "stream", stream);
  append_param (str, "vbitrate", vbitrate);
  append_param (str, "codec", codec);
  return g_string_free (g_steal_pointer (&str), FALSE);
}

static char *
forbidden_reason (void)
{
  return g_strdup (_("The on-demand address is a link-local or cloud-metadata address, which "
                     "Livetape does not connect to."));
}

static void
query_return (GTask              *task,
              LtOnDemandDecision *decision)
{
  g_task_return_pointer (task, decision, (GDestroyNotify) lt_on_demand_decision_free);
}

static void
query_send_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  QueryData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  gboolean truncated = FALSE;
  guint status;

  body = lt_outbound_send_finish (SOUP_SESSION (source), result, &truncated, &error);
  status = soup_message_get_status (data->message);

  if (body != NULL)
    {
      gsize length;
      const char *bytes = g_bytes_get_data (body, &length);

      query_return (task, lt_on_demand_decide (status, bytes, length, truncated,
                                               data->rule_formats));
    }
  else if (g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_TIMEOUT) ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    query_return (task, decision_refuse (status, "OnDemandTimeout",
                                         g_strdup_printf (_("The on-demand address did not "
                                                            "answer within %d seconds."),
                                                          LT_ON_DEMAND_TIMEOUT_MS / 1000)));
  else if (g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN))
    query_return (task, decision_refuse (0, "OnDemandUnreachable", forbidden_reason ()));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    query_return (task, decision_refuse (0, "OnDemandUnreachable",
                                         g_strdup (_("The on-demand query was cancelled."))));
  else
    query_return (task, decision_refuse (0, "OnDemandUnreachable",
                                         g_strdup_printf (_("The on-demand address could not "
                                                            "be reached: %s"),
                                                          error->message)));
}

void
lt_on_demand_query_async (SoupSession         *session,
                          const char          *on_demand_url,
                          const char          *domain,
                          const char          *app,
                          const char          *stream,
                          guint                vbitrate_kbps,
                          const char          *codec,
                          GPtrArray           *rule_formats,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  QueryData *data;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (domain != NULL);
  g_return_if_fail (app != NULL);
  g_return_if_fail (stream != NULL);
  g_return_if_fail (rule_formats != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_on_demand_query_async);
  /* The decision is the result even when cancelled: "never fails". */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (QueryData, 1);
  data->rule_formats = g_ptr_array_new_full (rule_formats->len,
                                             (GDestroyNotify) lt_record_format_free);
  for (guint i = 0; i < rule_formats->len; i++)
    g_ptr_array_add (data->rule_formats,
                     lt_record_format_copy (g_ptr_array_index (rule_formats, i)));
  g_task_set_task_data (task, data, (GDestroyNotify) query_data_free);

  if (on_demand_url == NULL || *on_demand_url == '\0')
    {
      query_return (task, decision_refuse (0, "OnDemandNoUrl",
                                           g_strdup (_("No on-demand address is configured "
                                                       "for this domain."))));
      return;
    }

  /* The operator's address is checked as typed, so that the reason quotes it and not
   * the query appended to it. */
  if (lt_outbound_check_url (on_demand_url, &error))
    {
      url = build_url (on_demand_url, domain, app, stream, vbitrate_kbps, codec);
      data->message = lt_outbound_message_new (SOUP_METHOD_GET, url, &error);
    }
  if (data->message == NULL)
    {
      if (g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN))
        query_return (task, decision_refuse (0, "OnDemandUnreachable", forbidden_reason ()));
      else
        query_return (task, decision_refuse (0, "OnDemandNoUrl",
                                             g_strdup_printf (_("The on-demand address is "
                                                                "not a usable http or https "
                                                                "address: %s"),
                                                              error->message)));
      return;
    }

  lt_outbound_send_async (session, data->message, LT_ON_DEMAND_REPLY_MAX_BYTES,
                          LT_ON_DEMAND_TIMEOUT_MS, cancellable, query_send_cb,
                          g_steal_pointer (&task));
}

LtOnDemandDecision *
lt_on_demand_query_finish (GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_on_demand_query_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}

/* lt-api-timeline.c: DescribeLiveStreamRecordContent and DescribeLiveDomainRecordData
 * (SPEC section 5) over the catalog queries of lt-timeline.c.
 *
 * Times are "yyyy-MM-ddTHH:mm:ssZ". The errors have the cloud's codes:
 * InvalidStartTime.Malformed / InvalidEndTime.Malformed (not such a time),
 * InvalidEndTime.Mismatch (EndTime not after StartTime) and
 * InvalidStartTime.ValueNotSupported (the span is longer than the action allows: 4 days
 * for the record content, 90 days for the record data), all with HTTP 400.
 *
 * DescribeLiveStreamRecordContent: {RecordContentInfoList: {RecordContentInfo: [{StartTime,
 * EndTime, Duration (seconds, float), EndReason, OssEndpoint, OssBucket,
 * OssObjectPrefix}]}}; ranges are clipped to the window. An unknown stream has none.
 * DescribeLiveDomainRecordData: {RecordDataInfos: {RecordDataInfo: [{Date (yyyy-MM-dd,
 * UTC), Total, Detail: {TS, MP4, FLV}}]}} in whole seconds, one entry per UTC day of the
 * window; with RecordType, only that format is counted.
 */
#include "config.h"

#include <math.h>

#include "lt-api-index.h"
#include "lt-api-timeline.h"
#include "lt-timeline.h"

#define CONTENT_MAX_SPAN_SECONDS (4 * 24 * 3600)
#define DATA_MAX_SPAN_SECONDS    (90 * 24 * 3600)

static gboolean
parse_window (LtApiRequest *request,
              gint64        max_span,
              gint64       *start,
              gint64       *end)
{
  if (!_lt_api_require_times (request, start, end))
    return FALSE;
  if (*end - *start > max_span)
    {
      g_autofree char *message = g_strdup_printf ("EndTime may be at most %" G_GINT64_FORMAT
                                                  " days after StartTime.",
                                                  max_span / (24 * 3600));

      lt_api_request_return_error_code (request, 400, "InvalidStartTime.ValueNotSupported",
                                        message);
      return FALSE;
    }
  return TRUE;
}

/* DescribeLiveStreamRecordContent ----------------------------------------------------- */

static void
coverage_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ranges = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autoptr(JsonArray) infos = NULL;

  ranges = lt_timeline_query_coverage_finish (LT_CATALOG (source), result, &error);
  if (ranges == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  infos = json_array_new ();
  for (guint i = 0; i < ranges->len; i++)
    {
      const LtTimelineRange *range = g_ptr_array_index (ranges, i);
      JsonObject *info = json_object_new ();
      g_autofree char *start = lt_api_format_time (range->start_us / G_USEC_PER_SEC);
      /* Rounded up, so that the range covers the last partial second. */
      g_autofree char *end = lt_api_format_time ((range->end_us + G_USEC_PER_SEC - 1) /
                                                 G_USEC_PER_SEC);

      json_object_set_string_member (info, "StartTime", start);
      json_object_set_string_member (info, "EndTime", end);
      json_object_set_double_member (info, "Duration",
                                     round (range->duration_us / 1000.0) / 1000.0);
      json_object_set_string_member (info, "EndReason", range->end_reason);
      json_object_set_string_member (info, "OssEndpoint",
                                     range->target != NULL ? range->target : "");
      json_object_set_string_member (info, "OssBucket",
                                     range->bucket != NULL ? range->bucket : "");
      json_object_set_string_member (info, "OssObjectPrefix",
                                     range->object_prefix != NULL ? range->object_prefix : "");
      json_array_add_object_element (infos, info);
    }

  list = json_object_new ();
  json_object_set_array_member (list, "RecordContentInfo", g_steal_pointer (&infos));
  reply = json_object_new ();
  json_object_set_object_member (reply, "RecordContentInfoList", g_steal_pointer (&list));
  lt_api_request_return_result (request, reply);
}

static void
describe_live_stream_record_content (LtApiRequest *request,
                                     gpointer      user_data)
{
  LtCatalog *catalog = user_data;
  const char *domain;
  const char *app;
  const char *stream;
  gint64 start;
  gint64 end;

  if (!_lt_api_require_stream (request, &domain, &app, &stream) ||
      !parse_window (request, CONTENT_MAX_SPAN_SECONDS, &start, &end))
    return;

  lt_timeline_query_coverage_async (catalog, domain, app, stream,
                                    start * G_USEC_PER_SEC, end * G_USEC_PER_SEC, NULL,
                                    coverage_cb, lt_api_request_ref (request));
}

/* DescribeLiveDomainRecordData -------------------------------------------------------- */

static gint64
whole_seconds (gint64 us)
{
  return (us + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
}

static void
daily_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtApiRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) days = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autoptr(JsonArray) infos = NULL;

  days = lt_timeline_query_daily_finish (LT_CATALOG (source), result, &error);
  if (days == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  infos = json_array_new ();
  for (guint i = 0; i < days->len; i++)
    {
      const LtTimelineDay *day = &g_array_index (days, LtTimelineDay, i);
      g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (day->day);
      g_autofree char *date_text = g_date_time_format (date, "%Y-%m-%d");
      JsonObject *info = json_object_new ();
      JsonObject *detail = json_object_new ();
      gint64 ts = whole_seconds (day->ts_us);
      gint64 mp4 = whole_seconds (day->mp4_us);
      gint64 flv = whole_seconds (day->flv_us);

      json_object_set_int_member (detail, "TS", ts);
      json_object_set_int_member (detail, "MP4", mp4);
      json_object_set_int_member (detail, "FLV", flv);
      json_object_set_string_member (info, "Date", date_text);
      json_object_set_int_member (info, "Total", ts + mp4 + flv);
      json_object_set_object_member (info, "Detail", detail);
      json_array_add_object_element (infos, info);
    }

  list = json_object_new ();
  json_object_set_array_member (list, "RecordDataInfo", g_steal_pointer (&infos));
  reply = json_object_new ();
  json_object_set_object_member (reply, "RecordDataInfos", g_steal_pointer (&list));
  lt_api_request_return_result (request, reply);
}

static void
describe_live_domain_record_data (LtApiRequest *request,
                                  gpointer      user_data)
{
  LtCatalog *catalog = user_data;
  g_autoptr(GError) error = NULL;
  LtTimelineFormats formats = LT_TIMELINE_FORMAT_ALL;
  const char *domain;
  const char *record_type;
  gint64 start;
  gint64 end;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  record_type = lt_api_request_get_param (request, "RecordType");
  if (record_type != NULL && *record_type != '\0')
    {
      if (g_ascii_strcasecmp (record_type, "TS") == 0)
        formats = LT_TIMELINE_FORMAT_TS;
      else if (g_ascii_strcasecmp (record_type, "MP4") == 0)
        formats = LT_TIMELINE_FORMAT_MP4;
      else if (g_ascii_strcasecmp (record_type, "FLV") == 0)
        formats = LT_TIMELINE_FORMAT_FLV;
      else
        {
          g_autoptr(GError) bad = g_error_new (LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                                               "RecordType must be TS, MP4 or FLV.");

          lt_api_request_return_error (request, bad);
          return;
        }
    }
  if (!parse_window (request, DATA_MAX_SPAN_SECONDS, &start, &end))
    return;

  lt_timeline_query_daily_async (catalog, domain, start * G_USEC_PER_SEC,
                                 end * G_USEC_PER_SEC, formats, NULL, daily_cb,
                                 lt_api_request_ref (request));
}

void
lt_api_timeline_register (LtApiServer *server,
                          LtCatalog   *catalog)
{
  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_CATALOG (catalog));

  lt_api_server_add_action (server, "DescribeLiveStreamRecordContent",
                            describe_live_stream_record_content, g_object_ref (catalog),
                            g_object_unref);
  lt_api_server_add_action (server, "DescribeLiveDomainRecordData",
                            describe_live_domain_record_data, g_object_ref (catalog),
                            g_object_unref);
}

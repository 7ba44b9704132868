/* lt-api-streams.c: DescribeLiveStreamsOnlineList (SPEC section 5) over the stream
 * registry.
 *
 * The reply has the cloud's shape ({TotalNum, TotalPage, PageNum, PageSize,
 * OnlineInfo: {LiveStreamOnlineInfo: [...]}}) and the cloud's field names where Livetape
 * knows the fact: DomainName, AppName, StreamName, PublishTime, PublishUrl, PublishDomain,
 * PublishType, StreamUrlArgs, Transcoded, ClientIp, Width, Height, FrameRate,
 * VideoCodecId / AudioCodecId (the FLV codec ids the cloud uses: 7 H.264, 12 H.265,
 * 10 AAC, 2 MP3). What the cloud has no field for has a plain name: SourceKind
 * (push / pull / demo), VideoCodec / AudioCodec (names), Bitrate (kbit/s, the whole
 * stream) and RecordState ("not_recording", "recording", "paused", … see
 * lt_recording_state_to_string()), with RecordReasonCode / RecordReason saying why not or
 * what failed, and RecordFormats. Unknown facts are left out rather than reported as 0.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lt-api-streams.h"

#define PAGE_SIZE_DEFAULT 2000
#define PAGE_SIZE_MAX     3000

static const char *
optional_param (LtApiRequest *request,
                const char   *name)
{
  const char *value = lt_api_request_get_param (request, name);

  return value != NULL && *value != '\0' ? value : NULL;
}

static int
flv_video_codec_id (const char *codec)
{
  if (g_strcmp0 (codec, "h264") == 0)
    return 7;
  if (g_strcmp0 (codec, "h265") == 0)
    return 12;
  return -1;
}

static int
flv_audio_codec_id (const char *codec)
{
  if (g_strcmp0 (codec, "aac") == 0)
    return 10;
  if (g_strcmp0 (codec, "mp3") == 0)
    return 2;
  return -1;
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  LtStream *sa = *(LtStream **) a;
  LtStream *sb = *(LtStream **) b;

  return strcmp (lt_stream_get_key (sa), lt_stream_get_key (sb));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static char *
url_args (LtStream *stream)
{
  GHashTable *args = lt_stream_get_publish_args (stream);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, args);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *name = g_ptr_array_index (keys, i);
      const char *value = g_hash_table_lookup (args, name);
      g_autofree char *escaped_name = g_uri_escape_string (name, NULL, FALSE);
      g_autofree char *escaped_value = g_uri_escape_string (value, NULL, FALSE);

      g_string_append_printf (out, "%s%s=%s", out->len > 0 ? "&" : "",
                              escaped_name, escaped_value);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct
{
  LtStreamRegistry   *registry;
  LtRecordingManager *recordings;
} Context;

static void
context_free (gpointer data)
{
  Context *context = data;

  g_object_unref (context->registry);
  g_clear_object (&context->recordings);
  g_free (context);
}

static JsonObject *
stream_to_info (Context  *context,
                LtStream *stream)
{
  JsonObject *info = json_object_new ();
  GDateTime *since = lt_stream_get_online_since (stream);
  LtStreamSourceKind kind = lt_stream_get_source_kind (stream);
  const char *video = lt_stream_get_video_codec (stream);
  const char *audio = lt_stream_get_audio_codec (stream);
  const char *uri = lt_stream_get_source_uri (stream);
  g_autofree char *args = url_args (stream);

  json_object_set_string_member (info, "DomainName", lt_stream_get_domain (stream));
  json_object_set_string_member (info, "AppName", lt_stream_get_app (stream));
  json_object_set_string_member (info, "StreamName", lt_stream_get_name (stream));
  if (since != NULL)
    {
      g_autofree char *time = lt_api_format_time (g_date_time_to_unix (since));

      json_object_set_string_member (info, "PublishTime", time);
    }
  if (uri != NULL)
    json_object_set_string_member (info, "PublishUrl", uri);
  json_object_set_string_member (info, "PublishDomain", lt_stream_get_domain (stream));
  /* The cloud says "edge" for streams pushed to it; the demo publishes like a pusher. */
  json_object_set_string_member (info, "PublishType",
                                 kind == LT_STREAM_SOURCE_PULL ? "pull" : "edge");
  json_object_set_string_member (info, "SourceKind", lt_stream_source_kind_to_string (kind));
  json_object_set_string_member (info, "StreamUrlArgs", args);
  json_object_set_string_member (info, "Transcoded", "no");
  if (lt_stream_get_remote_address (stream) != NULL)
    json_object_set_string_member (info, "ClientIp", lt_stream_get_remote_address (stream));

  if (video != NULL)
    {
      json_object_set_string_member (info, "VideoCodec", video);
      if (flv_video_codec_id (video) >= 0)
        json_object_set_int_member (info, "VideoCodecId", flv_video_codec_id (video));
    }
  if (audio != NULL)
    {
      json_object_set_string_member (info, "AudioCodec", audio);
      if (flv_audio_codec_id (audio) >= 0)
        json_object_set_int_member (info, "AudioCodecId", flv_audio_codec_id (audio));
    }
  if (lt_stream_get_width (stream) > 0 && lt_stream_get_height (stream) > 0)
    {
      json_object_set_int_member (info, "Width", lt_stream_get_width (stream));
      json_object_set_int_member (info, "Height", lt_stream_get_height (stream));
    }
  if (lt_stream_get_fps (stream) > 0)
    json_object_set_int_member (info, "FrameRate", (gint64) round (lt_stream_get_fps (stream)));
  if (lt_stream_get_bitrate (stream) > 0)
    json_object_set_int_member (info, "Bitrate", lt_stream_get_bitrate (stream));

  {
    LtRecording *recording = context->recordings != NULL
      ? lt_recording_manager_lookup (context->recordings, lt_stream_get_key (stream)) : NULL;
    LtRecordingState state = recording != NULL ? lt_recording_get_state (recording)
                                               : LT_RECORDING_STATE_NOT_RECORDING;

    json_object_set_string_member (info, "RecordState", lt_recording_state_to_string (state));
    /* Why not, or what went wrong: the reason code when there is one, and the sentence. */
    if (recording != NULL && lt_recording_get_reason_code (recording) != NULL)
      json_object_set_string_member (info, "RecordReasonCode",
                                     lt_recording_get_reason_code (recording));
    if (recording != NULL && lt_recording_get_reason (recording) != NULL)
      json_object_set_string_member (info, "RecordReason", lt_recording_get_reason (recording));
    if (recording != NULL && lt_recording_get_formats (recording)[0] != NULL)
      {
        g_autofree char *formats = g_strjoinv (",", (char **) lt_recording_get_formats (recording));

        json_object_set_string_member (info, "RecordFormats", formats);
      }
  }

  return info;
}

static void
describe_live_streams_online_list (LtApiRequest *request,
                                   gpointer      user_data)
{
  Context *context = user_data;
  GListModel *streams = G_LIST_MODEL (context->registry);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(JsonObject) online = NULL;
  g_autoptr(JsonArray) infos = NULL;
  const char *domain;
  const char *app;
  const char *name;
  gint64 page_num;
  gint64 page_size;
  guint64 first;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL)
    {
      lt_api_request_return_error (request, error);
      return;
    }
  app = optional_param (request, "AppName");
  name = optional_param (request, "StreamName");

  if (!lt_api_request_get_int_param (request, "PageNum", 1, 1, G_MAXINT32, &page_num, &error) ||
      !lt_api_request_get_int_param (request, "PageSize", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX,
                                     &page_size, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }

  matches = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (streams); i++)
    {
      g_autoptr(LtStream) stream = g_list_model_get_item (streams, i);

      /* Domain names are case-insensitive; app and stream names are not. */
      if (g_ascii_strcasecmp (lt_stream_get_domain (stream), domain) != 0)
        continue;
      if (app != NULL && strcmp (lt_stream_get_app (stream), app) != 0)
        continue;
      if (name != NULL && strcmp (lt_stream_get_name (stream), name) != 0)
        continue;
      g_ptr_array_add (matches, g_steal_pointer (&stream));
    }
  /* A stable order, so that pages do not overlap. */
  g_ptr_array_sort (matches, compare_keys);

  infos = json_array_new ();
  first = (guint64) (page_num - 1) * (guint64) page_size;
  for (guint64 i = first; i < matches->len && i < first + (guint64) page_size; i++)
    json_array_add_object_element (infos, stream_to_info (context, g_ptr_array_index (matches, i)));

  online = json_object_new ();
  json_object_set_array_member (online, "LiveStreamOnlineInfo", g_steal_pointer (&infos));

  result = json_object_new ();
  json_object_set_int_member (result, "PageNum", page_num);
  json_object_set_int_member (result, "PageSize", page_size);
  json_object_set_int_member (result, "TotalNum", matches->len);
  json_object_set_int_member (result, "TotalPage", (matches->len + page_size - 1) / page_size);
  json_object_set_object_member (result, "OnlineInfo", g_steal_pointer (&online));

  lt_api_request_return_result (request, result);
}

void
lt_api_streams_register (LtApiServer        *server,
                         LtStreamRegistry   *registry,
                         LtRecordingManager *recordings)
{
  Context *context;

  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_STREAM_REGISTRY (registry));
  g_return_if_fail (recordings == NULL || LT_IS_RECORDING_MANAGER (recordings));

  context = g_new0 (Context, 1);
  context->registry = g_object_ref (registry);
  context->recordings = recordings != NULL ? g_object_ref (recordings) : NULL;
  lt_api_server_add_action (server, "DescribeLiveStreamsOnlineList",
                            describe_live_streams_online_list, context, context_free);
}

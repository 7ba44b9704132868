/* lt-stream-text.c: the console's wording for streams, pull sources and recordings (see
 * lt-stream-text.h). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-stream-text.h"

const char *
lt_stream_text_codec (const char *codec)
{
  static const struct { const char *id; const char *name; } names[] = {
    { "h264", "H.264" }, { "h265", "H.265" }, { "mpeg4", "MPEG-4" },
    { "aac", "AAC" }, { "mp3", "MP3" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_strcmp0 (codec, names[i].id) == 0)
        return names[i].name;
    }
  return codec;
}

const char *
lt_stream_text_kind (LtStreamSourceKind kind)
{
  switch (kind)
    {
    case LT_STREAM_SOURCE_PULL:
      return C_("stream source", "Pull");
    case LT_STREAM_SOURCE_DEMO:
      return C_("stream source", "Demo");
    case LT_STREAM_SOURCE_PUSH:
    default:
      return C_("stream source", "Push");
    }
}

const char *
lt_stream_text_kind_icon (LtStreamSourceKind kind)
{
  switch (kind)
    {
    case LT_STREAM_SOURCE_PULL:
      return "folder-download-symbolic";
    case LT_STREAM_SOURCE_DEMO:
      return "video-display-symbolic";
    case LT_STREAM_SOURCE_PUSH:
    default:
      return "send-to-symbolic";
    }
}

char *
lt_stream_text_identity (const char *domain,
                         const char *app,
                         const char *stream)
{
  return g_strdup_printf ("%s/%s/%s", domain, app, stream);
}

static void
add_media (GPtrArray *parts,
           LtStream  *stream)
{
  const char *video = lt_stream_get_video_codec (stream);
  const char *audio = lt_stream_get_audio_codec (stream);

  if (!lt_stream_get_has_media_info (stream))
    {
      g_ptr_array_add (parts, g_strdup (_("Waiting for media information…")));
      return;
    }

  if (video != NULL && audio != NULL)
    /* TRANSLATORS: video codec + audio codec, e.g. "H.264 + AAC" */
    g_ptr_array_add (parts, g_strdup_printf (_("%s + %s"), lt_stream_text_codec (video),
                                             lt_stream_text_codec (audio)));
  else if (video != NULL)
    g_ptr_array_add (parts, g_strdup_printf (_("%s, no audio"), lt_stream_text_codec (video)));
  else if (audio != NULL)
    g_ptr_array_add (parts, g_strdup_printf (_("%s, no video"), lt_stream_text_codec (audio)));

  if (lt_stream_get_width (stream) > 0 && lt_stream_get_height (stream) > 0)
    g_ptr_array_add (parts, g_strdup_printf ("%u×%u", lt_stream_get_width (stream),
                                             lt_stream_get_height (stream)));
  if (lt_stream_get_fps (stream) > 0)
    /* TRANSLATORS: frames per second */
    g_ptr_array_add (parts, g_strdup_printf (_("%.3g fps"), lt_stream_get_fps (stream)));
}

static char *
join_parts (GPtrArray *parts)
{
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (" · ", (char **) parts->pdata);
}

char *
lt_stream_text_media (LtStream *stream)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  add_media (parts, stream);
  return join_parts (parts);
}

char *
lt_stream_text_describe (LtStream *stream)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  GDateTime *since = lt_stream_get_online_since (stream);

  g_ptr_array_add (parts, g_strdup (lt_stream_text_kind (lt_stream_get_source_kind (stream))));
  add_media (parts, stream);
  if (lt_stream_get_bitrate (stream) > 0)
    g_ptr_array_add (parts, g_strdup_printf (_("%u kbit/s"), lt_stream_get_bitrate (stream)));
  if (since != NULL)
    {
      g_autoptr(GDateTime) local = g_date_time_to_local (since);
      g_autofree char *time = g_date_time_format (local, "%X");

      /* TRANSLATORS: %s is a time of day */
      g_ptr_array_add (parts, g_strdup_printf (_("online since %s"), time));
    }

  return join_parts (parts);
}

char *
lt_stream_text_duration (gint64 usec)
{
  gint64 seconds = MAX (usec, 0) / G_USEC_PER_SEC;

  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                            (int) (seconds / 60 % 60), (int) (seconds % 60));
  return g_strdup_printf ("%d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}

/* Seconds left until @deadline, rounded up: a countdown shows 0:01 in its last second. */
static gint64
remaining (gint64 deadline,
           gint64 now)
{
  gint64 left = deadline - now;

  return left <= 0 ? 0 : (left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC * G_USEC_PER_SEC;
}

const char *
lt_stream_text_format (const char *format)
{
  if (g_strcmp0 (format, "m3u8") == 0)
    return _("HLS (M3U8)");
  if (g_strcmp0 (format, "mp4") == 0)
    return "MP4";
  if (g_strcmp0 (format, "flv") == 0)
    return "FLV";
  if (g_strcmp0 (format, "cmaf") == 0)
    return "CMAF";
  return format;
}

const char *
lt_stream_text_state (LtRecordingState state)
{
  switch (state)
    {
    case LT_RECORDING_STATE_STARTING:
      return C_("recording state", "Starting");
    case LT_RECORDING_STATE_RECORDING:
      return C_("recording state", "Recording");
    case LT_RECORDING_STATE_PAUSED:
      return C_("recording state", "Paused");
    case LT_RECORDING_STATE_SUSPENDED:
      return C_("recording state", "Suspended");
    case LT_RECORDING_STATE_STOPPING:
      return C_("recording state", "Stopping");
    case LT_RECORDING_STATE_FAILED:
      return C_("recording state", "Failed");
    case LT_RECORDING_STATE_NOT_RECORDING:
    default:
      return C_("recording state", "Not Recording");
    }
}

const char *
lt_stream_text_state_icon (LtRecordingState state)
{
  switch (state)
    {
    case LT_RECORDING_STATE_STARTING:
    case LT_RECORDING_STATE_RECORDING:
      return "media-record-symbolic";
    case LT_RECORDING_STATE_PAUSED:
      return "media-playback-pause-symbolic";
    case LT_RECORDING_STATE_SUSPENDED:
      return "dialog-warning-symbolic";
    case LT_RECORDING_STATE_STOPPING:
      return "document-save-symbolic";
    case LT_RECORDING_STATE_FAILED:
      return "dialog-error-symbolic";
    case LT_RECORDING_STATE_NOT_RECORDING:
    default:
      return NULL;
    }
}

static const char *
trigger_text (LtRecordingTrigger trigger)
{
  switch (trigger)
    {
    case LT_RECORDING_TRIGGER_AUTO:
      return _("Started by a rule.");
    case LT_RECORDING_TRIGGER_PUSH_ARG:
      return _("Started by the publisher (record=1).");
    case LT_RECORDING_TRIGGER_MANUAL:
      return _("Started by the operator.");
    case LT_RECORDING_TRIGGER_SCHEDULED:
      return _("Started by a rule’s schedule.");
    case LT_RECORDING_TRIGGER_ON_DEMAND:
      return _("Started because the on-demand address said so.");
    case LT_RECORDING_TRIGGER_NONE:
    default:
      return NULL;
    }
}

char *
lt_stream_text_recording (LtRecording *recording,
                          gboolean     online,
                          gint64       now)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  const char *reason = lt_recording_get_reason (recording);
  gint64 highlight = lt_recording_get_highlight_deadline (recording);
  const char *trigger = trigger_text (lt_recording_get_trigger (recording));

  switch (lt_recording_get_state (recording))
    {
    case LT_RECORDING_STATE_STARTING:
      g_ptr_array_add (parts, g_strdup (_("Waiting for the first keyframe…")));
      break;

    case LT_RECORDING_STATE_RECORDING:
      {
        g_autofree char *duration = lt_stream_text_duration (lt_recording_get_duration (recording));

        /* TRANSLATORS: %s is a duration such as 1:23 */
        g_ptr_array_add (parts, g_strdup_printf (_("%s recorded."), duration));
      }
      break;

    case LT_RECORDING_STATE_PAUSED:
      {
        gint64 deadline = lt_recording_get_pause_deadline (recording);
        g_autofree char *left = lt_stream_text_duration (remaining (deadline, now));

        /* While online, the operator stopped it (a stream that left is offline). */
        if (online && deadline > 0)
          /* TRANSLATORS: %s is a countdown such as 2:41 */
          g_ptr_array_add (parts, g_strdup_printf (_("Stopped. The files close in %s unless "
                                                     "recording starts again."), left));
        else if (online)
          g_ptr_array_add (parts, g_strdup (_("Stopped.")));
        else if (deadline > 0)
          /* TRANSLATORS: %s is a countdown such as 2:41 */
          g_ptr_array_add (parts, g_strdup_printf (_("The stream is offline. The files close "
                                                     "in %s unless it comes back."), left));
        else
          g_ptr_array_add (parts, g_strdup (_("The stream is offline.")));
        trigger = NULL;
      }
      break;

    case LT_RECORDING_STATE_STOPPING:
      g_ptr_array_add (parts, g_strdup (_("Closing the files…")));
      trigger = NULL;
      break;

    case LT_RECORDING_STATE_SUSPENDED:
    case LT_RECORDING_STATE_FAILED:
    case LT_RECORDING_STATE_NOT_RECORDING:
    default:
      return g_strdup (reason != NULL ? reason : _("No recording is running."));
    }

  if (highlight > 0)
    {
      g_autofree char *left = lt_stream_text_duration (remaining (highlight, now));

      /* TRANSLATORS: a highlight clip (RealTimeRecordCommand with Duration); %s is a
       * countdown */
      g_ptr_array_add (parts, g_strdup_printf (_("The highlight stops in %s."), left));
    }
  if (trigger != NULL)
    g_ptr_array_add (parts, g_strdup (trigger));

  /* Sentences, one after the other. */
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (" ", (char **) parts->pdata);
}

char *
lt_stream_text_badge (LtRecording *recording,
                      gint64       now)
{
  LtRecordingState state = lt_recording_get_state (recording);

  if (state == LT_RECORDING_STATE_PAUSED && lt_recording_get_pause_deadline (recording) > 0)
    {
      g_autofree char *left =
        lt_stream_text_duration (remaining (lt_recording_get_pause_deadline (recording), now));

      /* TRANSLATORS: a recording paused in the merge window, with the countdown */
      return g_strdup_printf (_("Paused · %s"), left);
    }
  return g_strdup (lt_stream_text_state (state));
}

char *
lt_stream_text_file (LtRecording *recording,
                     const char  *format)
{
  const LtRecordingFile *file = lt_recording_get_current_file (recording, format);
  g_autofree char *name = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *size = NULL;
  guint64 bytes;
  GStatBuf st;

  if (file == NULL)
    {
      switch (lt_recording_get_state (recording))
        {
        case LT_RECORDING_STATE_STARTING:
        case LT_RECORDING_STATE_RECORDING:
          return g_strdup (_("Waiting for the first file…"));
        case LT_RECORDING_STATE_STOPPING:
          return g_strdup (_("Closing the files…"));
        default:
          return g_strdup (_("No open file"));
        }
    }

  /* MP4 and FLV report their size when they close; the file on disk grows meanwhile.
   * A stat a second, for the stream on screen only, is cheap. */
  bytes = file->size;
  if (file->path != NULL && g_stat (file->path, &st) == 0 && (guint64) st.st_size > bytes)
    bytes = st.st_size;
  /* Content of the closed slices for HLS; a file that reports no duration while it is
   * open shows the session's content (exact for a session's first cycle, and it stands
   * still while paused, as the file does). */
  duration = lt_stream_text_duration (file->duration > 0 ? file->duration
                                      : lt_recording_get_duration (recording));
  size = g_format_size (bytes);
  name = g_path_get_basename (file->path != NULL ? file->path : "");

  return g_strdup_printf ("%s · %s · %s", name, duration, size);
}

char *
lt_stream_text_pull_state (LtPullSource *source)
{
  const char *error = lt_pull_source_get_last_error (source);

  switch (lt_pull_source_get_state (source))
    {
    case LT_PULL_SOURCE_STATE_ONLINE:
      return g_strdup (C_("pull source", "Online"));
    case LT_PULL_SOURCE_STATE_CONNECTING:
      return g_strdup (_("Connecting…"));
    case LT_PULL_SOURCE_STATE_WAITING:
      {
        guint delay = (lt_pull_source_get_retry_delay (source) + 999) / 1000;

        if (error != NULL)
          return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Retrying in %u second: %s",
                                               "Retrying in %u seconds: %s", delay),
                                  delay, error);
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Retrying in %u second",
                                             "Retrying in %u seconds", delay), delay);
      }
    case LT_PULL_SOURCE_STATE_DISABLED:
    default:
      return g_strdup (C_("pull source", "Off"));
    }
}

/* lt-pull-source.c: one operator-added source, republished as MPEG-TS on a loopback SRT
 * listener (see lt-pull-source.h for the design).
 *
 * One attempt = one pipeline:
 *   urisourcebin ─(per pad)→ parsebin ─(per supported stream)→ queue → mpegtsmux → srtsink
 *                                     └(anything else)→ fakesink
 * Streaming threads only count bytes and post application messages to the bus; the bus
 * watch (main context) turns them into state, the LtStream and registry changes.
 */
#define G_LOG_DOMAIN "lt-pull"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gst/gst.h>
#include <string.h>

#include "lt-pull-source.h"

#define BACKOFF_MIN_MS        1000
#define BACKOFF_MAX_MS        30000
/* Online this long: the next failure starts the backoff over. */
#define STABLE_ONLINE_US      (10 * G_USEC_PER_SEC)
#define TICK_MS               500
#define BITRATE_WINDOW_US     (2 * G_USEC_PER_SEC)
#define MEDIA_INFO_WAIT_US    (2 * G_USEC_PER_SEC)
/* How long to wait for a second stream before muxing the first alone: nginx sends audio
 * up to a GOP before the first video frame. */
#define SETTLE_MS             4000
#define DEFAULT_STALL_S       10
#define DEFAULT_CONNECT_S     20
/* rtmp2src otherwise waits forever for a stream that is not published. */
#define RTMP_IDLE_TIMEOUT_S   10
/* Demuxers interleave audio and video by up to a few seconds (nginx sends up to a GOP of
 * audio first); the muxer waits for both, so each branch may hold this much. */
#define BRANCH_QUEUE_NS       (10 * GST_SECOND)

#define MSG_ONLINE            "lt-pull-online"
#define MSG_STREAM            "lt-pull-stream"

typedef struct
{
  GstElement *pipeline;
  GstElement *mux;
  GstElement *sink;
  gint        online_posted;   /* atomic */
  GMutex      lock;
  guint64     bytes;           /* elementary stream bytes, under lock */
  GPtrArray  *waiting;         /* Branch, under lock: not yet linked to the muxer */
  gboolean    muxing;          /* under lock: branches go straight to the muxer */
  guint       settle_id;       /* main context */

  /* main context only */
  gint64      started_at;
  gint64      online_at;
  gint64      last_progress;
  guint64     last_bytes;
  gint64      base_time;
  guint64     base_bytes;
  char       *video_codec;
  char       *audio_codec;
  guint       width;
  guint       height;
  double      fps;
} Attempt;

struct _LtPullSource
{
  GObject            parent_instance;

  LtStreamRegistry  *registry;
  char              *uri;
  char              *domain;
  char              *app;
  char              *name;
  gboolean           pace;            /* file:// and HLS: real time at the sink */
  gboolean           srt_listener;    /* waits for its caller: no connect timeout */

  gboolean           enabled;
  LtPullSourceState  state;
  char              *last_error;
  LtStream          *stream;
  guint              srt_port;
  guint              stall_s;
  guint              connect_s;

  Attempt           *attempt;
  guint              tick_id;
  guint              retry_id;
  guint              retry_delay;
  guint              backoff_ms;
};

G_DEFINE_FINAL_TYPE (LtPullSource, lt_pull_source, G_TYPE_OBJECT)

G_DEFINE_QUARK (lt-pull-source-error-quark, lt_pull_source_error)

enum {
  PROP_0,
  PROP_REGISTRY,
  PROP_URI,
  PROP_DOMAIN,
  PROP_APP,
  PROP_NAME,
  PROP_ENABLED,
  PROP_STATE,
  PROP_LAST_ERROR,
  PROP_STREAM,
  PROP_RETRY_DELAY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* A stream on its way to the muxer: parsebin → queue [→ parser] → (tail) → mpegtsmux. */
typedef struct
{
  GstPad *tail;        /* src pad of the branch's last element */
  gulong  block_id;    /* probe holding the data while the tail is not linked */
} Branch;

static void start_attempt (LtPullSource *self);

gboolean
lt_pull_source_check_uri (const char  *uri,
                          GError     **error)
{
  static const char * const schemes[] = {
    "rtmp", "rtmps", "rtsp", "rtsps", "srt", "http", "https", "file",
  };
  g_autofree char *protocol = NULL;
  g_autofree char *scheme = NULL;

  if (uri == NULL || !gst_uri_is_valid (uri))
    {
      g_set_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_INVALID_URI,
                   _("“%s” is not a valid URL"), uri ? uri : "");
      return FALSE;
    }

  protocol = gst_uri_get_protocol (uri);
  scheme = g_ascii_strdown (protocol, -1);
  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_str_equal (scheme, schemes[i]))
      return TRUE;

  g_set_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME,
               _("Unsupported source type “%s” (use rtmp, rtsp, srt, http(s) or file)"),
               scheme);
  return FALSE;
}

/* ---- state ---- */

static void
set_state (LtPullSource      *self,
           LtPullSourceState  state)
{
  if (self->state == state)
    return;

  g_debug ("%s: state %d → %d", self->uri, self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_last_error (LtPullSource *self,
                const char   *message)
{
  if (g_strcmp0 (self->last_error, message) == 0)
    return;

  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

static void
set_retry_delay (LtPullSource *self,
                 guint         delay)
{
  if (self->retry_delay == delay)
    return;

  self->retry_delay = delay;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY]);
}

/* ---- streaming threads: classify streams, count bytes, post messages ---- */

/* The codec name of @caps (see lt-stream.h) and whether it is video. */
static char *
codec_from_caps (const GstCaps *caps,
                 gboolean      *is_video,
                 gboolean      *is_audio)
{
  const GstStructure *s;
  const char *media;
  int version = 0;
  int layer = 0;

  *is_video = *is_audio = FALSE;
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return NULL;

  s = gst_caps_get_structure (caps, 0);
  media = gst_structure_get_name (s);
  *is_video = g_str_has_prefix (media, "video/");
  *is_audio = g_str_has_prefix (media, "audio/");

  if (g_str_equal (media, "video/x-h264"))
    return g_strdup ("h264");
  if (g_str_equal (media, "video/x-h265"))
    return g_strdup ("h265");
  if (g_str_equal (media, "video/mpeg"))
    {
      gboolean system = FALSE;

      gst_structure_get_int (s, "mpegversion", &version);
      gst_structure_get_boolean (s, "systemstream", &system);
      if (version == 4 && !system)
        return g_strdup ("mpeg4");
      return g_strdup_printf ("mpeg%dvideo", version);
    }
  if (g_str_equal (media, "audio/mpeg"))
    {
      gst_structure_get_int (s, "mpegversion", &version);
      if (version == 2 || version == 4)
        return g_strdup ("aac");
      gst_structure_get_int (s, "layer", &layer);
      if (layer == 3)
        return g_strdup ("mp3");
      return g_strdup_printf ("mp%d", layer);
    }

  /* "video/x-vp9" → "vp9", "audio/x-opus" → "opus" */
  if (strchr (media, '/') != NULL)
    {
      const char *sub = strchr (media, '/') + 1;

      if (g_str_has_prefix (sub, "x-"))
        sub += 2;
      return g_strdup (sub);
    }

  return g_strdup (media);
}

static void
post_stream_info (GstElement    *pipeline,
                  const GstCaps *caps)
{
  const GstStructure *s;
  g_autofree char *codec = NULL;
  gboolean is_video;
  gboolean is_audio;
  int width = 0;
  int height = 0;
  int fps_n = 0;
  int fps_d = 1;

  codec = codec_from_caps (caps, &is_video, &is_audio);
  if (codec == NULL || (!is_video && !is_audio))
    return;

  s = gst_caps_get_structure (caps, 0);
  gst_structure_get_int (s, "width", &width);
  gst_structure_get_int (s, "height", &height);
  gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d);

  gst_element_post_message (pipeline,
    gst_message_new_application (GST_OBJECT (pipeline),
      gst_structure_new (MSG_STREAM,
                         "codec", G_TYPE_STRING, codec,
                         "video", G_TYPE_BOOLEAN, is_video,
                         "width", G_TYPE_INT, width,
                         "height", G_TYPE_INT, height,
                         "fps", G_TYPE_DOUBLE, fps_d > 0 ? (double) fps_n / fps_d : 0.0,
                         NULL)));
}

static GstPadProbeReturn
count_bytes_probe_cb (GstPad          *pad,
                      GstPadProbeInfo *info,
                      gpointer         user_data)
{
  Attempt *attempt = user_data;
  gsize size;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    size = gst_buffer_list_calculate_size (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
  else
    size = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));

  g_mutex_lock (&attempt->lock);
  attempt->bytes += size;
  g_mutex_unlock (&attempt->lock);

  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
caps_probe_cb (GstPad          *pad,
               GstPadProbeInfo *info,
               gpointer         user_data)
{
  Attempt *attempt = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    {
      GstCaps *caps = NULL;

      gst_event_parse_caps (event, &caps);
      post_stream_info (attempt->pipeline, caps);
    }

  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
first_output_probe_cb (GstPad          *pad,
                       GstPadProbeInfo *info,
                       gpointer         user_data)
{
  Attempt *attempt = user_data;

  if (g_atomic_int_compare_and_exchange (&attempt->online_posted, 0, 1))
    gst_element_post_message (attempt->pipeline,
                              gst_message_new_application (GST_OBJECT (attempt->pipeline),
                                                           gst_structure_new_empty (MSG_ONLINE)));

  return GST_PAD_PROBE_REMOVE;
}

static gboolean
is_supported (const char *codec,
              gboolean    is_video)
{
  return is_video ? lt_stream_video_codec_is_supported (codec)
                  : lt_stream_audio_codec_is_supported (codec);
}

static void
link_to_fakesink (Attempt *attempt,
                  GstPad  *pad)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr(GstPad) sinkpad = NULL;

  /* Added behind a demuxer while playing: must not wait for preroll. */
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (attempt->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
}

static void
parsebin_pad_added_cb (GstElement *parsebin,
                       GstPad     *pad,
                       gpointer    user_data)
{
  Attempt *attempt = user_data;
  g_autoptr(GstCaps) caps = NULL;
  g_autofree char *codec = NULL;
  g_autoptr(GstPad) queue_sink = NULL;
  g_autoptr(GstPad) branch_src = NULL;
  g_autoptr(GstPad) mux_sink = NULL;
  GstElement *parser = NULL;
  GstElement *queue;
  gboolean is_video;
  gboolean is_audio;

  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  codec = codec_from_caps (caps, &is_video, &is_audio);

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, caps_probe_cb, attempt, NULL);

  if (codec == NULL || !(is_video || is_audio) || !is_supported (codec, is_video))
    {
      /* Not forwarded; reported by its codec name through the stream info. */
      post_stream_info (attempt->pipeline, caps);
      link_to_fakesink (attempt, pad);
      return;
    }

  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue,
                "max-size-buffers", 0,
                "max-size-bytes", 0,
                "max-size-time", (guint64) BRANCH_QUEUE_NS,
                NULL);
  gst_bin_add (GST_BIN (attempt->pipeline), queue);

  /* Video gets a parser of its own: parsebin's has fixed its output format (H.264 from
   * FLV or MP4 is "avc", mpegtsmux wants "byte-stream"), and ours repeats the parameter
   * sets before every keyframe, so that a consumer can join at any keyframe and every TS
   * slice the recorder cuts decodes alone. The muxer takes audio as it comes. */
  if (is_video)
    {
      const char *factory = g_str_equal (codec, "h264") ? "h264parse"
                          : g_str_equal (codec, "h265") ? "h265parse"
                          : "mpeg4videoparse";

      parser = gst_element_factory_make (factory, NULL);
      if (parser == NULL)
        {
          GST_ELEMENT_ERROR (attempt->mux, CORE, MISSING_PLUGIN,
                             ("The GStreamer element %s is not installed", factory), (NULL));
          return;
        }
      g_object_set (parser, "config-interval", -1, NULL);
      gst_bin_add (GST_BIN (attempt->pipeline), parser);
      gst_element_sync_state_with_parent (parser);
    }
  gst_element_sync_state_with_parent (queue);

  branch_src = gst_element_get_static_pad (parser != NULL ? parser : queue, "src");
  queue_sink = gst_element_get_static_pad (queue, "sink");
  if ((parser != NULL && !gst_element_link (queue, parser)) ||
      gst_pad_link (pad, queue_sink) != GST_PAD_LINK_OK)
    {
      GST_ELEMENT_ERROR (attempt->mux, STREAM, FORMAT,
                         ("Cannot forward the %s stream", codec), (NULL));
      return;
    }

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     count_bytes_probe_cb, attempt, NULL);

  /* The muxer announces its streams (PMT, and the stream headers the SRT listener gives
   * every new caller) when it starts; a stream linked later is missed by consumers'
   * demuxers. So branches wait, their queue filling, until the set of streams is known
   * (see settle_streams ()); the demuxer's thread is never the one that waits. */
  g_mutex_lock (&attempt->lock);
  if (!attempt->muxing)
    {
      Branch *branch = g_new0 (Branch, 1);

      branch->tail = g_object_ref (branch_src);
      branch->block_id = gst_pad_add_probe (branch_src, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
                                            NULL, NULL, NULL);
      g_ptr_array_add (attempt->waiting, branch);
      g_mutex_unlock (&attempt->lock);
      /* Only now: the main context may start muxing as soon as it knows the stream. */
      post_stream_info (attempt->pipeline, caps);
      return;
    }
  g_mutex_unlock (&attempt->lock);
  post_stream_info (attempt->pipeline, caps);

  /* A latecomer (a second RTSP stream, say): linked at once. */
  mux_sink = gst_element_request_pad_simple (attempt->mux, "sink_%d");
  if (mux_sink == NULL || gst_pad_link (branch_src, mux_sink) != GST_PAD_LINK_OK)
    GST_ELEMENT_ERROR (attempt->mux, STREAM, FORMAT,
                       ("Cannot forward the %s stream", codec), (NULL));
}

static void
branch_free (gpointer data)
{
  Branch *branch = data;

  g_clear_object (&branch->tail);
  g_free (branch);
}

/* Links every waiting branch to the muxer and lets the data flow. Main context. Returns
 * how many streams the muxer got. */
static guint
start_muxing (Attempt *attempt)
{
  g_autoptr(GPtrArray) waiting = NULL;

  g_mutex_lock (&attempt->lock);
  attempt->muxing = TRUE;
  waiting = g_steal_pointer (&attempt->waiting);
  attempt->waiting = g_ptr_array_new_with_free_func (branch_free);
  g_mutex_unlock (&attempt->lock);

  for (guint i = 0; i < waiting->len; i++)
    {
      Branch *branch = g_ptr_array_index (waiting, i);
      g_autoptr(GstPad) mux_sink = gst_element_request_pad_simple (attempt->mux, "sink_%d");

      if (mux_sink == NULL || gst_pad_link (branch->tail, mux_sink) != GST_PAD_LINK_OK)
        GST_ELEMENT_ERROR (attempt->mux, STREAM, FORMAT,
                           ("Cannot forward a stream to the muxer"), (NULL));
      gst_pad_remove_probe (branch->tail, branch->block_id);
    }

  return waiting->len;
}

static void
source_pad_added_cb (GstElement *urisourcebin,
                     GstPad     *pad,
                     gpointer    user_data)
{
  Attempt *attempt = user_data;
  GstElement *parsebin = gst_element_factory_make ("parsebin", NULL);
  g_autoptr(GstPad) sinkpad = NULL;

  g_signal_connect (parsebin, "pad-added", G_CALLBACK (parsebin_pad_added_cb), attempt);
  gst_bin_add (GST_BIN (attempt->pipeline), parsebin);
  gst_element_sync_state_with_parent (parsebin);
  sinkpad = gst_element_get_static_pad (parsebin, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_ELEMENT_ERROR (attempt->mux, STREAM, FORMAT,
                       ("Cannot parse the source's output"), (NULL));
}

static void
source_setup_cb (GstElement *urisourcebin,
                 GstElement *source,
                 gpointer    user_data)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (source), "idle-timeout") != NULL)
    g_object_set (source, "idle-timeout", (guint) RTMP_IDLE_TIMEOUT_S, NULL);
}

/* ---- attempts (main context) ---- */

static void
attempt_free (Attempt *attempt)
{
  g_clear_handle_id (&attempt->settle_id, g_source_remove);
  if (attempt->pipeline != NULL)
    {
      g_autoptr(GstBus) bus = gst_element_get_bus (attempt->pipeline);

      gst_bus_remove_watch (bus);
      /* Shutting down flushes the blocked branches free. */
      gst_element_set_state (attempt->pipeline, GST_STATE_NULL);
      gst_object_unref (attempt->pipeline);
    }
  g_clear_pointer (&attempt->waiting, g_ptr_array_unref);
  g_mutex_clear (&attempt->lock);
  g_free (attempt->video_codec);
  g_free (attempt->audio_codec);
  g_free (attempt);
}

static guint64
attempt_get_bytes (Attempt *attempt)
{
  guint64 bytes;

  g_mutex_lock (&attempt->lock);
  bytes = attempt->bytes;
  g_mutex_unlock (&attempt->lock);

  return bytes;
}

static gboolean
retry_cb (gpointer user_data)
{
  LtPullSource *self = user_data;

  self->retry_id = 0;
  set_retry_delay (self, 0);
  start_attempt (self);

  return G_SOURCE_REMOVE;
}

/* Ends the current attempt; schedules the next one while enabled. @clean_end: the
 * upstream ended the stream normally (EOS after being online). */
static void
end_attempt (LtPullSource *self,
             const char   *reason,
             gboolean      clean_end)
{
  Attempt *attempt = g_steal_pointer (&self->attempt);
  gboolean was_online = attempt != NULL && attempt->online_at != 0;
  gboolean stable = was_online &&
                    g_get_monotonic_time () - attempt->online_at >= STABLE_ONLINE_US;
  guint delay;

  g_debug ("%s: attempt ended: %s", self->uri, reason ? reason : "stopped");

  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_pointer (&attempt, attempt_free);

  if (self->stream != NULL)
    {
      g_autoptr(LtStream) stream = g_steal_pointer (&self->stream);

      lt_stream_registry_remove (self->registry, stream);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAM]);
    }

  set_last_error (self, reason);

  if (!self->enabled)
    {
      set_state (self, LT_PULL_SOURCE_STATE_DISABLED);
      return;
    }

  if (stable || (was_online && clean_end))
    self->backoff_ms = BACKOFF_MIN_MS;
  delay = self->backoff_ms;
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);

  set_state (self, LT_PULL_SOURCE_STATE_WAITING);
  set_retry_delay (self, delay);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_id = g_timeout_add (delay, retry_cb, self);
}

static void
apply_media_info (LtPullSource *self)
{
  Attempt *attempt = self->attempt;

  if (self->stream == NULL || attempt == NULL ||
      (attempt->video_codec == NULL && attempt->audio_codec == NULL))
    return;

  /* Live demuxers expose streams as they show up (nginx sends audio before the first
   * keyframe): both codecs, or whatever came once the start is well past (audio- or
   * video-only sources). */
  if ((attempt->video_codec == NULL || attempt->audio_codec == NULL) &&
      g_get_monotonic_time () - attempt->online_at < MEDIA_INFO_WAIT_US)
    return;

  lt_stream_set_media_info (self->stream, attempt->video_codec, attempt->audio_codec,
                            attempt->width, attempt->height, attempt->fps);
}

static void
go_online (LtPullSource *self)
{
  g_autoptr(LtStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *loopback = NULL;
  Attempt *attempt = self->attempt;

  stream = lt_stream_new (LT_STREAM_SOURCE_PULL, self->domain, self->app, self->name);
  loopback = g_strdup_printf ("srt://127.0.0.1:%u?mode=caller", self->srt_port);
  lt_stream_set_source_uri (stream, self->uri);
  lt_stream_set_loopback_uri (stream, loopback);

  if (!lt_stream_registry_add (self->registry, stream, &error))
    {
      g_autofree char *reason =
        g_strdup_printf (_("The stream %s/%s/%s is already online from another source"),
                         self->domain, self->app, self->name);

      end_attempt (self, reason, FALSE);
      return;
    }

  attempt->online_at = g_get_monotonic_time ();
  attempt->last_progress = attempt->online_at;
  attempt->last_bytes = attempt_get_bytes (attempt);
  attempt->base_time = attempt->online_at;
  attempt->base_bytes = attempt->last_bytes;

  self->stream = g_steal_pointer (&stream);
  apply_media_info (self);
  set_last_error (self, NULL);
  set_state (self, LT_PULL_SOURCE_STATE_ONLINE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAM]);
}

static gboolean settle_timeout_cb (gpointer user_data);

/* Starts muxing once a supported video and a supported audio stream are known, or when
 * no other stream showed up for a while (audio- or video-only sources). */
static void
settle_streams (LtPullSource *self,
                gboolean      timed_out)
{
  Attempt *attempt = self->attempt;
  gboolean muxing;

  g_mutex_lock (&attempt->lock);
  muxing = attempt->muxing;
  g_mutex_unlock (&attempt->lock);
  if (muxing)
    return;

  if (timed_out ||
      (lt_stream_video_codec_is_supported (attempt->video_codec) &&
       lt_stream_audio_codec_is_supported (attempt->audio_codec)))
    {
      g_clear_handle_id (&attempt->settle_id, g_source_remove);
      if (start_muxing (attempt) == 0)
        {
          g_autofree char *found = g_strjoin (", ",
                                              attempt->video_codec ? attempt->video_codec : "",
                                              attempt->audio_codec ? attempt->audio_codec : "",
                                              NULL);
          g_autofree char *reason =
            g_strdup_printf (_("The source has no supported codec (found: %s)"), found);

          end_attempt (self, reason, FALSE);
        }
      return;
    }

  if (attempt->settle_id == 0)
    attempt->settle_id = g_timeout_add (SETTLE_MS, settle_timeout_cb, self);
}

static gboolean
settle_timeout_cb (gpointer user_data)
{
  LtPullSource *self = user_data;

  self->attempt->settle_id = 0;
  settle_streams (self, TRUE);

  return G_SOURCE_REMOVE;
}

static void
handle_stream_info (LtPullSource       *self,
                    const GstStructure *s)
{
  Attempt *attempt = self->attempt;
  const char *codec = gst_structure_get_string (s, "codec");
  gboolean video = FALSE;
  int width = 0;
  int height = 0;
  double fps = 0;

  gst_structure_get_boolean (s, "video", &video);
  gst_structure_get_int (s, "width", &width);
  gst_structure_get_int (s, "height", &height);
  gst_structure_get_double (s, "fps", &fps);

  if (video)
    {
      /* A supported codec wins over another video stream we do not forward. */
      if (attempt->video_codec == NULL || g_str_equal (attempt->video_codec, codec) ||
          !lt_stream_video_codec_is_supported (attempt->video_codec))
        {
          g_free (attempt->video_codec);
          attempt->video_codec = g_strdup (codec);
          attempt->width = MAX (width, 0);
          attempt->height = MAX (height, 0);
          attempt->fps = fps;
        }
    }
  else if (attempt->audio_codec == NULL || g_str_equal (attempt->audio_codec, codec) ||
           !lt_stream_audio_codec_is_supported (attempt->audio_codec))
    {
      g_free (attempt->audio_codec);
      attempt->audio_codec = g_strdup (codec);
    }

  apply_media_info (self);
  settle_streams (self, FALSE);
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    user_data)
{
  LtPullSource *self = user_data;
  Attempt *attempt = self->attempt;

  if (attempt == NULL)
    return G_SOURCE_CONTINUE;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("%s: error from %s: %s (%s)", self->uri, GST_OBJECT_NAME (message->src),
                 error->message, debug ? debug : "");
        /* The listener's port was taken meanwhile: pick another one next time. */
        if (GST_MESSAGE_SRC (message) == GST_OBJECT (attempt->sink))
          self->srt_port = 0;
        end_attempt (self, error->message, FALSE);
        return G_SOURCE_CONTINUE;
      }

    case GST_MESSAGE_EOS:
      end_attempt (self, _("The source ended the stream"), attempt->online_at != 0);
      return G_SOURCE_CONTINUE;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) error = NULL;

        gst_message_parse_warning (message, &error, NULL);
        g_debug ("%s: warning from %s: %s", self->uri, GST_OBJECT_NAME (message->src),
                 error->message);
        return G_SOURCE_CONTINUE;
      }

    case GST_MESSAGE_APPLICATION:
      {
        const GstStructure *s = gst_message_get_structure (message);

        if (gst_structure_has_name (s, MSG_ONLINE) && self->stream == NULL)
          go_online (self);
        else if (gst_structure_has_name (s, MSG_STREAM))
          handle_stream_info (self, s);
        return G_SOURCE_CONTINUE;
      }

    default:
      return G_SOURCE_CONTINUE;
    }
}

static gboolean
tick_cb (gpointer user_data)
{
  LtPullSource *self = user_data;
  Attempt *attempt = self->attempt;
  gint64 now = g_get_monotonic_time ();
  guint64 bytes;

  if (attempt == NULL)
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }

  bytes = attempt_get_bytes (attempt);

  if (attempt->online_at == 0)
    {
      if (self->connect_s > 0 && !self->srt_listener &&
          now - attempt->started_at >= (gint64) self->connect_s * G_USEC_PER_SEC)
        {
          g_autofree char *reason =
            g_strdup_printf (_("No media after %u seconds"), self->connect_s);

          self->tick_id = 0;
          end_attempt (self, reason, FALSE);
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }

  if (bytes != attempt->last_bytes)
    {
      attempt->last_bytes = bytes;
      attempt->last_progress = now;
    }
  else if (now - attempt->last_progress >= (gint64) self->stall_s * G_USEC_PER_SEC)
    {
      g_autofree char *reason =
        g_strdup_printf (_("The source sent nothing for %u seconds"), self->stall_s);

      self->tick_id = 0;
      end_attempt (self, reason, FALSE);
      return G_SOURCE_REMOVE;
    }

  if (self->stream != NULL && !lt_stream_get_has_media_info (self->stream))
    apply_media_info (self);

  if (now - attempt->base_time >= BITRATE_WINDOW_US && self->stream != NULL)
    {
      double seconds = (now - attempt->base_time) / (double) G_USEC_PER_SEC;
      double kbps = (bytes - attempt->base_bytes) * 8.0 / 1000.0 / seconds;

      lt_stream_set_bitrate (self->stream, (guint) (kbps + 0.5));
      attempt->base_time = now;
      attempt->base_bytes = bytes;
    }

  return G_SOURCE_CONTINUE;
}

static guint
pick_free_udp_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  if (socket == NULL)
    return 0;

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (socket, address, FALSE, NULL) ||
      (bound = g_socket_get_local_address (socket, NULL)) == NULL)
    return 0;

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static GstElement *
make_element (const char  *factory,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                 _("The GStreamer element “%s” is not installed"), factory);

  return element;
}

static gboolean
build_pipeline (LtPullSource  *self,
                Attempt       *attempt,
                GError       **error)
{
  g_autofree char *sink_uri = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstPad) mux_src = NULL;
  GstElement *source;

  if (g_str_has_prefix (self->uri, "file:"))
    {
      g_autofree char *path = g_filename_from_uri (self->uri, NULL, NULL);

      if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                       _("File not found: %s"), path ? path : self->uri);
          return FALSE;
        }
    }

  if (self->srt_port == 0 && (self->srt_port = pick_free_udp_port ()) == 0)
    {
      g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                           _("No free port for the loopback listener"));
      return FALSE;
    }

  attempt->pipeline = gst_pipeline_new (NULL);
  gst_object_ref_sink (attempt->pipeline);

  if ((source = make_element ("urisourcebin", error)) == NULL ||
      (attempt->mux = make_element ("mpegtsmux", error)) == NULL ||
      (attempt->sink = make_element ("srtsink", error)) == NULL)
    {
      if (source != NULL)
        gst_object_unref (gst_object_ref_sink (source));
      if (attempt->mux != NULL)
        gst_object_unref (gst_object_ref_sink (g_steal_pointer (&attempt->mux)));
      return FALSE;
    }

  g_object_set (source, "uri", self->uri, NULL);
  g_signal_connect (source, "source-setup", G_CALLBACK (source_setup_cb), attempt);
  g_signal_connect (source, "pad-added", G_CALLBACK (source_pad_added_cb), attempt);

  /* 7 packets per buffer: one SRT payload (1316 bytes). */
  g_object_set (attempt->mux, "alignment", 7, NULL);

  sink_uri = g_strdup_printf ("srt://127.0.0.1:%u?mode=listener", self->srt_port);
  g_object_set (attempt->sink,
                "uri", sink_uri,
                "wait-for-connection", FALSE,
                "sync", self->pace,
                "async", self->pace,
                NULL);

  gst_bin_add_many (GST_BIN (attempt->pipeline), source, attempt->mux, attempt->sink, NULL);
  if (!gst_element_link (attempt->mux, attempt->sink))
    {
      g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                           "Cannot link mpegtsmux to srtsink");
      return FALSE;
    }

  mux_src = gst_element_get_static_pad (attempt->mux, "src");
  /* mpegtsmux pushes lists when it aligns packets. */
  gst_pad_add_probe (mux_src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     first_output_probe_cb, attempt, NULL);

  bus = gst_element_get_bus (attempt->pipeline);
  gst_bus_add_watch (bus, bus_cb, self);

  return TRUE;
}

static void
start_attempt (LtPullSource *self)
{
  g_autoptr(GError) error = NULL;
  Attempt *attempt;

  g_assert (self->attempt == NULL);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  set_retry_delay (self, 0);

  attempt = self->attempt = g_new0 (Attempt, 1);
  g_mutex_init (&attempt->lock);
  attempt->waiting = g_ptr_array_new_with_free_func (branch_free);
  attempt->started_at = g_get_monotonic_time ();

  set_state (self, LT_PULL_SOURCE_STATE_CONNECTING);
  g_debug ("%s: connecting (loopback port %u)", self->uri, self->srt_port);

  if (!build_pipeline (self, attempt, &error))
    {
      end_attempt (self, error->message, FALSE);
      return;
    }

  self->tick_id = g_timeout_add (TICK_MS, tick_cb, self);

  if (gst_element_set_state (attempt->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The reason, if any, is on the bus; make sure the attempt ends anyway. */
      end_attempt (self, _("The source could not be started"), FALSE);
      return;
    }
}

/* ---- GObject ---- */

static void
lt_pull_source_dispose (GObject *object)
{
  LtPullSource *self = LT_PULL_SOURCE (object);

  if (self->registry != NULL)
    lt_pull_source_set_enabled (self, FALSE);

  G_OBJECT_CLASS (lt_pull_source_parent_class)->dispose (object);
}

static void
lt_pull_source_finalize (GObject *object)
{
  LtPullSource *self = LT_PULL_SOURCE (object);

  g_assert (self->attempt == NULL);

  g_clear_object (&self->registry);
  g_free (self->uri);
  g_free (self->domain);
  g_free (self->app);
  g_free (self->name);
  g_free (self->last_error);

  G_OBJECT_CLASS (lt_pull_source_parent_class)->finalize (object);
}

static void
lt_pull_source_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LtPullSource *self = LT_PULL_SOURCE (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_DOMAIN:
      g_value_set_string (value, self->domain);
      break;
    case PROP_APP:
      g_value_set_string (value, self->app);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_STREAM:
      g_value_set_object (value, self->stream);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint (value, self->retry_delay);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_pull_source_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  LtPullSource *self = LT_PULL_SOURCE (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      self->registry = g_value_dup_object (value);
      break;
    case PROP_URI:
      self->uri = g_value_dup_string (value);
      break;
    case PROP_DOMAIN:
      self->domain = g_value_dup_string (value);
      break;
    case PROP_APP:
      self->app = g_value_dup_string (value);
      break;
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_ENABLED:
      lt_pull_source_set_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_pull_source_class_init (LtPullSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = lt_pull_source_dispose;
  object_class->finalize = lt_pull_source_finalize;
  object_class->get_property = lt_pull_source_get_property;
  object_class->set_property = lt_pull_source_set_property;

  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL, LT_TYPE_STREAM_REGISTRY, co);
  properties[PROP_URI] = g_param_spec_string ("uri", NULL, NULL, NULL, co);
  properties[PROP_DOMAIN] = g_param_spec_string ("domain", NULL, NULL, NULL, co);
  properties[PROP_APP] = g_param_spec_string ("app", NULL, NULL, NULL, co);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, co);
  properties[PROP_ENABLED] =
    g_param_spec_boolean ("enabled", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LT_TYPE_PULL_SOURCE_STATE,
                       LT_PULL_SOURCE_STATE_DISABLED, ro);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, ro);
  properties[PROP_STREAM] = g_param_spec_object ("stream", NULL, NULL, LT_TYPE_STREAM, ro);
  properties[PROP_RETRY_DELAY] =
    g_param_spec_uint ("retry-delay", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_pull_source_init (LtPullSource *self)
{
  self->stall_s = DEFAULT_STALL_S;
  self->connect_s = DEFAULT_CONNECT_S;
  self->backoff_ms = BACKOFF_MIN_MS;
}

LtPullSource *
lt_pull_source_new (LtStreamRegistry  *registry,
                    const char        *uri,
                    const char        *domain,
                    const char        *app,
                    const char        *name,
                    GError           **error)
{
  g_autofree char *derived = NULL;
  g_autofree char *lower = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *scheme = NULL;
  g_autofree char *path = NULL;
  LtPullSource *self;

  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (registry), NULL);
  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lt_pull_source_check_uri (uri, error))
    return NULL;
  if (!lt_stream_name_is_valid (app) || !lt_stream_name_is_valid (name))
    {
      g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                           _("The app and stream names must not be empty"));
      return NULL;
    }

  if (domain == NULL || *domain == '\0')
    domain = derived = lt_stream_domain_from_url (uri, LT_DEFAULT_DOMAIN);
  lower = g_utf8_strdown (domain, -1);

  self = g_object_new (LT_TYPE_PULL_SOURCE,
                       "registry", registry,
                       "uri", uri,
                       "domain", lower,
                       "app", app,
                       "name", name,
                       NULL);

  protocol = gst_uri_get_protocol (uri);
  scheme = g_ascii_strdown (protocol, -1);
  path = gst_uri_get_location (uri);
  self->pace = g_str_equal (scheme, "file") ||
               (path != NULL && (strstr (path, ".m3u8") != NULL));
  self->srt_listener = g_str_equal (scheme, "srt") && strstr (uri, "mode=listener") != NULL;

  return self;
}

const char *
lt_pull_source_get_uri (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->uri;
}

const char *
lt_pull_source_get_domain (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->domain;
}

const char *
lt_pull_source_get_app (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->app;
}

const char *
lt_pull_source_get_name (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->name;
}

gboolean
lt_pull_source_get_enabled (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), FALSE);
  return self->enabled;
}

void
lt_pull_source_set_enabled (LtPullSource *self,
                            gboolean      enabled)
{
  g_return_if_fail (LT_IS_PULL_SOURCE (self));

  enabled = !!enabled;
  if (self->enabled == enabled)
    return;

  self->enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLED]);

  if (enabled)
    {
      self->backoff_ms = BACKOFF_MIN_MS;
      set_last_error (self, NULL);
      start_attempt (self);
    }
  else
    {
      g_clear_handle_id (&self->retry_id, g_source_remove);
      set_retry_delay (self, 0);
      end_attempt (self, NULL, FALSE);
    }
}

LtPullSourceState
lt_pull_source_get_state (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), LT_PULL_SOURCE_STATE_DISABLED);
  return self->state;
}

const char *
lt_pull_source_get_last_error (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->last_error;
}

LtStream *
lt_pull_source_get_stream (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), NULL);
  return self->stream;
}

guint
lt_pull_source_get_retry_delay (LtPullSource *self)
{
  g_return_val_if_fail (LT_IS_PULL_SOURCE (self), 0);
  return self->retry_delay;
}

void
lt_pull_source_set_timeouts (LtPullSource *self,
                             guint         stall_seconds,
                             guint         connect_seconds)
{
  g_return_if_fail (LT_IS_PULL_SOURCE (self));
  g_return_if_fail (stall_seconds > 0);

  self->stall_s = stall_seconds;
  self->connect_s = connect_seconds;
}

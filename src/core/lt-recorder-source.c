/* lt-recorder-source.c: the throwaway pipeline of one connection — source, demuxer,
 * parsers — ending in LtRecorderSink, which hands each parsed access unit to the recorder
 * on the streaming thread.
 *
 * No queue, multiqueue or aggregator: RTMP goes LtRtmpSrc ! flvdemux ! parser ! sink on the
 * source's one streaming thread. Other sources are typefound and demuxed by a small
 * autoplugger (parsebin would add a multiqueue and a thread per stream). Streams beyond
 * the first video and the first audio, and non-media streams, end in a fakesink.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <gst/pbutils/pbutils.h>

#include "lt-recorder-private.h"

static GQuark slot_quark (void);
#define SLOT_QUARK (slot_quark ())
G_DEFINE_QUARK (lt-recorder-sink-slot, slot)

/* ---- LtRecorderSink: request pads, no thread, no preroll ---- */

#define LT_TYPE_RECORDER_SINK (lt_recorder_sink_get_type ())
G_DECLARE_FINAL_TYPE (LtRecorderSink, lt_recorder_sink, LT, RECORDER_SINK, GstElement)

typedef struct
{
  int        slot;
  GstSegment segment;
  gboolean   eos;
} SinkPadData;

struct _LtRecorderSink
{
  GstElement        parent_instance;
  LtRecorderSource *source;
};

G_DEFINE_FINAL_TYPE (LtRecorderSink, lt_recorder_sink, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_template =
  GST_STATIC_PAD_TEMPLATE ("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

/* What the parsers are asked for: the packetized forms MP4 and FLV store directly. */
#define VIDEO_CAPS \
  "video/x-h264, stream-format=avc, alignment=au; " \
  "video/x-h265, stream-format=hvc1, alignment=au; " \
  "video/mpeg, mpegversion=4, systemstream=false"
#define AUDIO_CAPS \
  "audio/mpeg, mpegversion=(int){ 2, 4 }, stream-format=raw; " \
  "audio/mpeg, mpegversion=1"

struct _LtRecorderSource
{
  GstElement                  *pipeline;
  LtRecorderSink              *sink;
  const LtRecorderSourceFuncs *funcs;
  gpointer                     user_data;
  GMainContext                *context;
  guint                        bus_watch;
  GSource                     *stall_source;
  GSource                     *ended_source;
  guint                        stall_timeout_s;
  gint64                       last_data;      /* monotonic µs, atomic */
  GMutex                       lock;
  gboolean                     have_video;
  gboolean                     have_audio;
  guint                        n_pads;
  guint                        n_eos;
  gboolean                     ended;
  GError                      *ended_error;
  GstCaps                     *video_caps;
  GstCaps                     *audio_caps;
};

static void source_end (LtRecorderSource *self,
                        GError           *error);

static GstFlowReturn
sink_chain (GstPad    *pad,
            GstObject *parent,
            GstBuffer *buffer)
{
  LtRecorderSink *sink = LT_RECORDER_SINK (parent);
  SinkPadData *data = g_object_get_qdata (G_OBJECT (pad), SLOT_QUARK);
  LtRecorderSource *self = sink->source;

  /* Read by the stall check on the main context; a torn read only delays it. */
  self->last_data = g_get_monotonic_time ();
  if (data->slot >= 0)
    self->funcs->buffer (self->user_data, data->slot, buffer, &data->segment);
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static gboolean
sink_event (GstPad    *pad,
            GstObject *parent,
            GstEvent  *event)
{
  LtRecorderSink *sink = LT_RECORDER_SINK (parent);
  SinkPadData *data = g_object_get_qdata (G_OBJECT (pad), SLOT_QUARK);
  LtRecorderSource *self = sink->source;

  switch (GST_EVENT_TYPE (event))
    {
    case GST_EVENT_CAPS:
      {
        GstCaps *caps = NULL;

        gst_event_parse_caps (event, &caps);
        if (data->slot >= 0)
          self->funcs->caps (self->user_data, data->slot, caps);
      }
      break;
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &data->segment);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&data->segment, GST_FORMAT_TIME);
      break;
    case GST_EVENT_EOS:
      {
        gboolean all;

        g_mutex_lock (&self->lock);
        if (!data->eos)
          {
            data->eos = TRUE;
            self->n_eos++;
          }
        all = self->n_eos >= self->n_pads;
        g_mutex_unlock (&self->lock);
        if (all)
          source_end (self, NULL);
      }
      break;
    default:
      break;
    }
  gst_event_unref (event);
  return TRUE;
}

static gboolean
sink_query (GstPad    *pad,
            GstObject *parent,
            GstQuery  *query)
{
  LtRecorderSink *sink = LT_RECORDER_SINK (parent);
  SinkPadData *data = g_object_get_qdata (G_OBJECT (pad), SLOT_QUARK);
  LtRecorderSource *self = sink->source;
  GstCaps *allowed = NULL;

  if (data->slot == 0)
    allowed = self->video_caps;
  else if (data->slot == 1)
    allowed = self->audio_caps;

  switch (GST_QUERY_TYPE (query))
    {
    case GST_QUERY_CAPS:
      {
        GstCaps *filter = NULL;
        g_autoptr(GstCaps) result = NULL;

        gst_query_parse_caps (query, &filter);
        if (allowed == NULL)
          result = filter != NULL ? gst_caps_ref (filter) : gst_caps_new_any ();
        else if (filter != NULL)
          result = gst_caps_intersect_full (filter, allowed, GST_CAPS_INTERSECT_FIRST);
        else
          result = gst_caps_ref (allowed);
        gst_query_set_caps_result (query, result);
        return TRUE;
      }
    case GST_QUERY_ACCEPT_CAPS:
      {
        GstCaps *caps = NULL;

        gst_query_parse_accept_caps (query, &caps);
        gst_query_set_accept_caps_result (query,
                                          allowed == NULL ||
                                          gst_caps_can_intersect (caps, allowed));
        return TRUE;
      }
    default:
      return gst_pad_query_default (pad, parent, query);
    }
}

static GstPad *
lt_recorder_sink_request_new_pad (GstElement     *element,
                                  GstPadTemplate *templ,
                                  const char     *name,
                                  const GstCaps  *caps)
{
  GstPad *pad = gst_pad_new_from_template (templ, name);
  SinkPadData *data = g_new0 (SinkPadData, 1);

  data->slot = -1;
  gst_segment_init (&data->segment, GST_FORMAT_TIME);
  g_object_set_qdata_full (G_OBJECT (pad), SLOT_QUARK, data, g_free);
  gst_pad_set_chain_function (pad, sink_chain);
  gst_pad_set_event_function (pad, sink_event);
  gst_pad_set_query_function (pad, sink_query);
  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
lt_recorder_sink_release_pad (GstElement *element,
                              GstPad     *pad)
{
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

static void
lt_recorder_sink_class_init (LtRecorderSinkClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Livetape recorder sink", "Sink",
                                         "Hands parsed access units to the recorder",
                                         "Livetape");
  element_class->request_new_pad = lt_recorder_sink_request_new_pad;
  element_class->release_pad = lt_recorder_sink_release_pad;
}

static void
lt_recorder_sink_init (LtRecorderSink *self)
{
}

/* ---- the autoplugger ---- */

static void plug_pad (LtRecorderSource *self,
                      GstElement       *owner,
                      GstPad           *pad,
                      GstCaps          *caps);

static gboolean
add_and_link (LtRecorderSource *self,
              GstPad           *pad,
              GstElement       *element)
{
  GstPad *sinkpad;
  GstPadLinkReturn ret;

  gst_bin_add (GST_BIN (self->pipeline), element);
  sinkpad = gst_element_get_static_pad (element, "sink");
  ret = gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (element);
  return ret == GST_PAD_LINK_OK;
}

static void
plug_fakesink (LtRecorderSource *self,
               GstPad           *pad)
{
  GstElement *fakesink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (fakesink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  add_and_link (self, pad, fakesink);
}

static void
plug_sink (LtRecorderSource *self,
           GstPad           *pad,
           int               slot)
{
  GstPad *sinkpad = gst_element_request_pad_simple (GST_ELEMENT (self->sink), "sink_%u");
  SinkPadData *data = g_object_get_qdata (G_OBJECT (sinkpad), SLOT_QUARK);

  data->slot = slot;
  g_mutex_lock (&self->lock);
  self->n_pads++;
  g_mutex_unlock (&self->lock);
  self->funcs->stream_added (self->user_data, slot);
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

static void
pad_added_cb (GstElement       *element,
              GstPad           *pad,
              LtRecorderSource *self)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  plug_pad (self, element, pad, caps);
}

static void
no_more_pads_cb (GstElement       *element,
                 LtRecorderSource *self)
{
  self->funcs->no_more_pads (self->user_data);
}

static void
have_type_cb (GstElement       *typefind,
              guint             probability,
              GstCaps          *caps,
              LtRecorderSource *self)
{
  GstPad *src = gst_element_get_static_pad (typefind, "src");

  plug_pad (self, typefind, src, caps);
  gst_object_unref (src);
}

static GstElement *
find_element (GstCaps               *caps,
              GstElementFactoryListType type)
{
  GList *factories = gst_element_factory_list_get_elements (type, GST_RANK_MARGINAL);
  GList *matching = gst_element_factory_list_filter (factories, caps, GST_PAD_SINK, FALSE);
  GstElement *element = NULL;

  matching = g_list_sort (matching, (GCompareFunc) gst_plugin_feature_rank_compare_func);
  for (GList *l = matching; l != NULL && element == NULL; l = l->next)
    element = gst_element_factory_create (l->data, NULL);
  gst_plugin_feature_list_free (matching);
  gst_plugin_feature_list_free (factories);
  return element;
}

typedef struct
{
  LtRecorderSource *self;
  GstElement       *owner;
} CapsProbeData;

static GstPadProbeReturn
caps_probe_cb (GstPad          *pad,
               GstPadProbeInfo *info,
               gpointer         user_data)
{
  CapsProbeData *data = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps = NULL;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  plug_pad (data->self, data->owner, pad, caps);
  return GST_PAD_PROBE_REMOVE;
}

/* For pads whose caps are only known once data flows (depayloaders, always pads). */
static void
plug_when_caps (LtRecorderSource *self,
                GstElement       *owner,
                GstPad           *pad)
{
  CapsProbeData *data = g_new0 (CapsProbeData, 1);

  data->self = self;
  data->owner = owner;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, caps_probe_cb, data, g_free);
}

static void
plug_demuxer (LtRecorderSource *self,
              GstPad           *pad,
              GstElement       *demuxer)
{
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  g_signal_connect (demuxer, "pad-added", G_CALLBACK (pad_added_cb), self);
  g_signal_connect (demuxer, "no-more-pads", G_CALLBACK (no_more_pads_cb), self);

  /* Some demuxers have always src pads: plugged once their caps are known. */
  it = gst_element_iterate_src_pads (demuxer);
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK)
    {
      plug_when_caps (self, demuxer, g_value_get_object (&item));
      g_value_reset (&item);
    }
  g_value_unset (&item);
  gst_iterator_free (it);

  add_and_link (self, pad, demuxer);
}

static const char *
parser_for_caps (const GstStructure *s,
                 gboolean           *is_video)
{
  const char *name = gst_structure_get_name (s);
  int version = 0;

  *is_video = g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "image/");
  if (g_str_equal (name, "video/x-h264"))
    return "h264parse";
  if (g_str_equal (name, "video/x-h265"))
    return "h265parse";
  if (g_str_equal (name, "video/mpeg"))
    {
      gboolean system = FALSE;

      gst_structure_get_int (s, "mpegversion", &version);
      gst_structure_get_boolean (s, "systemstream", &system);
      return version == 4 && !system ? "mpeg4videoparse" : NULL;
    }
  if (g_str_equal (name, "audio/mpeg"))
    {
      int layer = 3;

      gst_structure_get_int (s, "mpegversion", &version);
      if (version == 2 || version == 4)
        return "aacparse";
      gst_structure_get_int (s, "layer", &layer);
      return version == 1 && layer == 3 ? "mpegaudioparse" : NULL;
    }
  return NULL;
}

static gboolean
is_elementary (const GstStructure *s)
{
  const char *name = gst_structure_get_name (s);
  gboolean system = FALSE;

  if (!(g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "audio/") ||
        g_str_has_prefix (name, "image/")))
    return FALSE;
  /* Containers that use media names. */
  if (g_str_equal (name, "video/mpegts") || g_str_equal (name, "video/x-flv") ||
      g_str_equal (name, "video/quicktime") || g_str_equal (name, "video/x-matroska") ||
      g_str_equal (name, "video/webm") || g_str_equal (name, "video/x-msvideo") ||
      g_str_equal (name, "video/x-ms-asf") || g_str_equal (name, "audio/x-matroska") ||
      g_str_equal (name, "audio/webm") || g_str_equal (name, "video/ogg") ||
      g_str_equal (name, "audio/ogg") || g_str_equal (name, "application/ogg") ||
      g_str_equal (name, "audio/x-m4a") || g_str_equal (name, "video/x-3gp"))
    return FALSE;
  if (g_str_equal (name, "video/mpeg") &&
      gst_structure_get_boolean (s, "systemstream", &system) && system)
    return FALSE;
  return TRUE;
}

static void
plug_pad (LtRecorderSource *self,
          GstElement       *owner,
          GstPad           *pad,
          GstCaps          *caps)
{
  const GstStructure *s;
  const char *name;

  if (caps == NULL || gst_caps_is_any (caps) || gst_caps_is_empty (caps) ||
      !gst_caps_is_fixed (caps))
    {
      GstElement *typefind = gst_element_factory_make ("typefind", NULL);

      g_signal_connect (typefind, "have-type", G_CALLBACK (have_type_cb), self);
      add_and_link (self, pad, typefind);
      return;
    }

  s = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (s);

  if (is_elementary (s))
    {
      gboolean is_video = FALSE;
      const char *parser_name = parser_for_caps (s, &is_video);
      int slot = -1;

      g_mutex_lock (&self->lock);
      if (is_video && !self->have_video)
        {
          self->have_video = TRUE;
          slot = 0;
        }
      else if (!is_video && g_str_has_prefix (name, "audio/") && !self->have_audio)
        {
          self->have_audio = TRUE;
          slot = 1;
        }
      g_mutex_unlock (&self->lock);

      if (slot < 0)
        {
          plug_fakesink (self, pad);
          return;
        }
      if (parser_name == NULL)
        {
          g_autofree char *description = gst_pb_utils_get_codec_description (caps);

          plug_fakesink (self, pad);
          self->funcs->unsupported (self->user_data, is_video,
                                    description != NULL ? description : name);
          return;
        }
      {
        GstElement *parser = gst_element_factory_make (parser_name, NULL);
        GstPad *parser_src;

        if (parser == NULL)
          {
            plug_fakesink (self, pad);
            self->funcs->unsupported (self->user_data, is_video, name);
            return;
          }
        gst_bin_add (GST_BIN (self->pipeline), parser);
        parser_src = gst_element_get_static_pad (parser, "src");
        plug_sink (self, parser_src, slot);
        gst_object_unref (parser_src);
        {
          GstPad *parser_sink = gst_element_get_static_pad (parser, "sink");

          gst_pad_link (pad, parser_sink);
          gst_object_unref (parser_sink);
        }
        gst_element_sync_state_with_parent (parser);
      }
      return;
    }

  if (g_str_has_prefix (name, "application/x-rtp"))
    {
      GstElement *depay = find_element (caps, GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER);

      if (depay != NULL)
        {
          GstPad *src = gst_element_get_static_pad (depay, "src");

          plug_when_caps (self, depay, src);
          gst_object_unref (src);
          add_and_link (self, pad, depay);
          return;
        }
    }
  else
    {
      GstElement *demuxer = find_element (caps, GST_ELEMENT_FACTORY_TYPE_DEMUXER);

      if (demuxer != NULL)
        {
          plug_demuxer (self, pad, demuxer);
          return;
        }
    }

  /* Subtitles, metadata, anything without a demuxer: ignored. */
  plug_fakesink (self, pad);
}

/* ---- lifecycle ---- */

static gboolean
ended_cb (gpointer user_data)
{
  LtRecorderSource *self = user_data;
  g_autoptr(GError) error = NULL;

  g_mutex_lock (&self->lock);
  error = g_steal_pointer (&self->ended_error);
  g_clear_pointer (&self->ended_source, g_source_unref);
  g_mutex_unlock (&self->lock);

  self->funcs->ended (self->user_data, error);
  return G_SOURCE_REMOVE;
}

/* Any thread: reports the end once, on the main context. */
static void
source_end (LtRecorderSource *self,
            GError           *error)
{
  g_mutex_lock (&self->lock);
  if (self->ended)
    {
      g_mutex_unlock (&self->lock);
      g_clear_error (&error);
      return;
    }
  self->ended = TRUE;
  self->ended_error = error;
  self->ended_source = g_idle_source_new ();
  g_source_set_priority (self->ended_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->ended_source, ended_cb, self, NULL);
  g_source_attach (self->ended_source, self->context);
  g_mutex_unlock (&self->lock);
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    user_data)
{
  LtRecorderSource *self = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    {
      g_autoptr(GError) gst_error = NULL;
      g_autofree char *debug = NULL;

      gst_message_parse_error (message, &gst_error, &debug);
      g_debug ("Recorder source error from %s: %s (%s)", GST_OBJECT_NAME (message->src),
               gst_error->message, debug != NULL ? debug : "");
      source_end (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_SOURCE,
                                     _("The source failed: %s"), gst_error->message));
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
stall_cb (gpointer user_data)
{
  LtRecorderSource *self = user_data;
  gint64 last = self->last_data;

  if (g_get_monotonic_time () - last > (gint64) self->stall_timeout_s * G_USEC_PER_SEC)
    {
      g_debug ("Recorder source stalled for %u s", self->stall_timeout_s);
      source_end (self, NULL);
    }
  return G_SOURCE_CONTINUE;
}

LtRecorderSource *
_lt_recorder_source_new (GstElement                  *source,
                         gboolean                     is_rtmp,
                         const LtRecorderSourceFuncs *funcs,
                         gpointer                     user_data,
                         guint                        stall_timeout_s,
                         GError                     **error)
{
  LtRecorderSource *self = g_new0 (LtRecorderSource, 1);
  g_autoptr(GstBus) bus = NULL;
  GstPad *src;

  g_mutex_init (&self->lock);
  self->funcs = funcs;
  self->user_data = user_data;
  self->context = g_main_context_ref_thread_default ();
  self->stall_timeout_s = MAX (stall_timeout_s, 1);
  self->last_data = g_get_monotonic_time ();
  self->video_caps = gst_caps_from_string (VIDEO_CAPS);
  self->audio_caps = gst_caps_from_string (AUDIO_CAPS);

  self->pipeline = gst_pipeline_new ("lt-recorder-source");
  self->sink = g_object_new (LT_TYPE_RECORDER_SINK, NULL);
  self->sink->source = self;
  gst_bin_add (GST_BIN (self->pipeline), GST_ELEMENT (self->sink));
  gst_bin_add (GST_BIN (self->pipeline), source);

  if (is_rtmp)
    {
      GstElement *demuxer = gst_element_factory_make ("flvdemux", NULL);

      src = gst_element_get_static_pad (source, "src");
      plug_demuxer (self, src, demuxer);
      gst_object_unref (src);
    }
  else if ((src = gst_element_get_static_pad (source, "src")) != NULL)
    {
      plug_pad (self, source, src, NULL);
      gst_object_unref (src);
    }
  else
    g_signal_connect (source, "pad-added", G_CALLBACK (pad_added_cb), self);

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  self->bus_watch = gst_bus_add_watch (bus, bus_cb, self);

  self->stall_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (self->stall_source, stall_cb, self, NULL);
  g_source_attach (self->stall_source, self->context);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error_literal (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_SOURCE,
                           _("The source could not be started"));
      _lt_recorder_source_free (self);
      return NULL;
    }
  return self;
}

static void
source_detach (LtRecorderSource *self)
{
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  if (self->stall_source != NULL)
    {
      g_source_destroy (self->stall_source);
      g_clear_pointer (&self->stall_source, g_source_unref);
    }
  g_mutex_lock (&self->lock);
  self->ended = TRUE;
  if (self->ended_source != NULL)
    {
      g_source_destroy (self->ended_source);
      g_clear_pointer (&self->ended_source, g_source_unref);
    }
  g_clear_error (&self->ended_error);
  g_mutex_unlock (&self->lock);
}

static void
source_destroy (LtRecorderSource *self)
{
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  gst_object_unref (self->pipeline);
  if (self->funcs->destroy != NULL)
    self->funcs->destroy (self->user_data);
  gst_caps_unref (self->video_caps);
  gst_caps_unref (self->audio_caps);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
_lt_recorder_source_free (LtRecorderSource *self)
{
  if (self == NULL)
    return;
  source_detach (self);
  source_destroy (self);
}

static gpointer
destroy_thread (gpointer data)
{
  source_destroy (data);
  return NULL;
}

void
_lt_recorder_source_free_in_background (LtRecorderSource *self)
{
  if (self == NULL)
    return;
  source_detach (self);
  g_thread_unref (g_thread_new ("lt-source-teardown", destroy_thread, self));
}

/* lt-export.c: a time range of a stream's recording as one MP4 file (issue 5's extra).
 *
 * The TS slices overlapping the range are read from the catalog, then remuxed on a
 * thread of their own, never re-encoded:
 *
 *   per slice, one after the other:
 *     filesrc ! tsdemux ─┬→ h264parse/h265parse config-interval=-1 ! appsink ─┐
 *                        └→ aacparse/mpegaudioparse ! appsink ──────────────────┤ re-timed
 *   one output pipeline:                                                        ↓
 *     appsrc ! h264parse/h265parse ─┐
 *     appsrc ! aacparse/mpegaudioparse ─┴→ mp4mux faststart=true ! filesink (temp file)
 *
 * The tracks (and so the parsers) come from the first slice (GstDiscoverer).
 * Each slice's buffers are put on one continuous timeline: a slice's running time (the
 * demuxer's segment starts at the slice's first timestamp) plus where the previous slice
 * ended, so gaps and reconnects between slices (timestamps that jump or restart) become
 * back-to-back content. Per track, DTS never goes backwards (a slice's first B-frames may
 * reach a little before its start; audio that would overlap the previous slice is
 * dropped). Only one demuxer is open at a time, whatever the number of slices.
 *
 * The file is written as a hidden temporary next to the destination and renamed when
 * complete; any failure or a cancel removes it. Streaming threads touch no GObject state:
 * progress goes to the main context through an idle that reads a value under a lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-export.h"
#include "lt-timeline.h"

#define PROGRESS_INTERVAL_US  (100 * G_TIME_SPAN_MILLISECOND)
#define POLL_MS               100
/* The output pipeline may hold this much before a slice reader waits for it. */
#define QUEUE_BYTES           (64 * 1024 * 1024)
/* The output's segment starts here, so that the first frames' DTS, which come before
 * their PTS with B-frames, are negative running times rather than negative timestamps
 * (mp4mux takes signed DTS and writes the offset as composition times). */
#define LEAD                  (10 * GST_SECOND)

G_DEFINE_QUARK (lt-export-error-quark, lt_export_error)

struct _LtExport
{
  GObject     parent_instance;

  LtCatalog  *catalog;
  char       *domain;
  char       *app;
  char       *stream;
  gint64      start_us;
  gint64      end_us;
  GFile      *destination;

  double      progress;
  gint64      duration_us;
  gboolean    ran;

  /* Written by streaming threads, read by the progress idle. */
  GMutex      lock;
  double      pending_progress;
  gboolean    idle_queued;
};

G_DEFINE_TYPE (LtExport, lt_export, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PROGRESS,
  PROP_DURATION_US,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char   *local_path;
  gint64  duration_us;
} Slice;

static void
slice_clear (gpointer data)
{
  g_free (((Slice *) data)->local_path);
}

/* Output tracks ---------------------------------------------------------------------- */

typedef struct
{
  GstElement   *appsrc;          /* owned by the output pipeline */
  const char   *parser_name;
  GstClockTime  last_dts;        /* last DTS pushed, GST_CLOCK_TIME_NONE before any */
  GstClockTime  end;             /* end of the last buffer pushed */
} Track;

/* One run on the export thread. */
typedef struct
{
  LtExport     *self;            /* a reference, for the progress idles */
  GMainContext *context;
  GArray       *slices;          /* Slice */
  gint64        total_us;
  char         *destination;
  char         *temp_path;

  GstElement   *output;
  Track         video;
  Track         audio;
  gboolean      has_video;
  gboolean      has_audio;

  /* Where the slice being read starts on the output timeline, and how much came before. */
  GstClockTime  slice_base;
  GstSegment    segment;         /* the output's: starts at LEAD */
  gint64        done_us;
  gint64        last_post_us;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  if (job->output != NULL)
    {
      gst_element_set_state (job->output, GST_STATE_NULL);
      gst_object_unref (job->output);
    }
  if (job->temp_path != NULL)
    g_unlink (job->temp_path);
  g_clear_object (&job->self);
  g_clear_pointer (&job->context, g_main_context_unref);
  g_clear_pointer (&job->slices, g_array_unref);
  g_free (job->destination);
  g_free (job->temp_path);
  g_free (job);
}

/* Progress ----------------------------------------------------------------------------- */

static void
set_progress (LtExport *self,
              double    progress)
{
  /* Monotonic: a late idle never moves it back. */
  if (progress <= self->progress)
    return;
  self->progress = MIN (progress, 1.0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

static gboolean
progress_idle_cb (gpointer user_data)
{
  LtExport *self = user_data;
  double progress;

  g_mutex_lock (&self->lock);
  progress = self->pending_progress;
  self->idle_queued = FALSE;
  g_mutex_unlock (&self->lock);
  set_progress (self, progress);
  return G_SOURCE_REMOVE;
}

/* Any thread. */
static void
post_progress (Job    *job,
               double  progress)
{
  LtExport *self = job->self;
  gboolean queue;

  g_mutex_lock (&self->lock);
  self->pending_progress = MAX (self->pending_progress, progress);
  queue = !self->idle_queued;
  self->idle_queued = TRUE;
  g_mutex_unlock (&self->lock);
  if (queue)
    g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, progress_idle_cb,
                                g_object_ref (self), g_object_unref);
}

/* The slice readers' streaming threads ------------------------------------------------ */

static GstFlowReturn
new_sample_cb (GstAppSink *sink,
               gpointer    user_data)
{
  Job *job = user_data;
  Track *track = g_object_get_data (G_OBJECT (sink), "lt-export-track");
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  GstSegment *segment;
  GstBuffer *in;
  g_autoptr(GstBuffer) out = NULL;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime dts = GST_CLOCK_TIME_NONE;
  GstClockTimeDiff rt;
  GstFlowReturn ret;
  g_autoptr(GstSample) pushed = NULL;
  gint64 now;

  if (sample == NULL)
    return GST_FLOW_EOS;
  if (track == NULL)
    return GST_FLOW_OK;
  segment = gst_sample_get_segment (sample);
  in = gst_sample_get_buffer (sample);
  if (in == NULL || segment == NULL)
    return GST_FLOW_OK;

  /* Signed running times: with B-frames a slice's first DTS lies before its start. */
  if (GST_BUFFER_PTS_IS_VALID (in))
    {
      guint64 abs_rt = 0;
      int sign = gst_segment_to_running_time_full (segment, GST_FORMAT_TIME,
                                                   GST_BUFFER_PTS (in), &abs_rt);

      rt = sign < 0 ? -(GstClockTimeDiff) abs_rt : (GstClockTimeDiff) abs_rt;
      pts = (GstClockTime) MAX ((GstClockTimeDiff) (LEAD + job->slice_base) + rt, 0);
    }
  if (GST_BUFFER_DTS_IS_VALID (in))
    {
      guint64 abs_rt = 0;
      int sign = gst_segment_to_running_time_full (segment, GST_FORMAT_TIME,
                                                   GST_BUFFER_DTS (in), &abs_rt);

      rt = sign < 0 ? -(GstClockTimeDiff) abs_rt : (GstClockTimeDiff) abs_rt;
      dts = (GstClockTime) MAX ((GstClockTimeDiff) (LEAD + job->slice_base) + rt, 0);
    }
  else if (track == &job->audio)
    dts = pts;

  /* Audio from before the first picture (outside the output's segment: mp4mux would
   * refuse it), or overlapping the previous slice's audio, is left out. */
  if (track == &job->audio &&
      (!GST_CLOCK_TIME_IS_VALID (pts) || pts < LEAD ||
       (GST_CLOCK_TIME_IS_VALID (track->end) && GST_CLOCK_TIME_IS_VALID (dts) &&
        dts < track->end)))
    return GST_FLOW_OK;
  /* DTS strictly increasing per track, and never after the PTS. */
  if (GST_CLOCK_TIME_IS_VALID (dts) && GST_CLOCK_TIME_IS_VALID (track->last_dts) &&
      dts <= track->last_dts)
    dts = track->last_dts + 1;
  if (GST_CLOCK_TIME_IS_VALID (dts) && GST_CLOCK_TIME_IS_VALID (pts) && dts > pts)
    pts = dts;

  out = gst_buffer_copy (in);
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DTS (out) = dts;
  if (GST_CLOCK_TIME_IS_VALID (dts))
    track->last_dts = dts;
  if (GST_CLOCK_TIME_IS_VALID (pts))
    track->end = MAX (track->end == GST_CLOCK_TIME_NONE ? 0 : track->end,
                      pts + (GST_BUFFER_DURATION_IS_VALID (in) ? GST_BUFFER_DURATION (in) : 0));

  pushed = gst_sample_new (out, gst_sample_get_caps (sample), &job->segment, NULL);
  ret = gst_app_src_push_sample (GST_APP_SRC (track->appsrc), pushed);
  if (ret != GST_FLOW_OK)
    return ret;

  now = g_get_monotonic_time ();
  if (now - job->last_post_us >= PROGRESS_INTERVAL_US && job->total_us > 0 &&
      GST_CLOCK_TIME_IS_VALID (pts))
    {
      gint64 in_slice = (gint64) (pts - MIN (pts, LEAD + job->slice_base)) / 1000;

      job->last_post_us = now;
      post_progress (job, 0.99 * (job->done_us + in_slice) / (double) job->total_us);
    }
  return GST_FLOW_OK;
}

static void
demux_pad_added_cb (GstElement *demux,
                    GstPad     *pad,
                    gpointer    user_data)
{
  Job *job = user_data;
  GstElement *pipeline = GST_ELEMENT (gst_element_get_parent (demux));
  g_autoptr(GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  GstAppSinkCallbacks callbacks = { NULL, NULL, new_sample_cb, NULL, { NULL, } };
  GstElement *sink = gst_element_factory_make ("appsink", NULL);
  GstElement *parser = NULL;
  g_autoptr(GstPad) sink_pad = NULL;
  Track *track = NULL;

  if (g_str_has_prefix (name, "video/") && job->has_video)
    track = &job->video;
  else if (g_str_has_prefix (name, "audio/") && job->has_audio)
    track = &job->audio;
  /* Each slice is parsed to the end of its own last frame (a parser in the output would
   * hold it until the next slice's data), with its parameter sets repeated in band. */
  if (track != NULL)
    parser = gst_element_factory_make (track->parser_name, NULL);
  if (parser != NULL && g_object_class_find_property (G_OBJECT_GET_CLASS (parser),
                                                      "config-interval") != NULL)
    g_object_set (parser, "config-interval", -1, NULL);

  /* Every pad gets a sink (an unlinked pad would stop the demuxer); the ones without a
   * track drop their data. async=false: added at run time behind a demuxer. */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "max-buffers", 0, NULL);
  g_object_set_data (G_OBJECT (sink), "lt-export-track", track);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, job, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  if (parser != NULL)
    {
      gst_bin_add (GST_BIN (pipeline), parser);
      gst_element_link (parser, sink);
      gst_element_sync_state_with_parent (parser);
      sink_pad = gst_element_get_static_pad (parser, "sink");
    }
  else
    sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
  gst_object_unref (pipeline);
}

/* The export thread ------------------------------------------------------------------- */

static gboolean
error_from_message (GstMessage  *message,
                    const char  *what,
                    GError     **error)
{
  g_autoptr(GError) gst_error = NULL;
  g_autofree char *debug = NULL;

  gst_message_parse_error (message, &gst_error, &debug);
  g_debug ("Export: %s: %s (%s)", what, gst_error->message, debug != NULL ? debug : "");
  g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED, "%s: %s", what,
               gst_error->message);
  return FALSE;
}

/* An error already on the output's bus. */
static gboolean
check_output (Job     *job,
              GError **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (job->output);
  g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (message != NULL)
    return error_from_message (message, _("Cannot write the MP4 file"), error);
  return TRUE;
}

/* Waits for EOS or an error on @pipeline's bus, checking @cancellable and the output. */
static gboolean
wait_for_eos (Job           *job,
              GstElement    *pipeline,
              const char    *what,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);

  for (;;)
    {
      g_autoptr(GstMessage) message = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (pipeline != job->output && !check_output (job, error))
        return FALSE;
      message = gst_bus_timed_pop_filtered (bus, POLL_MS * GST_MSECOND,
                                            GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      if (message == NULL)
        continue;
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
        return error_from_message (message, what, error);
      return TRUE;
    }
}

/* The parser for the media on a track, by the caps the discoverer found. */
static const char *
parser_for (GstCaps *caps)
{
  GstStructure *structure = gst_caps_get_structure (caps, 0);
  const char *name = gst_structure_get_name (structure);
  int version = 0;

  if (g_str_equal (name, "video/x-h264"))
    return "h264parse";
  if (g_str_equal (name, "video/x-h265"))
    return "h265parse";
  if (g_str_equal (name, "audio/mpeg") && gst_structure_get_int (structure, "mpegversion", &version))
    return version == 1 ? "mpegaudioparse" : "aacparse";
  return NULL;
}

/* Which tracks the recording has, from its first slice. */
static gboolean
discover_tracks (const char  *path,
                 const char **video_parser,
                 const char **audio_parser,
                 GError     **error)
{
  g_autoptr(GstDiscoverer) discoverer = NULL;
  g_autoptr(GstDiscovererInfo) info = NULL;
  g_autofree char *uri = NULL;
  GList *streams;

  *video_parser = NULL;
  *audio_parser = NULL;
  discoverer = gst_discoverer_new (10 * GST_SECOND, error);
  if (discoverer == NULL)
    return FALSE;
  uri = g_filename_to_uri (path, NULL, error);
  if (uri == NULL)
    return FALSE;
  info = gst_discoverer_discover_uri (discoverer, uri, error);
  if (info == NULL)
    {
      g_prefix_error (error, _("Cannot read %s: "), path);
      return FALSE;
    }

  streams = gst_discoverer_info_get_stream_list (info);
  for (GList *l = streams; l != NULL; l = l->next)
    {
      GstDiscovererStreamInfo *stream = l->data;
      g_autoptr(GstCaps) caps = gst_discoverer_stream_info_get_caps (stream);

      if (caps == NULL || gst_caps_is_empty (caps))
        continue;
      if (GST_IS_DISCOVERER_VIDEO_INFO (stream) && *video_parser == NULL)
        *video_parser = parser_for (caps);
      else if (GST_IS_DISCOVERER_AUDIO_INFO (stream) && *audio_parser == NULL)
        *audio_parser = parser_for (caps);
    }
  gst_discoverer_stream_info_list_free (streams);

  if (*video_parser == NULL && *audio_parser == NULL)
    {
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("%s has no video or audio that an MP4 file can hold."), path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_track (Job         *job,
           GstElement  *mux,
           Track       *track,
           const char  *parser_name,
           const char  *mux_pad,
           GError     **error)
{
  GstElement *appsrc = gst_element_factory_make ("appsrc", NULL);
  GstElement *parser = gst_element_factory_make (parser_name, NULL);

  if (appsrc == NULL || parser == NULL)
    {
      g_clear_object (&appsrc);
      g_clear_object (&parser);
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("The GStreamer element %s is missing."), parser_name);
      return FALSE;
    }
  g_object_set (appsrc, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", TRUE,
                "max-bytes", (guint64) QUEUE_BYTES, "handle-segment-change", TRUE, NULL);
  gst_bin_add_many (GST_BIN (job->output), appsrc, parser, NULL);
  if (!gst_element_link (appsrc, parser) ||
      !gst_element_link_pads (parser, "src", mux, mux_pad))
    {
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("Cannot put the stream parsed by %s into an MP4 file."), parser_name);
      return FALSE;
    }
  track->appsrc = appsrc;
  track->parser_name = parser_name;
  track->last_dts = GST_CLOCK_TIME_NONE;
  track->end = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean
build_output (Job          *job,
              const char   *video_parser,
              const char   *audio_parser,
              GError      **error)
{
  GstElement *mux = gst_element_factory_make ("mp4mux", NULL);
  GstElement *sink = gst_element_factory_make ("filesink", NULL);

  job->output = gst_object_ref_sink (gst_pipeline_new ("lt-export"));
  gst_segment_init (&job->segment, GST_FORMAT_TIME);
  job->segment.start = LEAD;
  job->segment.time = 0;
  if (mux == NULL || sink == NULL)
    {
      g_clear_object (&mux);
      g_clear_object (&sink);
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("The GStreamer elements mp4mux and filesink are needed."));
      return FALSE;
    }
  g_object_set (mux, "faststart", TRUE, NULL);
  g_object_set (sink, "location", job->temp_path, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (job->output), mux, sink, NULL);
  if (!gst_element_link (mux, sink))
    {
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("Cannot link the MP4 writer."));
      return FALSE;
    }
  job->has_video = video_parser != NULL;
  job->has_audio = audio_parser != NULL;
  if (job->has_video && !add_track (job, mux, &job->video, video_parser, "video_%u", error))
    return FALSE;
  if (job->has_audio && !add_track (job, mux, &job->audio, audio_parser, "audio_%u", error))
    return FALSE;
  if (gst_element_set_state (job->output, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      if (check_output (job, error))
        g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                     _("Cannot start the MP4 writer."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_slice (Job           *job,
            const Slice   *slice,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GstElement) pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *demux = gst_element_factory_make ("tsdemux", NULL);
  g_autofree char *what = g_strdup_printf (_("Cannot read %s"), slice->local_path);
  gboolean ok;

  if (src == NULL || demux == NULL)
    {
      g_clear_object (&src);
      g_clear_object (&demux);
      g_set_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                   _("The GStreamer elements filesrc and tsdemux are needed."));
      return FALSE;
    }
  g_object_set (src, "location", slice->local_path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, demux, NULL);
  gst_element_link (src, demux);
  g_signal_connect (demux, "pad-added", G_CALLBACK (demux_pad_added_cb), job);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  ok = wait_for_eos (job, pipeline, what, cancellable, error);
  /* On a cancel or an output failure the reader may be blocked pushing into the output:
   * stopping the output first lets it go. */
  if (!ok)
    gst_element_set_state (job->output, GST_STATE_NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return ok;
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  const char *video_parser;
  const char *audio_parser;
  g_autofree char *dir = g_path_get_dirname (job->destination);
  g_autofree char *base = g_path_get_basename (job->destination);
  g_autofree char *template = g_strdup_printf (".%s.XXXXXX.part", base);
  int fd;

  for (guint i = 0; i < job->slices->len; i++)
    {
      const Slice *slice = &g_array_index (job->slices, Slice, i);

      if (slice->local_path == NULL || !g_file_test (slice->local_path, G_FILE_TEST_IS_REGULAR))
        {
          g_task_return_new_error (task, LT_EXPORT_ERROR, LT_EXPORT_ERROR_MISSING_FILE,
                                   _("A slice of the range is missing from the local spool: %s"),
                                   slice->local_path != NULL ? slice->local_path : "?");
          return;
        }
    }

  if (!discover_tracks (g_array_index (job->slices, Slice, 0).local_path, &video_parser,
                        &audio_parser, &error))
    goto fail;

  job->temp_path = g_build_filename (dir, template, NULL);
  fd = g_mkstemp_full (job->temp_path, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;

      g_clear_pointer (&job->temp_path, g_free);
      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create a file in %s: %s"), dir, g_strerror (saved));
      goto fail;
    }
  close (fd);

  if (!build_output (job, video_parser, audio_parser, &error))
    goto fail;

  for (guint i = 0; i < job->slices->len; i++)
    {
      const Slice *slice = &g_array_index (job->slices, Slice, i);
      GstClockTime end = 0;

      if (!read_slice (job, slice, cancellable, &error))
        goto fail;
      /* The next slice starts where this one's longest track ended. */
      if (job->has_video && GST_CLOCK_TIME_IS_VALID (job->video.end))
        end = MAX (end, job->video.end);
      if (job->has_audio && GST_CLOCK_TIME_IS_VALID (job->audio.end))
        end = MAX (end, job->audio.end);
      if (end > LEAD)
        job->slice_base = MAX (end - LEAD, job->slice_base);
      job->done_us += slice->duration_us;
    }

  if (job->has_video)
    gst_app_src_end_of_stream (GST_APP_SRC (job->video.appsrc));
  if (job->has_audio)
    gst_app_src_end_of_stream (GST_APP_SRC (job->audio.appsrc));
  if (!wait_for_eos (job, job->output, _("Cannot write the MP4 file"), cancellable, &error))
    goto fail;
  gst_element_set_state (job->output, GST_STATE_NULL);

  if (g_rename (job->temp_path, job->destination) != 0)
    {
      int saved = errno;

      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot rename the exported file to %s: %s"), job->destination,
                   g_strerror (saved));
      goto fail;
    }
  g_clear_pointer (&job->temp_path, g_free);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  /* The temporary file goes with the job (job_free), after the pipeline stopped. */
  if (job->output != NULL)
    gst_element_set_state (job->output, GST_STATE_NULL);
  if (job->temp_path != NULL)
    g_unlink (job->temp_path);
  g_task_return_error (task, error);
}

/* The catalog side ----------------------------------------------------------------------- */

typedef struct
{
  char   *domain;
  char   *app;
  char   *stream;
  gint64  start_us;
  gint64  end_us;
} Query;

static void
query_free (gpointer data)
{
  Query *query = data;

  g_free (query->domain);
  g_free (query->app);
  g_free (query->stream);
  g_free (query);
}

/* The closed or uploaded slices overlapping the range, in time order. GArray of Slice. */
static gpointer
slices_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  Query *query = data;
  g_autoptr(GArray) slices = g_array_new (FALSE, TRUE, sizeof (Slice));
  sqlite3_stmt *stmt;

  g_array_set_clear_func (slices, slice_clear);
  stmt = lt_catalog_stmt (db,
                          "SELECT s.local_path, s.duration_us FROM slices s "
                          "JOIN streams st ON st.id = s.stream_id "
                          "WHERE st.domain = ?1 AND st.app = ?2 AND st.stream = ?3 "
                          "AND s.start_time_us >= ?4 AND s.start_time_us < ?5 "
                          "AND s.start_time_us + s.duration_us > ?6 "
                          "AND s.state IN ('closed', 'uploaded') "
                          "ORDER BY s.start_time_us, s.id",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, query->domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, query->app, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, query->stream, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, query->start_us - LT_TIMELINE_SLICE_LOOKBACK_US);
  sqlite3_bind_int64 (stmt, 5, query->end_us);
  sqlite3_bind_int64 (stmt, 6, query->start_us);
  while (lt_catalog_next_row (stmt, error))
    {
      Slice slice;

      slice.local_path = lt_catalog_column_dup (stmt, 0);
      slice.duration_us = sqlite3_column_int64 (stmt, 1);
      g_array_append_val (slices, slice);
    }
  if (error != NULL && *error != NULL)
    return NULL;
  return g_steal_pointer (&slices);
}

static void
slices_loaded_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtExport *self = g_task_get_source_object (task);
  Job *job = g_task_get_task_data (task);
  GError *error = NULL;
  GArray *slices;
  gint64 total = 0;

  slices = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (slices == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  job->slices = slices;
  if (slices->len == 0)
    {
      g_task_return_new_error (task, LT_EXPORT_ERROR, LT_EXPORT_ERROR_NO_CONTENT,
                               _("Nothing was recorded in this range."));
      return;
    }
  for (guint i = 0; i < slices->len; i++)
    total += g_array_index (slices, Slice, i).duration_us;
  job->total_us = total;
  if (self->duration_us != total)
    {
      self->duration_us = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION_US]);
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  g_task_run_in_thread (task, export_thread);
}

/* GObject ------------------------------------------------------------------------------- */

static void
lt_export_finalize (GObject *object)
{
  LtExport *self = LT_EXPORT (object);

  g_clear_object (&self->catalog);
  g_clear_object (&self->destination);
  g_free (self->domain);
  g_free (self->app);
  g_free (self->stream);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (lt_export_parent_class)->finalize (object);
}

static void
lt_export_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LtExport *self = LT_EXPORT (object);

  switch (prop_id)
    {
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_DURATION_US:
      g_value_set_int64 (value, self->duration_us);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_export_class_init (LtExportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_export_finalize;
  object_class->get_property = lt_export_get_property;

  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DURATION_US] =
    g_param_spec_int64 ("duration-us", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_export_init (LtExport *self)
{
  g_mutex_init (&self->lock);
}

LtExport *
lt_export_new (LtCatalog  *catalog,
               const char *domain,
               const char *app,
               const char *stream,
               gint64      start_us,
               gint64      end_us,
               GFile      *destination)
{
  LtExport *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (domain != NULL && app != NULL && stream != NULL, NULL);
  g_return_val_if_fail (G_IS_FILE (destination), NULL);

  self = g_object_new (LT_TYPE_EXPORT, NULL);
  self->catalog = g_object_ref (catalog);
  self->domain = g_strdup (domain);
  self->app = g_strdup (app);
  self->stream = g_strdup (stream);
  self->start_us = start_us;
  self->end_us = end_us;
  self->destination = g_object_ref (destination);
  return self;
}

double
lt_export_get_progress (LtExport *self)
{
  g_return_val_if_fail (LT_IS_EXPORT (self), 0.0);
  return self->progress;
}

gint64
lt_export_get_duration (LtExport *self)
{
  g_return_val_if_fail (LT_IS_EXPORT (self), 0);
  return self->duration_us;
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  LtExport *self = LT_EXPORT (source);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (outer, error);
      return;
    }
  set_progress (self, 1.0);
  g_task_return_boolean (outer, TRUE);
}

void
lt_export_run_async (LtExport            *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  GTask *task;
  Job *job;
  Query *query;

  g_return_if_fail (LT_IS_EXPORT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  gst_init (NULL, NULL);
  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, lt_export_run_async);
  if (self->ran)
    {
      g_task_return_new_error (outer, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                               _("This export has already run."));
      return;
    }
  self->ran = TRUE;

  /* The inner task carries the job to the thread; the outer one completes the caller's
   * call after the progress reached 1.0 on this context. */
  task = g_task_new (self, cancellable, run_done_cb, g_steal_pointer (&outer));
  g_task_set_source_tag (task, lt_export_run_async);
  job = g_new0 (Job, 1);
  job->self = g_object_ref (self);
  job->context = g_main_context_ref_thread_default ();
  job->destination = g_file_get_path (self->destination);
  g_task_set_task_data (task, job, job_free);
  if (job->destination == NULL)
    {
      g_task_return_new_error (task, LT_EXPORT_ERROR, LT_EXPORT_ERROR_FAILED,
                               _("The export destination must be a local file."));
      g_object_unref (task);
      return;
    }

  query = g_new0 (Query, 1);
  query->domain = g_strdup (self->domain);
  query->app = g_strdup (self->app);
  query->stream = g_strdup (self->stream);
  query->start_us = self->start_us;
  query->end_us = self->end_us;
  lt_catalog_run_async (self->catalog, slices_job, query, query_free,
                        (GDestroyNotify) g_array_unref, cancellable, slices_loaded_cb, task);
}

gboolean
lt_export_run_finish (LtExport      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (LT_IS_EXPORT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_export_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* lt-timeline.h: what was recorded, when (SPEC section 5) — catalog queries for the
 * coverage of one stream (DescribeLiveStreamRecordContent, the Timeline page), the
 * recorded seconds per UTC day of a domain (DescribeLiveDomainRecordData), and the
 * Timeline page's zoomed-in slices and list of streams.
 *
 * All of them run as jobs on the catalog worker (lt_catalog_run_async()) and complete on
 * the caller's main context.
 */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

/* Slices closer than this are one range: media timestamps are anchored to arrival, so
 * back-to-back slices neither touch exactly nor never overlap. */
#define LT_TIMELINE_MERGE_TOLERANCE_US (1500 * G_TIME_SPAN_MILLISECOND)

/* Slice queries over a window look for slices starting this far before it, so that one
 * overlapping its start is found while the query stays on the (stream_id, start_time_us)
 * index. No slice is that long: cycles cut TS slices at seconds. */
#define LT_TIMELINE_SLICE_LOOKBACK_US  (6 * G_TIME_SPAN_HOUR)

/* One covered range. start_us/end_us are clipped to the queried window; duration_us is
 * the sum of the slices' durations inside the window. end_reason says why the range
 * ended: "offline", "merge_window_expired", "manual_stop", "disk_full", "error",
 * "cancel_delay", "shutdown", "crash", "highlight_end", "schedule_end", or "recording"
 * (the session is still going: the range grows, or goes on past the window's end).
 * target/bucket/object_prefix: where the range's first slice is stored — target is the
 * storage target's endpoint for an S3 target, else the target's name ("local"); the
 * prefix is the slice's object key up to and including the last '/'; NULL when unknown. */
typedef struct
{
  gint64  start_us;
  gint64  end_us;
  gint64  duration_us;
  guint   n_slices;
  char   *end_reason;
  char   *target;
  char   *bucket;
  char   *object_prefix;
} LtTimelineRange;

void        lt_timeline_range_free           (LtTimelineRange *range);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtTimelineRange, lt_timeline_range_free)

/* The ranges of stream (@domain case-insensitive, @app, @stream) covered by closed or
 * uploaded slices overlapping [@start_us, @end_us), in time order. An unknown stream has
 * no ranges. Result: GPtrArray of LtTimelineRange. */
void        lt_timeline_query_coverage_async  (LtCatalog            *catalog,
                                               const char           *domain,
                                               const char           *app,
                                               const char           *stream,
                                               gint64                start_us,
                                               gint64                end_us,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GPtrArray  *lt_timeline_query_coverage_finish (LtCatalog            *catalog,
                                               GAsyncResult         *result,
                                               GError              **error);

typedef enum
{
  LT_TIMELINE_FORMAT_TS  = 1 << 0,   /* m3u8 slices */
  LT_TIMELINE_FORMAT_MP4 = 1 << 1,
  LT_TIMELINE_FORMAT_FLV = 1 << 2,
  LT_TIMELINE_FORMAT_ALL = 0x7,
} LtTimelineFormats;

/* Recorded time of one UTC day (the part inside the queried window), per format; a
 * format not asked for stays 0. day is the day's first second (Unix seconds, UTC). */
typedef struct
{
  gint64  day;
  gint64  ts_us;
  gint64  mp4_us;
  gint64  flv_us;
} LtTimelineDay;

/* One LtTimelineDay per UTC day overlapping [@start_us, @end_us), in order, for every
 * stream of @domain (case-insensitive): TS from closed/uploaded slices, MP4/FLV from
 * closed/uploaded recording files, each split at midnight. Result: GArray of
 * LtTimelineDay. */
void        lt_timeline_query_daily_async     (LtCatalog            *catalog,
                                               const char           *domain,
                                               gint64                start_us,
                                               gint64                end_us,
                                               LtTimelineFormats     formats,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GArray     *lt_timeline_query_daily_finish    (LtCatalog            *catalog,
                                               GAsyncResult         *result,
                                               GError              **error);

/* One slice as the timeline draws it (closed or uploaded), for zoomed-in views. */
typedef struct
{
  gint64  start_us;
  gint64  duration_us;
  gint64  session_id;
} LtTimelineSlice;

/* The slices of the stream overlapping [@start_us, @end_us), in time order, at most
 * @max_slices (the first ones; 0: no limit). Result: GArray of LtTimelineSlice. */
void        lt_timeline_query_slices_async    (LtCatalog            *catalog,
                                               const char           *domain,
                                               const char           *app,
                                               const char           *stream,
                                               gint64                start_us,
                                               gint64                end_us,
                                               guint                 max_slices,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GArray     *lt_timeline_query_slices_finish   (LtCatalog            *catalog,
                                               GAsyncResult         *result,
                                               GError              **error);

/* A stream that has recorded slices: what the Timeline page offers to pick. first_us and
 * last_us: the start of its first and the end of its last catalogued slice; recording:
 * a session of it is open now. */
typedef struct
{
  char     *domain;
  char     *app;
  char     *stream;
  gint64    first_us;
  gint64    last_us;
  gboolean  recording;
} LtTimelineStream;

void        lt_timeline_stream_free           (LtTimelineStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtTimelineStream, lt_timeline_stream_free)

/* Every stream with at least one closed or uploaded slice, most recently recorded first.
 * Result: GPtrArray of LtTimelineStream. */
void        lt_timeline_list_streams_async    (LtCatalog            *catalog,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GPtrArray  *lt_timeline_list_streams_finish   (LtCatalog            *catalog,
                                               GAsyncResult         *result,
                                               GError              **error);

/* For catalog jobs (on the worker): the id of stream (@domain case-insensitive, @app,
 * @stream) in *@stream_id, 0 when the catalog has no such stream. */
gboolean    _lt_timeline_lookup_stream        (sqlite3              *db,
                                               const char           *domain,
                                               const char           *app,
                                               const char           *stream,
                                               gint64               *stream_id,
                                               GError              **error);

G_END_DECLS

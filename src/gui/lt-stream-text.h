/* lt-stream-text.h: how the console words streams, pull sources and recordings — codecs,
 * source kinds, recording states and their reasons, durations — so that the stream list,
 * the details pane and the source list say the same thing. */
#pragma once

#include <glib.h>

#include "lt-pull-source.h"
#include "lt-recording.h"
#include "lt-stream.h"

G_BEGIN_DECLS

/* "H.264", "AAC", … or the codec's own short name. */
const char *lt_stream_text_codec         (const char         *codec);
/* "Push", "Pull", "Demo". */
const char *lt_stream_text_kind          (LtStreamSourceKind  kind);
/* A symbolic icon name for the kind. */
const char *lt_stream_text_kind_icon     (LtStreamSourceKind  kind);
/* "domain/app/stream". */
char       *lt_stream_text_identity      (const char         *domain,
                                          const char         *app,
                                          const char         *stream);
/* "Demo · H.264 + AAC · 1280×720 · 30 fps · 1520 kbit/s · online since 10:02:03". */
char       *lt_stream_text_describe      (LtStream           *stream);
/* "H.264 + AAC · 1280×720 · 30 fps", "Waiting for media information…". */
char       *lt_stream_text_media         (LtStream           *stream);
/* "0:07", "12:34", "1:02:03" (µs, rounded down to seconds). */
char       *lt_stream_text_duration      (gint64              usec);
/* "HLS (M3U8)", "MP4", "FLV"; the name itself for others. */
const char *lt_stream_text_format        (const char         *format);
/* "Recording", "Paused", "Not Recording", … (a title). */
const char *lt_stream_text_state         (LtRecordingState    state);
/* A symbolic icon name for the state, or NULL for none. */
const char *lt_stream_text_state_icon    (LtRecordingState    state);
/* What the recording is doing and why, for the state row: the reason, the merge-window
 * countdown, the highlight's end, how it was started. @online: whether the stream is
 * online (a paused recording of an online stream was stopped by the operator).
 * @now: g_get_real_time(). */
char       *lt_stream_text_recording     (LtRecording        *recording,
                                          gboolean            online,
                                          gint64              now);
/* Short, for a list row's badge: "Recording", "Paused · 2:41", "Failed". */
char       *lt_stream_text_badge         (LtRecording        *recording,
                                          gint64              now);
/* One format's file: "name.m3u8 · 1:23 · 4.2 MB", or what it waits for. */
char       *lt_stream_text_file          (LtRecording        *recording,
                                          const char         *format);
/* A pull source's state: "Online", "Off", "Connecting…", "Retrying in 4 s: reason". */
char       *lt_stream_text_pull_state    (LtPullSource       *source);

G_END_DECLS

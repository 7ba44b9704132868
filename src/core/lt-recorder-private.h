/* lt-recorder-private.h: the recorder's building blocks — track configurations, samples,
 * a buffered output file, the TS, FLV and fragmented-MP4 muxers, the per-connection
 * source pipeline. Internal to liblivetape-core (and its tests).
 *
 * Samples are in packetized form: H.264/H.265 with length prefixes (avcC/hvcC in the
 * track's codec data), MPEG-4 Part 2 as elementary stream, AAC raw (AudioSpecificConfig
 * in codec data), MP3 frames. Times are nanoseconds on the session's continuous
 * timeline.
 */
#pragma once

#include <gst/gst.h>
#include <string.h>

#include "lt-recorder.h"

G_BEGIN_DECLS

/* Big-endian field access without unaligned loads (GStreamer's GST_READ_* macros
 * dereference unaligned pointers on x86, which UBSan rightly reports). */
static inline guint16
_lt_read_u16_be (const void *data)
{
  const guint8 *p = data;

  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
_lt_read_u24_be (const void *data)
{
  const guint8 *p = data;

  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

static inline guint32
_lt_read_u32_be (const void *data)
{
  const guint8 *p = data;

  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline guint32
_lt_read_u32_le (const void *data)
{
  const guint8 *p = data;

  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static inline guint64
_lt_read_u64_be (const void *data)
{
  const guint8 *p = data;

  return ((guint64) _lt_read_u32_be (p) << 32) | _lt_read_u32_be (p + 4);
}

static inline double
_lt_read_double_be (const void *data)
{
  guint64 bits = _lt_read_u64_be (data);
  double value;

  memcpy (&value, &bits, sizeof value);
  return value;
}

static inline void
_lt_write_u16_be (void    *data,
                  guint16  value)
{
  guint8 *p = data;

  p[0] = value >> 8;
  p[1] = value;
}

static inline void
_lt_write_u24_be (void    *data,
                  guint32  value)
{
  guint8 *p = data;

  p[0] = value >> 16;
  p[1] = value >> 8;
  p[2] = value;
}

static inline void
_lt_write_u32_be (void    *data,
                  guint32  value)
{
  guint8 *p = data;

  p[0] = value >> 24;
  p[1] = value >> 16;
  p[2] = value >> 8;
  p[3] = value;
}

static inline void
_lt_write_u32_le (void    *data,
                  guint32  value)
{
  guint8 *p = data;

  p[0] = value;
  p[1] = value >> 8;
  p[2] = value >> 16;
  p[3] = value >> 24;
}

static inline void
_lt_write_u64_be (void    *data,
                  guint64  value)
{
  _lt_write_u32_be (data, value >> 32);
  _lt_write_u32_be ((guint8 *) data + 4, value);
}

static inline void
_lt_write_double_be (void   *data,
                     double  value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  _lt_write_u64_be (data, bits);
}

typedef enum
{
  LT_CODEC_NONE,
  LT_CODEC_H264,
  LT_CODEC_H265,
  LT_CODEC_MPEG4,
  LT_CODEC_AAC,
  LT_CODEC_MP3,
} LtCodec;

/* "h264", "h265", "mpeg4", "aac", "mp3" (the names LtStream uses). */
const char *_lt_codec_to_string (LtCodec codec);

/* Immutable once made; shared by reference between the recorder and its muxers. */
typedef struct
{
  gint       ref_count;
  LtCodec    codec;
  gboolean   is_video;
  GBytes    *codec_data;       /* avcC, hvcC, MPEG-4 VOS/VOL, AudioSpecificConfig; or NULL */
  guint      nal_length_size;  /* H.264/H.265: 1, 2 or 4 */
  GBytes    *annexb_headers;   /* H.264/H.265 parameter sets / MPEG-4 config, start codes */
  guint      width;
  guint      height;
  gint       fps_n;
  gint       fps_d;
  guint      rate;
  guint      channels;
  guint8     aac_profile;      /* ADTS profile (object type - 1) */
  guint8     aac_rate_index;
  guint8     aac_channel_config;
  guint      mpeg_audio_version; /* MP3: 1 (MPEG-1), 2 (MPEG-2 / 2.5) */
} LtTrackConfig;

/* Parses parsed caps (h264parse avc, h265parse hvc1, mpeg4videoparse, aacparse raw,
 * mpegaudioparse). Returns NULL with *@ready = FALSE when the codec is supported but its
 * headers are still missing (e.g. no codec_data yet), NULL with @unsupported set to a
 * description when the codec is not supported. */
LtTrackConfig *_lt_track_config_new_from_caps (const GstCaps  *caps,
                                               gboolean       *ready,
                                               char          **unsupported);
LtTrackConfig *_lt_track_config_ref           (LtTrackConfig  *config);
void           _lt_track_config_unref         (LtTrackConfig  *config);
gboolean       _lt_track_config_equal         (const LtTrackConfig *a,
                                               const LtTrackConfig *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtTrackConfig, _lt_track_config_unref)

typedef struct
{
  GstBuffer *buffer;
  gint64     dts;       /* ns, session timeline */
  gint64     pts;       /* ns, >= dts */
  gint64     duration;  /* ns, > 0 */
  gboolean   keyframe;
} LtSample;

/* ---- LtOutFile: a buffered output file that is only ever flushed at unit boundaries,
 * so a failed write (ENOSPC) can be cut back to the last complete unit. Writes use
 * writev(2) (the tests inject ENOSPC there).
 *
 * Optionally it keeps a running MD5 of the bytes on disk, in order, fed from the buffer
 * as each write succeeds (TS slices: the sync engine then sends Content-MD5 without
 * reading the file again). Anything that changes bytes already on disk — a patch, a
 * failed write (and the cut back) — drops it for good: the MD5 is then unknown, never
 * wrong. ---- */

typedef struct
{
  int        fd;
  char      *path;
  guint8    *data;
  gsize      len;
  gsize      alloc;
  guint64    flushed;     /* bytes on disk, always a unit boundary */
  int        error;       /* errno of the first failure, 0 while fine */
  GChecksum *md5;         /* of the first md5_bytes bytes on disk; NULL: off or dropped */
  guint64    md5_bytes;
  /* Block MD5s (recording files: the parts of a multipart upload): one per block_size
   * bytes on disk, NULL for a block a patch overwrote. */
  guint64    block_size;  /* 0: off or dropped */
  GChecksum *block_md5;   /* the current block's */
  guint64    block_bytes; /* bytes hashed into blocks so far */
  gboolean   block_patched;
  GPtrArray *blocks;      /* char *: hex of each finished block, or NULL */
} LtOutFile;

/* Creates @path (and its folders) exclusively. */
LtOutFile *_lt_out_file_create  (const char  *path,
                                 GError     **error);
/* Room for @size more bytes at the end of the buffer. */
guint8    *_lt_out_file_reserve (LtOutFile   *file,
                                 gsize        size);
void       _lt_out_file_write   (LtOutFile   *file,
                                 const void  *data,
                                 gsize        size);
/* Marks a unit boundary; writes the buffer out once it holds @threshold bytes or more
 * (0: always). Returns FALSE once the file failed. */
gboolean   _lt_out_file_commit  (LtOutFile   *file,
                                 gsize        threshold);
/* Overwrites already flushed bytes (metadata patches). */
gboolean   _lt_out_file_patch   (LtOutFile   *file,
                                 guint64      offset,
                                 const void  *data,
                                 gsize        size);
guint64    _lt_out_file_tell    (LtOutFile   *file);
/* Starts the running MD5; only before anything was written (no-op otherwise). */
void       _lt_out_file_enable_md5 (LtOutFile *file);
/* The hex MD5 of the bytes on disk (exactly _lt_out_file_tell() of them once the buffer
 * is committed), or NULL when it was never enabled or was dropped. Transfer full. */
char      *_lt_out_file_dup_md5 (LtOutFile   *file);
/* Starts hashing in blocks of @block_size bytes; only before anything was written.
 * Patches (the durations written at close) only lose the blocks they touch. */
void       _lt_out_file_enable_block_md5 (LtOutFile *file,
                                          guint64    block_size);
/* "SIZE:MD5,MD5,-,…": the block size, then each block's hex MD5 in order ("-" for one a
 * patch overwrote; the last block may be shorter), once every byte is on disk; NULL when
 * off, dropped (a failed write) or with bytes still buffered. Transfer full. */
char      *_lt_out_file_dup_block_md5s (LtOutFile *file);
/* Drops the buffer and returns the fd (the caller syncs and closes it). */
int        _lt_out_file_steal_fd (LtOutFile  *file);
void       _lt_out_file_free    (LtOutFile   *file);

#define LT_OUT_FILE_FLUSH_THRESHOLD (64 * 1024)

/* ---- MPEG-TS ---- */

typedef struct _LtTsMux LtTsMux;

LtTsMux   *_lt_ts_mux_new          (void);
void       _lt_ts_mux_free         (LtTsMux        *mux);
/* The elementary streams of the following output (a changed set bumps the PMT version). */
void       _lt_ts_mux_set_tracks   (LtTsMux        *mux,
                                    LtTrackConfig  *video,
                                    LtTrackConfig  *audio);
/* PAT and PMT: what a slice starts with. */
void       _lt_ts_mux_write_tables (LtTsMux        *mux,
                                    LtOutFile      *out);
void       _lt_ts_mux_write_sample (LtTsMux        *mux,
                                    LtOutFile      *out,
                                    gboolean        is_video,
                                    const LtSample *sample);

/* ---- FLV ---- */

typedef struct _LtFlvMux LtFlvMux;

/* FLV carries H.264 and AAC/MP3 only; anything else returns FALSE from _supports. */
gboolean   _lt_flv_mux_supports     (const LtTrackConfig *config);
LtFlvMux  *_lt_flv_mux_new          (LtTrackConfig  *video,
                                     LtTrackConfig  *audio);
void       _lt_flv_mux_free         (LtFlvMux       *mux);
/* Header, onMetaData (duration patched at close), sequence headers. */
void       _lt_flv_mux_write_header (LtFlvMux       *mux,
                                     LtOutFile      *out,
                                     gint64          start);
void       _lt_flv_mux_write_sample (LtFlvMux       *mux,
                                     LtOutFile      *out,
                                     gboolean        is_video,
                                     const LtSample *sample);
/* Writes the duration and size into onMetaData. */
gboolean   _lt_flv_mux_finish       (LtFlvMux       *mux,
                                     LtOutFile      *out);
gint64     _lt_flv_mux_get_duration (LtFlvMux       *mux);

/* ---- fragmented MP4 ---- */

typedef struct _LtMp4Mux LtMp4Mux;

LtMp4Mux  *_lt_mp4_mux_new          (LtTrackConfig  *video,
                                     LtTrackConfig  *audio);
void       _lt_mp4_mux_free         (LtMp4Mux       *mux);
/* ftyp + moov (with mvex); durations patched at close. */
void       _lt_mp4_mux_write_header (LtMp4Mux       *mux,
                                     LtOutFile      *out,
                                     gint64          start);
/* Queues a sample; writes a fragment (moof + mdat) at video keyframes once the
 * fragment is long enough, or when it grows too long. */
void       _lt_mp4_mux_add_sample   (LtMp4Mux       *mux,
                                     LtOutFile      *out,
                                     gboolean        is_video,
                                     const LtSample *sample);
/* Writes the queued samples as a fragment (pause, close). */
void       _lt_mp4_mux_flush        (LtMp4Mux       *mux,
                                     LtOutFile      *out);
/* Flushes, writes mfra and patches mvhd/tkhd/mdhd/mehd durations. */
gboolean   _lt_mp4_mux_finish       (LtMp4Mux       *mux,
                                     LtOutFile      *out);
gint64     _lt_mp4_mux_get_duration (LtMp4Mux       *mux);

/* ---- LtRtmpSrc: the recorder's RTMP player (lt-recorder-rtmp.c) ---- */

#include <gst/base/gstpushsrc.h>

#define LT_TYPE_RTMP_SRC (lt_rtmp_src_get_type ())
G_DECLARE_FINAL_TYPE (LtRtmpSrc, lt_rtmp_src, LT, RTMP_SRC, GstPushSrc)

/* rtmp://host[:port]/app/stream[?args], output as FLV. */
GstElement *_lt_rtmp_src_new (const char  *uri,
                              GError     **error);

/* ---- the per-connection source pipeline (lt-recorder-source.c) ---- */

typedef struct _LtRecorderSource LtRecorderSource;

typedef struct
{
  /* Streaming threads. @slot: 0 video, 1 audio, -1 ignored stream. */
  void (*caps)        (gpointer user_data, int slot, GstCaps *caps);
  void (*buffer)      (gpointer user_data, int slot, GstBuffer *buffer,
                       const GstSegment *segment);
  /* A stream got a parser and goes to @slot (before its caps). */
  void (*stream_added) (gpointer user_data, int slot);
  void (*no_more_pads) (gpointer user_data);
  /* A stream whose codec is not supported: @description names it. */
  void (*unsupported) (gpointer user_data, gboolean is_video, const char *description);
  /* Main context: the connection ended (EOS on every stream, error, or stall). */
  void (*ended)       (gpointer user_data, const GError *error);
  /* Any thread: the pipeline is gone, @user_data is no longer used. */
  void (*destroy)     (gpointer user_data);
} LtRecorderSourceFuncs;

LtRecorderSource *_lt_recorder_source_new   (GstElement                  *source,
                                             gboolean                     is_rtmp,
                                             const LtRecorderSourceFuncs *funcs,
                                             gpointer                     user_data,
                                             guint                        stall_timeout_s,
                                             GError                     **error);
/* Sets the pipeline to NULL (blocks until the streaming threads left) and frees it. */
void              _lt_recorder_source_free  (LtRecorderSource            *source);
/* Same from a worker thread, for a pipeline that may be stuck. */
void              _lt_recorder_source_free_in_background (LtRecorderSource *source);

/* Shared with crash recovery (lt-recording-catalog.c), so that a file finished there gets
 * the name the recorder would have given it. */
/* ".m3u8", ".mp4", ".flv" */
const char *_lt_recorder_format_extension  (LtRecordFormatKind  kind);
/* Renames without replacing anything (the folders are made): a name taken already gets
 * "_N" before its extension. Returns the path used, or NULL with errno in @saved_errno. */
char       *_lt_recorder_rename_no_replace (const char         *from,
                                            const char         *to,
                                            int                *saved_errno);

G_END_DECLS

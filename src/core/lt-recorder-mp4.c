/* lt-recorder-mp4.c: a fragmented MP4 writer (ISO 14496-12) for recording files.
 *
 * ftyp + moov (with mvex) first, then one moof + mdat per GOP: a file cut off at any
 * moment (kill -9, power loss, disk full) plays up to its last complete fragment and needs
 * no repair. Closing appends an mfra index for seeking and patches the durations in
 * mvhd/tkhd/mdhd/mehd, so players show the length without scanning the fragments.
 */
#include "config.h"

#include <string.h>

#include "lt-recorder-private.h"

#define MOVIE_TIMESCALE 1000
#define VIDEO_TIMESCALE 90000
/* Fragments end at video keyframes; without keyframes or video at this length. */
#define MAX_FRAGMENT_NS (4 * GST_SECOND)

typedef struct
{
  GstBuffer *buffer;
  guint64    dts;        /* track timescale, from the file start */
  gint32     cts;
  guint32    duration;   /* 0 until known */
  gboolean   keyframe;
} PendingSample;

typedef struct
{
  guint64 time;
  guint64 moof_offset;
} FragmentEntry;

typedef struct
{
  LtTrackConfig *config;
  guint          track_id;
  guint32        timescale;
  GArray        *pending;      /* PendingSample */
  guint64        end;          /* track timescale: end of the last written sample */
  guint32        last_duration;
  GArray        *index;        /* FragmentEntry */
  gsize          tkhd_duration_at;
  gsize          mdhd_duration_at;
} Track;

struct _LtMp4Mux
{
  Track        tracks[2];    /* 0 video, 1 audio */
  guint        n_tracks;
  gint64       start;        /* ns: time 0 of the file */
  guint32      sequence;
  gsize        mvhd_duration_at;
  gsize        mehd_duration_at;
  guint64      header_offset;
  GByteArray  *scratch;
};

/* ---- box building ---- */

static void
put_u8 (GByteArray *b,
        guint8      v)
{
  g_byte_array_append (b, &v, 1);
}

static void
put_u16 (GByteArray *b,
         guint16     v)
{
  guint8 d[2];

  _lt_write_u16_be (d, v);
  g_byte_array_append (b, d, 2);
}

static void
put_u24 (GByteArray *b,
         guint32     v)
{
  guint8 d[3];

  _lt_write_u24_be (d, v);
  g_byte_array_append (b, d, 3);
}

static void
put_u32 (GByteArray *b,
         guint32     v)
{
  guint8 d[4];

  _lt_write_u32_be (d, v);
  g_byte_array_append (b, d, 4);
}

static void
put_u64 (GByteArray *b,
         guint64     v)
{
  guint8 d[8];

  _lt_write_u64_be (d, v);
  g_byte_array_append (b, d, 8);
}

static void
put_zeros (GByteArray *b,
           gsize       n)
{
  gsize len = b->len;

  g_byte_array_set_size (b, len + n);
  memset (b->data + len, 0, n);
}

static void
put_fourcc (GByteArray *b,
            const char *fourcc)
{
  g_byte_array_append (b, (const guint8 *) fourcc, 4);
}

static gsize
box_begin (GByteArray *b,
           const char *type)
{
  gsize pos = b->len;

  put_u32 (b, 0);
  put_fourcc (b, type);
  return pos;
}

static gsize
full_box_begin (GByteArray *b,
                const char *type,
                guint8      version,
                guint32     flags)
{
  gsize pos = box_begin (b, type);

  put_u8 (b, version);
  put_u24 (b, flags);
  return pos;
}

static void
box_end (GByteArray *b,
         gsize       pos)
{
  _lt_write_u32_be (b->data + pos, b->len - pos);
}

static void
put_matrix (GByteArray *b)
{
  static const guint32 matrix[9] = { 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000 };

  for (guint i = 0; i < 9; i++)
    put_u32 (b, matrix[i]);
}

/* MPEG-4 descriptor header with a 4-byte size, as most writers use. */
static void
put_descriptor (GByteArray *b,
                guint8      tag,
                gsize       size)
{
  put_u8 (b, tag);
  put_u8 (b, 0x80 | ((size >> 21) & 0x7f));
  put_u8 (b, 0x80 | ((size >> 14) & 0x7f));
  put_u8 (b, 0x80 | ((size >> 7) & 0x7f));
  put_u8 (b, size & 0x7f);
}

static void
put_esds (GByteArray          *b,
          const LtTrackConfig *config,
          guint8               object_type,
          guint8               stream_type)
{
  gsize dsi_size = 0;
  const guint8 *dsi = NULL;
  gsize box;
  gsize dec_size, es_size;

  if (config->codec_data != NULL && config->codec != LT_CODEC_MP3)
    dsi = g_bytes_get_data (config->codec_data, &dsi_size);

  dec_size = 13 + (dsi != NULL ? 5 + dsi_size : 0);
  es_size = 3 + 5 + dec_size + 5 + 1;

  box = full_box_begin (b, "esds", 0, 0);
  put_descriptor (b, 0x03, es_size);
  put_u16 (b, 0);                       /* ES_ID */
  put_u8 (b, 0);                        /* flags */
  put_descriptor (b, 0x04, dec_size);
  put_u8 (b, object_type);
  put_u8 (b, (stream_type << 2) | 1);
  put_u24 (b, 0);                       /* bufferSizeDB */
  put_u32 (b, 0);                       /* maxBitrate */
  put_u32 (b, 0);                       /* avgBitrate */
  if (dsi != NULL)
    {
      put_descriptor (b, 0x05, dsi_size);
      g_byte_array_append (b, dsi, dsi_size);
    }
  put_descriptor (b, 0x06, 1);
  put_u8 (b, 0x02);
  box_end (b, box);
}

static void
put_sample_entry (GByteArray          *b,
                  const LtTrackConfig *config)
{
  gsize entry;

  if (config->is_video)
    {
      static const char *names[] = {
        [LT_CODEC_H264] = "avc1", [LT_CODEC_H265] = "hvc1", [LT_CODEC_MPEG4] = "mp4v",
      };

      entry = box_begin (b, names[config->codec]);
      put_zeros (b, 6);
      put_u16 (b, 1);                   /* data_reference_index */
      put_zeros (b, 16);
      put_u16 (b, config->width);
      put_u16 (b, config->height);
      put_u32 (b, 0x00480000);
      put_u32 (b, 0x00480000);
      put_u32 (b, 0);
      put_u16 (b, 1);                   /* frame_count */
      put_zeros (b, 32);                /* compressorname */
      put_u16 (b, 0x0018);
      put_u16 (b, 0xffff);
      if (config->codec == LT_CODEC_MPEG4)
        put_esds (b, config, 0x20, 4);
      else
        {
          gsize size;
          const guint8 *data = g_bytes_get_data (config->codec_data, &size);
          gsize box = box_begin (b, config->codec == LT_CODEC_H264 ? "avcC" : "hvcC");

          g_byte_array_append (b, data, size);
          box_end (b, box);
        }
    }
  else
    {
      entry = box_begin (b, "mp4a");
      put_zeros (b, 6);
      put_u16 (b, 1);
      put_zeros (b, 8);
      put_u16 (b, config->channels);
      put_u16 (b, 16);
      put_u16 (b, 0);
      put_u16 (b, 0);
      put_u32 (b, MIN (config->rate, 65535) << 16);
      if (config->codec == LT_CODEC_AAC)
        put_esds (b, config, 0x40, 5);
      else
        put_esds (b, config, config->mpeg_audio_version == 1 ? 0x6b : 0x69, 5);
    }
  box_end (b, entry);
}

/* ---- the muxer ---- */

LtMp4Mux *
_lt_mp4_mux_new (LtTrackConfig *video,
                 LtTrackConfig *audio)
{
  LtMp4Mux *mux = g_new0 (LtMp4Mux, 1);
  LtTrackConfig *configs[2] = { video, audio };

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];

      if (configs[i] == NULL)
        continue;
      track->config = _lt_track_config_ref (configs[i]);
      track->track_id = ++mux->n_tracks;
      track->timescale = configs[i]->is_video ? VIDEO_TIMESCALE : MAX (configs[i]->rate, 1);
      track->pending = g_array_new (FALSE, FALSE, sizeof (PendingSample));
      track->index = g_array_new (FALSE, FALSE, sizeof (FragmentEntry));
    }
  mux->scratch = g_byte_array_new ();
  return mux;
}

void
_lt_mp4_mux_free (LtMp4Mux *mux)
{
  if (mux == NULL)
    return;
  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];

      if (track->config == NULL)
        continue;
      for (guint j = 0; j < track->pending->len; j++)
        gst_buffer_unref (g_array_index (track->pending, PendingSample, j).buffer);
      g_array_unref (track->pending);
      g_array_unref (track->index);
      _lt_track_config_unref (track->config);
    }
  g_byte_array_unref (mux->scratch);
  g_free (mux);
}

void
_lt_mp4_mux_write_header (LtMp4Mux  *mux,
                          LtOutFile *out,
                          gint64     start)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  gsize moov, mvex;

  mux->start = start;
  mux->header_offset = _lt_out_file_tell (out);

  {
    gsize ftyp = box_begin (b, "ftyp");

    put_fourcc (b, "isom");
    put_u32 (b, 0x200);
    put_fourcc (b, "isom");
    put_fourcc (b, "iso6");
    put_fourcc (b, "mp41");
    box_end (b, ftyp);
  }

  moov = box_begin (b, "moov");
  {
    gsize mvhd = full_box_begin (b, "mvhd", 0, 0);

    put_u32 (b, 0);
    put_u32 (b, 0);
    put_u32 (b, MOVIE_TIMESCALE);
    mux->mvhd_duration_at = b->len;
    put_u32 (b, 0);
    put_u32 (b, 0x00010000);        /* rate */
    put_u16 (b, 0x0100);            /* volume */
    put_zeros (b, 10);
    put_matrix (b);
    put_zeros (b, 24);
    put_u32 (b, mux->n_tracks + 1); /* next_track_ID */
    box_end (b, mvhd);
  }

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      gboolean video = (i == 0);
      gsize trak, tkhd, mdia, mdhd, hdlr, minf, dinf, dref, url, stbl, stsd, box;

      if (track->config == NULL)
        continue;

      trak = box_begin (b, "trak");
      tkhd = full_box_begin (b, "tkhd", 0, 0x000003);
      put_u32 (b, 0);
      put_u32 (b, 0);
      put_u32 (b, track->track_id);
      put_u32 (b, 0);
      track->tkhd_duration_at = b->len;
      put_u32 (b, 0);
      put_zeros (b, 8);
      put_u16 (b, 0);                 /* layer */
      put_u16 (b, 0);                 /* alternate_group */
      put_u16 (b, video ? 0 : 0x0100);
      put_u16 (b, 0);
      put_matrix (b);
      put_u32 (b, video ? track->config->width << 16 : 0);
      put_u32 (b, video ? track->config->height << 16 : 0);
      box_end (b, tkhd);

      mdia = box_begin (b, "mdia");
      mdhd = full_box_begin (b, "mdhd", 0, 0);
      put_u32 (b, 0);
      put_u32 (b, 0);
      put_u32 (b, track->timescale);
      track->mdhd_duration_at = b->len;
      put_u32 (b, 0);
      put_u16 (b, 0x55c4);            /* "und" */
      put_u16 (b, 0);
      box_end (b, mdhd);

      hdlr = full_box_begin (b, "hdlr", 0, 0);
      put_u32 (b, 0);
      put_fourcc (b, video ? "vide" : "soun");
      put_zeros (b, 12);
      g_byte_array_append (b, (const guint8 *) (video ? "VideoHandler" : "SoundHandler"), 13);
      box_end (b, hdlr);

      minf = box_begin (b, "minf");
      if (video)
        {
          box = full_box_begin (b, "vmhd", 0, 1);
          put_zeros (b, 8);
        }
      else
        {
          box = full_box_begin (b, "smhd", 0, 0);
          put_zeros (b, 4);
        }
      box_end (b, box);
      dinf = box_begin (b, "dinf");
      dref = full_box_begin (b, "dref", 0, 0);
      put_u32 (b, 1);
      url = full_box_begin (b, "url ", 0, 1);
      box_end (b, url);
      box_end (b, dref);
      box_end (b, dinf);

      stbl = box_begin (b, "stbl");
      stsd = full_box_begin (b, "stsd", 0, 0);
      put_u32 (b, 1);
      put_sample_entry (b, track->config);
      box_end (b, stsd);
      box = full_box_begin (b, "stts", 0, 0);
      put_u32 (b, 0);
      box_end (b, box);
      box = full_box_begin (b, "stsc", 0, 0);
      put_u32 (b, 0);
      box_end (b, box);
      box = full_box_begin (b, "stsz", 0, 0);
      put_u32 (b, 0);
      put_u32 (b, 0);
      box_end (b, box);
      box = full_box_begin (b, "stco", 0, 0);
      put_u32 (b, 0);
      box_end (b, box);
      box_end (b, stbl);
      box_end (b, minf);
      box_end (b, mdia);
      box_end (b, trak);
    }

  mvex = box_begin (b, "mvex");
  {
    gsize mehd = full_box_begin (b, "mehd", 1, 0);

    mux->mehd_duration_at = b->len;
    put_u64 (b, 0);
    box_end (b, mehd);
  }
  for (guint i = 0; i < 2; i++)
    {
      gsize trex;

      if (mux->tracks[i].config == NULL)
        continue;
      trex = full_box_begin (b, "trex", 0, 0);
      put_u32 (b, mux->tracks[i].track_id);
      put_u32 (b, 1);
      put_u32 (b, 0);
      put_u32 (b, 0);
      put_u32 (b, 0);
      box_end (b, trex);
    }
  box_end (b, mvex);
  box_end (b, moov);

  _lt_out_file_write (out, b->data, b->len);
}

static guint64
to_timescale (LtMp4Mux *mux,
              Track    *track,
              gint64    ns)
{
  return gst_util_uint64_scale_round (MAX (ns - mux->start, 0), track->timescale, GST_SECOND);
}

static guint32
nominal_duration (Track          *track,
                  const LtSample *sample)
{
  if (track->last_duration > 0 && track->config->is_video)
    return track->last_duration;
  if (sample != NULL && sample->duration > 0)
    return MAX (1, gst_util_uint64_scale_round (sample->duration, track->timescale, GST_SECOND));
  if (track->last_duration > 0)
    return track->last_duration;
  if (track->config->is_video)
    return track->config->fps_n > 0
      ? gst_util_uint64_scale_round (track->timescale, track->config->fps_d, track->config->fps_n)
      : track->timescale / 30;
  return track->config->codec == LT_CODEC_AAC ? 1024 : 1152;
}

/* Writes every pending sample as one fragment. @next_video_dts: the DTS of the sample
 * that follows the last pending video sample, or G_MAXUINT64. */
static void
write_fragment (LtMp4Mux  *mux,
                LtOutFile *out,
                guint64    next_video_dts)
{
  GByteArray *b = mux->scratch;
  gsize moof, data_offset_at[2] = { 0, 0 };
  guint64 moof_offset = _lt_out_file_tell (out);
  guint32 data_size[2] = { 0, 0 };
  guint32 mdat_size;
  gboolean any = FALSE;

  for (guint i = 0; i < 2; i++)
    if (mux->tracks[i].config != NULL && mux->tracks[i].pending->len > 0)
      any = TRUE;
  if (!any)
    return;

  g_byte_array_set_size (b, 0);
  moof = box_begin (b, "moof");
  {
    gsize mfhd = full_box_begin (b, "mfhd", 0, 0);

    put_u32 (b, ++mux->sequence);
    box_end (b, mfhd);
  }

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      gboolean video = (i == 0);
      gsize traf, box, trun;
      PendingSample *first;

      if (track->config == NULL || track->pending->len == 0)
        continue;

      /* Durations: the distance to the next sample; the last one looks ahead when it
       * can and repeats the previous duration otherwise. */
      for (guint j = 0; j < track->pending->len; j++)
        {
          PendingSample *s = &g_array_index (track->pending, PendingSample, j);

          if (s->duration != 0)
            continue;
          if (j + 1 < track->pending->len)
            {
              PendingSample *next = &g_array_index (track->pending, PendingSample, j + 1);

              s->duration = next->dts > s->dts ? next->dts - s->dts : 1;
            }
          else if (video && next_video_dts != G_MAXUINT64 && next_video_dts > s->dts)
            s->duration = next_video_dts - s->dts;
          else
            s->duration = nominal_duration (track, NULL);
          track->last_duration = s->duration;
        }

      first = &g_array_index (track->pending, PendingSample, 0);
      if (!video || first->keyframe)
        {
          FragmentEntry entry = { first->dts, moof_offset };

          g_array_append_val (track->index, entry);
        }

      traf = box_begin (b, "traf");
      box = full_box_begin (b, "tfhd", 0, 0x020000);  /* default-base-is-moof */
      put_u32 (b, track->track_id);
      box_end (b, box);
      box = full_box_begin (b, "tfdt", 1, 0);
      put_u64 (b, first->dts);
      box_end (b, box);

      trun = full_box_begin (b, "trun", video ? 1 : 0,
                             video ? 0x000f01 : 0x000301);
      put_u32 (b, track->pending->len);
      data_offset_at[i] = b->len;
      put_u32 (b, 0);
      for (guint j = 0; j < track->pending->len; j++)
        {
          PendingSample *s = &g_array_index (track->pending, PendingSample, j);

          put_u32 (b, s->duration);
          put_u32 (b, gst_buffer_get_size (s->buffer));
          if (video)
            {
              put_u32 (b, s->keyframe ? 0x02000000 : 0x01010000);
              put_u32 (b, (guint32) s->cts);
            }
          data_size[i] += gst_buffer_get_size (s->buffer);
        }
      box_end (b, trun);
      box_end (b, traf);
    }
  box_end (b, moof);

  /* Data offsets are relative to the moof; video data comes first in the mdat. */
  if (data_offset_at[0] != 0)
    _lt_write_u32_be (b->data + data_offset_at[0], b->len + 8);
  if (data_offset_at[1] != 0)
    _lt_write_u32_be (b->data + data_offset_at[1], b->len + 8 + data_size[0]);

  mdat_size = 8 + data_size[0] + data_size[1];
  put_u32 (b, mdat_size);
  put_fourcc (b, "mdat");
  _lt_out_file_write (out, b->data, b->len);

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];

      if (track->config == NULL)
        continue;
      for (guint j = 0; j < track->pending->len; j++)
        {
          PendingSample *s = &g_array_index (track->pending, PendingSample, j);
          GstMapInfo map;

          if (gst_buffer_map (s->buffer, &map, GST_MAP_READ))
            {
              _lt_out_file_write (out, map.data, map.size);
              gst_buffer_unmap (s->buffer, &map);
            }
          else
            memset (_lt_out_file_reserve (out, gst_buffer_get_size (s->buffer)), 0,
                    gst_buffer_get_size (s->buffer));
          track->end = MAX (track->end, s->dts + s->duration);
          gst_buffer_unref (s->buffer);
        }
      g_array_set_size (track->pending, 0);
    }
}

static gint64
pending_span (LtMp4Mux *mux)
{
  gint64 span = 0;

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      PendingSample *first, *last;

      if (track->config == NULL || track->pending->len == 0)
        continue;
      first = &g_array_index (track->pending, PendingSample, 0);
      last = &g_array_index (track->pending, PendingSample, track->pending->len - 1);
      span = MAX (span, (gint64) gst_util_uint64_scale (last->dts - first->dts, GST_SECOND,
                                                        track->timescale));
    }
  return span;
}

void
_lt_mp4_mux_add_sample (LtMp4Mux       *mux,
                        LtOutFile      *out,
                        gboolean        is_video,
                        const LtSample *sample)
{
  Track *track = &mux->tracks[is_video ? 0 : 1];
  PendingSample pending = { 0, };
  guint64 dts;

  if (track->config == NULL)
    return;

  dts = to_timescale (mux, track, sample->dts);
  if (track->pending->len > 0)
    {
      PendingSample *last = &g_array_index (track->pending, PendingSample, track->pending->len - 1);

      /* Decode times must increase. */
      if (dts <= last->dts)
        dts = last->dts + 1;
    }
  else if (dts < track->end && track->end > 0)
    dts = track->end;

  if (is_video && sample->keyframe)
    write_fragment (mux, out, dts);
  else if (pending_span (mux) >= MAX_FRAGMENT_NS)
    write_fragment (mux, out, is_video ? dts : G_MAXUINT64);

  pending.buffer = gst_buffer_ref (sample->buffer);
  pending.dts = dts;
  pending.keyframe = !is_video || sample->keyframe;
  if (is_video)
    {
      gint64 pts = to_timescale (mux, track, MAX (sample->pts, sample->dts));

      pending.cts = (gint32) CLAMP (pts - (gint64) to_timescale (mux, track, sample->dts),
                                    G_MININT32, G_MAXINT32);
    }
  else
    {
      /* Audio keeps its nominal frame duration: millisecond timestamps from FLV would
       * otherwise jitter the audio timeline. tfdt re-anchors every fragment. */
      pending.duration = nominal_duration (track, sample);
      track->last_duration = pending.duration;
    }
  g_array_append_val (track->pending, pending);
}

void
_lt_mp4_mux_flush (LtMp4Mux  *mux,
                   LtOutFile *out)
{
  write_fragment (mux, out, G_MAXUINT64);
}

gint64
_lt_mp4_mux_get_duration (LtMp4Mux *mux)
{
  gint64 duration = 0;

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      guint64 end = track->end;

      if (track->config == NULL)
        continue;
      for (guint j = 0; j < track->pending->len; j++)
        {
          PendingSample *s = &g_array_index (track->pending, PendingSample, j);

          end = MAX (end, s->dts + MAX (s->duration, 1));
        }
      duration = MAX (duration, (gint64) gst_util_uint64_scale (end, GST_SECOND, track->timescale));
    }
  return duration;
}

static gboolean
patch_u32 (LtOutFile *out,
           guint64    offset,
           guint32    value)
{
  guint8 d[4];

  _lt_write_u32_be (d, value);
  return _lt_out_file_patch (out, offset, d, 4);
}

gboolean
_lt_mp4_mux_finish (LtMp4Mux  *mux,
                    LtOutFile *out)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint64 movie_duration = 0;
  guint8 d[8];
  gsize mfra, mfro;

  _lt_mp4_mux_flush (mux, out);

  mfra = box_begin (b, "mfra");
  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      gsize tfra;

      if (track->config == NULL)
        continue;
      tfra = full_box_begin (b, "tfra", 1, 0);
      put_u32 (b, track->track_id);
      put_u32 (b, 0);                 /* 1-byte traf/trun/sample numbers */
      put_u32 (b, track->index->len);
      for (guint j = 0; j < track->index->len; j++)
        {
          FragmentEntry *entry = &g_array_index (track->index, FragmentEntry, j);

          put_u64 (b, entry->time);
          put_u64 (b, entry->moof_offset);
          put_u8 (b, 1);
          put_u8 (b, 1);
          put_u8 (b, 1);
        }
      box_end (b, tfra);
    }
  mfro = full_box_begin (b, "mfro", 0, 0);
  put_u32 (b, b->len - mfra + 4);
  box_end (b, mfro);
  box_end (b, mfra);
  _lt_out_file_write (out, b->data, b->len);
  if (!_lt_out_file_commit (out, 0))
    return FALSE;

  for (guint i = 0; i < 2; i++)
    {
      Track *track = &mux->tracks[i];
      guint64 movie;

      if (track->config == NULL)
        continue;
      movie = gst_util_uint64_scale_round (track->end, MOVIE_TIMESCALE, track->timescale);
      movie_duration = MAX (movie_duration, movie);
      if (!patch_u32 (out, mux->header_offset + track->tkhd_duration_at, (guint32) MIN (movie, G_MAXUINT32)) ||
          !patch_u32 (out, mux->header_offset + track->mdhd_duration_at, (guint32) MIN (track->end, G_MAXUINT32)))
        return FALSE;
    }
  if (!patch_u32 (out, mux->header_offset + mux->mvhd_duration_at, (guint32) MIN (movie_duration, G_MAXUINT32)))
    return FALSE;
  _lt_write_u64_be (d, movie_duration);
  return _lt_out_file_patch (out, mux->header_offset + mux->mehd_duration_at, d, 8);
}

/* lt-recorder-ts.c: a small MPEG-TS muxer (ISO 13818-1) for recording slices.
 *
 * Why not mpegtsmux: it is a GstAggregator with its own thread, and handing every buffer
 * to another thread (plus the live clock waits of an aggregator) cost more than the whole
 * rest of a live recording. This muxer runs on the streaming thread and writes TS packets
 * straight into the output buffer.
 *
 * Layout: PAT, PMT on PID 0x1000, video on 0x100 (also the PCR PID), audio on 0x101.
 * PAT/PMT precede every video keyframe, so any keyframe can start a slice. Video AUs get an
 * access unit delimiter and, at keyframes, their parameter sets (like ffmpeg's HLS
 * output), so every slice decodes alone. AAC gets ADTS headers.
 */
#include "config.h"

#include <string.h>

#include "lt-recorder-private.h"

#define TS_PACKET_SIZE 188
#define PID_PMT 0x1000
#define PID_VIDEO 0x100
#define PID_AUDIO 0x101
/* Timestamps start at 1.4 s and the PCR runs 0.7 s ahead of DTS, as ffmpeg does. */
#define TS_OFFSET_90K 126000
#define PCR_DELAY_90K 63000
#define PCR_INTERVAL_90K 9000   /* 100 ms */
#define MAX_TABLE_INTERVAL_90K 45000  /* audio-only: PAT/PMT every 0.5 s */

struct _LtTsMux
{
  LtTrackConfig *video;
  LtTrackConfig *audio;
  guint8         version;
  guint8         cc_pat;
  guint8         cc_pmt;
  guint8         cc_video;
  guint8         cc_audio;
  guint64        last_pcr;       /* 90 kHz, G_MAXUINT64 before the first */
  guint64        last_tables;    /* 90 kHz DTS of the last PAT/PMT */
  GByteArray    *pes;            /* scratch: one PES packet */
};

static guint32
crc32_mpeg (const guint8 *data,
            gsize         size)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < size; i++)
    {
      crc ^= (guint32) data[i] << 24;
      for (int bit = 0; bit < 8; bit++)
        crc = (crc & 0x80000000) ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
  return crc;
}

LtTsMux *
_lt_ts_mux_new (void)
{
  LtTsMux *mux = g_new0 (LtTsMux, 1);

  mux->pes = g_byte_array_sized_new (256 * 1024);
  mux->last_pcr = G_MAXUINT64;
  mux->last_tables = G_MAXUINT64;
  return mux;
}

void
_lt_ts_mux_free (LtTsMux *mux)
{
  if (mux == NULL)
    return;
  g_clear_pointer (&mux->video, _lt_track_config_unref);
  g_clear_pointer (&mux->audio, _lt_track_config_unref);
  g_byte_array_unref (mux->pes);
  g_free (mux);
}

void
_lt_ts_mux_set_tracks (LtTsMux       *mux,
                       LtTrackConfig *video,
                       LtTrackConfig *audio)
{
  gboolean changed = (video == NULL) != (mux->video == NULL) ||
                     (audio == NULL) != (mux->audio == NULL) ||
                     (video != NULL && video->codec != mux->video->codec) ||
                     (audio != NULL && (audio->codec != mux->audio->codec ||
                                        audio->mpeg_audio_version != mux->audio->mpeg_audio_version));

  if (changed)
    mux->version = (mux->version + 1) & 0x1f;
  g_clear_pointer (&mux->video, _lt_track_config_unref);
  g_clear_pointer (&mux->audio, _lt_track_config_unref);
  mux->video = video != NULL ? _lt_track_config_ref (video) : NULL;
  mux->audio = audio != NULL ? _lt_track_config_ref (audio) : NULL;
  mux->last_pcr = G_MAXUINT64;
  mux->last_tables = G_MAXUINT64;
}

static guint8
stream_type (const LtTrackConfig *config)
{
  switch (config->codec)
    {
    case LT_CODEC_H264:
      return 0x1b;
    case LT_CODEC_H265:
      return 0x24;
    case LT_CODEC_MPEG4:
      return 0x10;
    case LT_CODEC_AAC:
      return 0x0f;
    case LT_CODEC_MP3:
      return config->mpeg_audio_version == 1 ? 0x03 : 0x04;
    case LT_CODEC_NONE:
    default:
      g_assert_not_reached ();
    }
}

static guint16
pcr_pid (LtTsMux *mux)
{
  return mux->video != NULL ? PID_VIDEO : PID_AUDIO;
}

/* One PSI section in one packet, padded with 0xff. */
static void
write_section (LtOutFile    *out,
               guint16       pid,
               guint8       *cc,
               const guint8 *section,
               gsize         size)
{
  guint8 *p = _lt_out_file_reserve (out, TS_PACKET_SIZE);
  guint32 crc = crc32_mpeg (section, size);

  g_assert (size + 4 + 5 <= TS_PACKET_SIZE);
  p[0] = 0x47;
  p[1] = 0x40 | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10 | (*cc & 0x0f);
  *cc = (*cc + 1) & 0x0f;
  p[4] = 0; /* pointer field */
  memcpy (p + 5, section, size);
  _lt_write_u32_be (p + 5 + size, crc);
  memset (p + 5 + size + 4, 0xff, TS_PACKET_SIZE - 5 - size - 4);
}

void
_lt_ts_mux_write_tables (LtTsMux   *mux,
                         LtOutFile *out)
{
  guint8 section[64];
  gsize n = 0;
  guint16 length;

  /* PAT: program 1 on PID_PMT */
  section[0] = 0x00;
  section[3] = 0x00;
  section[4] = 0x01;                       /* transport_stream_id */
  section[5] = 0xc1 | (mux->version << 1); /* version, current_next */
  section[6] = 0x00;
  section[7] = 0x00;
  section[8] = 0x00;
  section[9] = 0x01;                       /* program_number */
  section[10] = 0xe0 | (PID_PMT >> 8);
  section[11] = PID_PMT & 0xff;
  length = 12 - 3 + 4;
  section[1] = 0xb0 | (length >> 8);
  section[2] = length & 0xff;
  write_section (out, 0, &mux->cc_pat, section, 12);

  /* PMT */
  section[0] = 0x02;
  section[3] = 0x00;
  section[4] = 0x01;                       /* program_number */
  section[5] = 0xc1 | (mux->version << 1);
  section[6] = 0x00;
  section[7] = 0x00;
  section[8] = 0xe0 | (pcr_pid (mux) >> 8);
  section[9] = pcr_pid (mux) & 0xff;
  section[10] = 0xf0;
  section[11] = 0x00;                      /* program_info_length */
  n = 12;
  if (mux->video != NULL)
    {
      section[n++] = stream_type (mux->video);
      section[n++] = 0xe0 | (PID_VIDEO >> 8);
      section[n++] = PID_VIDEO & 0xff;
      section[n++] = 0xf0;
      section[n++] = 0x00;
    }
  if (mux->audio != NULL)
    {
      section[n++] = stream_type (mux->audio);
      section[n++] = 0xe0 | (PID_AUDIO >> 8);
      section[n++] = PID_AUDIO & 0xff;
      section[n++] = 0xf0;
      section[n++] = 0x00;
    }
  length = n - 3 + 4;
  section[1] = 0xb0 | (length >> 8);
  section[2] = length & 0xff;
  write_section (out, PID_PMT, &mux->cc_pmt, section, n);
}

static guint64
to_90k (gint64 ns)
{
  /* Session times are >= 0; keep the arithmetic in 64 bits without overflow for years. */
  return (guint64) (MAX (ns, 0) / 100000) * 9 + ((MAX (ns, 0) % 100000) * 9) / 100000 +
         TS_OFFSET_90K;
}

static void
write_timestamp (guint8  *p,
                 guint8   prefix,
                 guint64  ts)
{
  ts &= G_GUINT64_CONSTANT (0x1ffffffff);
  p[0] = (prefix << 4) | ((ts >> 29) & 0x0e) | 1;
  p[1] = (ts >> 22) & 0xff;
  p[2] = ((ts >> 14) & 0xfe) | 1;
  p[3] = (ts >> 7) & 0xff;
  p[4] = ((ts << 1) & 0xfe) | 1;
}

static void
write_pcr (guint8  *p,
           guint64  base)
{
  base &= G_GUINT64_CONSTANT (0x1ffffffff);
  p[0] = base >> 25;
  p[1] = base >> 17;
  p[2] = base >> 9;
  p[3] = base >> 1;
  p[4] = ((base & 1) << 7) | 0x7e;
  p[5] = 0;
}

/* Splits one PES packet into TS packets. */
static void
write_packets (LtOutFile    *out,
               guint16       pid,
               guint8       *cc,
               const guint8 *data,
               gsize         size,
               gboolean      with_pcr,
               guint64       pcr,
               gboolean      random_access)
{
  gboolean first = TRUE;

  while (size > 0)
    {
      guint8 *p = _lt_out_file_reserve (out, TS_PACKET_SIZE);
      gsize af_min = 0;     /* adaptation field bytes we need, length byte included */
      gsize payload, af;
      guint8 flags = 0;

      if (first && (with_pcr || random_access))
        {
          flags = (random_access ? 0x40 : 0) | (with_pcr ? 0x10 : 0);
          af_min = 2 + (with_pcr ? 6 : 0);
        }
      payload = MIN (size, 184 - af_min);
      af = 184 - payload;

      p[0] = 0x47;
      p[1] = (first ? 0x40 : 0) | ((pid >> 8) & 0x1f);
      p[2] = pid & 0xff;
      p[3] = (af > 0 ? 0x30 : 0x10) | (*cc & 0x0f);
      *cc = (*cc + 1) & 0x0f;

      if (af > 0)
        {
          p[4] = af - 1;
          if (af > 1)
            {
              gsize pos = 6;

              p[5] = flags;
              if (flags & 0x10)
                {
                  write_pcr (p + 6, pcr);
                  pos += 6;
                }
              memset (p + pos, 0xff, 4 + af - pos);
            }
        }
      memcpy (p + 4 + af, data, payload);
      data += payload;
      size -= payload;
      first = FALSE;
    }
}

/* A packet with nothing but a PCR: keeps the clock going while the PCR PID is silent. */
static void
write_pcr_only (LtOutFile *out,
                guint16    pid,
                guint8     cc,
                guint64    pcr)
{
  guint8 *p = _lt_out_file_reserve (out, TS_PACKET_SIZE);

  p[0] = 0x47;
  p[1] = (pid >> 8) & 0x1f;
  p[2] = pid & 0xff;
  /* Adaptation only: the counter does not advance, it repeats the PID's last value. */
  p[3] = 0x20 | ((cc - 1) & 0x0f);
  p[4] = 183;
  p[5] = 0x10;
  write_pcr (p + 6, pcr);
  memset (p + 12, 0xff, TS_PACKET_SIZE - 12);
}

static void
append_pes_header (GByteArray *pes,
                   guint8      stream_id,
                   guint64     pts,
                   guint64     dts,
                   gboolean    with_dts)
{
  guint8 header[19];
  gsize n = 9;

  header[0] = 0;
  header[1] = 0;
  header[2] = 1;
  header[3] = stream_id;
  header[4] = 0;  /* length, filled in for audio */
  header[5] = 0;
  header[6] = 0x84; /* '10', data_alignment_indicator */
  header[7] = with_dts ? 0xc0 : 0x80;
  header[8] = with_dts ? 10 : 5;
  write_timestamp (header + n, with_dts ? 3 : 2, pts);
  n += 5;
  if (with_dts)
    {
      write_timestamp (header + n, 1, dts);
      n += 5;
    }
  g_byte_array_append (pes, header, n);
}

/* Length-prefixed NAL units to Annex B, with an AUD first and the parameter sets before
 * a keyframe unless the access unit carries its own. */
static void
append_annexb (GByteArray          *pes,
               const LtTrackConfig *config,
               const guint8        *data,
               gsize                size,
               gboolean             keyframe)
{
  static const guint8 aud_h264[] = { 0, 0, 0, 1, 0x09, 0xf0 };
  static const guint8 aud_h265[] = { 0, 0, 0, 1, 0x46, 0x01, 0x50 };
  static const guint8 start_code[] = { 0, 0, 0, 1 };
  gboolean h265 = config->codec == LT_CODEC_H265;
  guint len_size = config->nal_length_size;
  gboolean has_aud = FALSE;
  gboolean has_params = FALSE;
  gsize pos = 0;

  /* First pass: which NAL types are there already? */
  while (pos + len_size <= size)
    {
      gsize len = 0;
      guint type;

      for (guint i = 0; i < len_size; i++)
        len = (len << 8) | data[pos + i];
      if (len == 0 || pos + len_size + len > size)
        break;
      type = h265 ? (data[pos + len_size] >> 1) & 0x3f : data[pos + len_size] & 0x1f;
      if (h265 ? type == 35 : type == 9)
        has_aud = TRUE;
      else if (h265 ? (type == 32 || type == 33) : type == 7)
        has_params = TRUE;
      pos += len_size + len;
    }

  if (!has_aud)
    {
      if (h265)
        g_byte_array_append (pes, aud_h265, sizeof aud_h265);
      else
        g_byte_array_append (pes, aud_h264, sizeof aud_h264);
    }

  pos = 0;
  while (pos + len_size <= size)
    {
      gsize len = 0;
      guint type;

      for (guint i = 0; i < len_size; i++)
        len = (len << 8) | data[pos + i];
      if (len == 0 || pos + len_size + len > size)
        break;
      type = h265 ? (data[pos + len_size] >> 1) & 0x3f : data[pos + len_size] & 0x1f;

      /* Parameter sets go after the AUD, before the first slice. */
      if (keyframe && !has_params && config->annexb_headers != NULL &&
          !(h265 ? type == 35 : type == 9))
        {
          gsize headers_size = 0;
          const guint8 *headers = g_bytes_get_data (config->annexb_headers, &headers_size);

          g_byte_array_append (pes, headers, headers_size);
          has_params = TRUE;
        }
      g_byte_array_append (pes, start_code, sizeof start_code);
      g_byte_array_append (pes, data + pos + len_size, len);
      pos += len_size + len;
    }
}

static void
append_adts_header (GByteArray          *pes,
                    const LtTrackConfig *config,
                    gsize                payload_size)
{
  guint8 h[7];
  gsize frame_length = payload_size + 7;

  h[0] = 0xff;
  h[1] = 0xf1; /* MPEG-4, layer 0, no CRC */
  h[2] = (config->aac_profile << 6) | (config->aac_rate_index << 2) |
         ((config->aac_channel_config >> 2) & 0x01);
  h[3] = ((config->aac_channel_config & 0x03) << 6) | ((frame_length >> 11) & 0x03);
  h[4] = (frame_length >> 3) & 0xff;
  h[5] = ((frame_length & 0x07) << 5) | 0x1f;
  h[6] = 0xfc;
  g_byte_array_append (pes, h, sizeof h);
}

void
_lt_ts_mux_write_sample (LtTsMux        *mux,
                         LtOutFile      *out,
                         gboolean        is_video,
                         const LtSample *sample)
{
  LtTrackConfig *config = is_video ? mux->video : mux->audio;
  GstMapInfo map;
  guint64 dts = to_90k (sample->dts);
  guint64 pts = to_90k (MAX (sample->pts, sample->dts));
  guint64 pcr = dts > PCR_DELAY_90K ? dts - PCR_DELAY_90K : 0;
  gboolean is_pcr_pid;
  gboolean with_pcr = FALSE;

  if (config == NULL || !gst_buffer_map (sample->buffer, &map, GST_MAP_READ))
    return;

  /* Tables before every keyframe (a possible slice start) and, without video, twice a
   * second so that players can tune in anywhere. */
  if ((is_video && sample->keyframe) ||
      (mux->video == NULL &&
       (mux->last_tables == G_MAXUINT64 || dts >= mux->last_tables + MAX_TABLE_INTERVAL_90K)))
    {
      _lt_ts_mux_write_tables (mux, out);
      mux->last_tables = dts;
    }

  is_pcr_pid = (is_video ? PID_VIDEO : PID_AUDIO) == pcr_pid (mux);
  if (is_pcr_pid)
    with_pcr = TRUE;
  else if (mux->last_pcr == G_MAXUINT64 || pcr >= mux->last_pcr + PCR_INTERVAL_90K)
    {
      /* Video is silent (an audio-only stretch): keep the PCR running on its PID. */
      write_pcr_only (out, pcr_pid (mux), mux->cc_video, pcr);
      mux->last_pcr = pcr;
    }
  if (with_pcr)
    {
      /* Never step the clock back (audio can run slightly ahead of video). */
      if (mux->last_pcr != G_MAXUINT64 && pcr < mux->last_pcr)
        pcr = mux->last_pcr;
      mux->last_pcr = pcr;
    }

  g_byte_array_set_size (mux->pes, 0);
  if (is_video)
    {
      append_pes_header (mux->pes, 0xe0, pts, dts, pts != dts);
      if (config->codec == LT_CODEC_H264 || config->codec == LT_CODEC_H265)
        append_annexb (mux->pes, config, map.data, map.size, sample->keyframe);
      else
        {
          gsize headers_size = 0;
          const guint8 *headers = NULL;

          /* MPEG-4 Part 2: the configuration (VOS/VOL) before keyframes that lack it. */
          if (config->annexb_headers != NULL)
            headers = g_bytes_get_data (config->annexb_headers, &headers_size);
          if (sample->keyframe && headers != NULL &&
              !(map.size >= 4 && map.data[0] == 0 && map.data[1] == 0 && map.data[2] == 1 &&
                (map.data[3] == 0xb0 || map.data[3] <= 0x2f)))
            g_byte_array_append (mux->pes, headers, headers_size);
          g_byte_array_append (mux->pes, map.data, map.size);
        }
      write_packets (out, PID_VIDEO, &mux->cc_video, mux->pes->data, mux->pes->len,
                     with_pcr, pcr, sample->keyframe);
    }
  else
    {
      gsize pes_length;

      append_pes_header (mux->pes, 0xc0, pts, dts, FALSE);
      if (config->codec == LT_CODEC_AAC)
        append_adts_header (mux->pes, config, map.size);
      g_byte_array_append (mux->pes, map.data, map.size);
      pes_length = mux->pes->len - 6;
      if (pes_length <= 0xffff)
        {
          mux->pes->data[4] = pes_length >> 8;
          mux->pes->data[5] = pes_length & 0xff;
        }
      write_packets (out, PID_AUDIO, &mux->cc_audio, mux->pes->data, mux->pes->len,
                     with_pcr, pcr, mux->video == NULL);
    }

  gst_buffer_unmap (sample->buffer, &map);
}

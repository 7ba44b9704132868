/* lt-recorder-flv.c: an FLV writer (Adobe FLV 10.1) for recording files.
 *
 * Appending tags keeps a file playable after a crash at any moment. onMetaData is written
 * first with duration and filesize 0; closing patches both in place, which is what players
 * show as the file's duration.
 */
#include "config.h"

#include <string.h>

#include "lt-recorder-private.h"

#define TAG_AUDIO 8
#define TAG_VIDEO 9
#define TAG_SCRIPT 18

struct _LtFlvMux
{
  LtTrackConfig *video;
  LtTrackConfig *audio;
  gint64         start;            /* ns: timestamp 0 of the file */
  gint64         end;              /* ns: end of the last sample */
  guint64        duration_offset;  /* file offset of the duration double */
  guint64        filesize_offset;
  GByteArray    *body;
};

gboolean
_lt_flv_mux_supports (const LtTrackConfig *config)
{
  return config == NULL ||
         config->codec == LT_CODEC_H264 ||
         config->codec == LT_CODEC_AAC ||
         config->codec == LT_CODEC_MP3;
}

LtFlvMux *
_lt_flv_mux_new (LtTrackConfig *video,
                 LtTrackConfig *audio)
{
  LtFlvMux *mux = g_new0 (LtFlvMux, 1);

  g_return_val_if_fail (_lt_flv_mux_supports (video) && _lt_flv_mux_supports (audio), NULL);

  mux->video = video != NULL ? _lt_track_config_ref (video) : NULL;
  mux->audio = audio != NULL ? _lt_track_config_ref (audio) : NULL;
  mux->body = g_byte_array_new ();
  return mux;
}

void
_lt_flv_mux_free (LtFlvMux *mux)
{
  if (mux == NULL)
    return;
  g_clear_pointer (&mux->video, _lt_track_config_unref);
  g_clear_pointer (&mux->audio, _lt_track_config_unref);
  g_byte_array_unref (mux->body);
  g_free (mux);
}

static void
write_tag (LtOutFile    *out,
           guint8        type,
           gint64        ts_ms,
           const guint8 *prefix,
           gsize         prefix_size,
           const guint8 *data,
           gsize         size)
{
  guint8 *h;
  guint32 ts = (guint32) CLAMP (ts_ms, 0, G_MAXUINT32);
  gsize body = prefix_size + size;

  h = _lt_out_file_reserve (out, 11);
  h[0] = type;
  _lt_write_u24_be (h + 1, body);
  _lt_write_u24_be (h + 4, ts & 0xffffff);
  h[7] = ts >> 24;
  _lt_write_u24_be (h + 8, 0);
  _lt_out_file_write (out, prefix, prefix_size);
  _lt_out_file_write (out, data, size);
  _lt_write_u32_be (_lt_out_file_reserve (out, 4), 11 + body);
}

static void
amf_key (GByteArray *b,
         const char *key)
{
  guint8 len[2];

  _lt_write_u16_be (len, strlen (key));
  g_byte_array_append (b, len, 2);
  g_byte_array_append (b, (const guint8 *) key, strlen (key));
}

/* Returns the offset of the double inside @b. */
static gsize
amf_number (GByteArray *b,
            const char *key,
            double      value)
{
  guint8 v[9];
  gsize offset;

  amf_key (b, key);
  v[0] = 0x00;
  _lt_write_double_be (v + 1, value);
  offset = b->len + 1;
  g_byte_array_append (b, v, 9);
  return offset;
}

static void
amf_bool (GByteArray *b,
          const char *key,
          gboolean    value)
{
  guint8 v[2] = { 0x01, value ? 1 : 0 };

  amf_key (b, key);
  g_byte_array_append (b, v, 2);
}

static void
amf_string (GByteArray *b,
            const char *key,
            const char *value)
{
  guint8 marker = 0x02;

  amf_key (b, key);
  g_byte_array_append (b, &marker, 1);
  amf_key (b, value);
}

static guint8
audio_flags (const LtTrackConfig *audio)
{
  guint8 rate;

  if (audio->codec == LT_CODEC_AAC)
    return 0xaf;  /* AAC: always "44 kHz, 16 bit, stereo"; the real values are in the ASC */

  if (audio->rate >= 44100)
    rate = 3;
  else if (audio->rate >= 22050)
    rate = 2;
  else if (audio->rate >= 11025)
    rate = 1;
  else
    rate = 0;
  return (2 << 4) | (rate << 2) | 0x02 | (audio->channels > 1 ? 1 : 0);
}

void
_lt_flv_mux_write_header (LtFlvMux  *mux,
                          LtOutFile *out,
                          gint64     start)
{
  static const guint8 on_metadata[] = { 0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a' };
  guint8 header[13] = { 'F', 'L', 'V', 1, 0, 0, 0, 0, 9, 0, 0, 0, 0 };
  g_autoptr(GByteArray) meta = g_byte_array_new ();
  guint8 array[5] = { 0x08, 0, 0, 0, 0 };
  static const guint8 object_end[] = { 0, 0, 0x09 };
  gsize duration_at, filesize_at;
  guint64 tag_start;
  guint n = 0;

  mux->start = start;
  mux->end = start;

  header[4] = (mux->audio != NULL ? 0x04 : 0) | (mux->video != NULL ? 0x01 : 0);
  _lt_out_file_write (out, header, sizeof header);

  g_byte_array_append (meta, on_metadata, sizeof on_metadata);
  g_byte_array_append (meta, array, sizeof array);
  duration_at = amf_number (meta, "duration", 0.0);
  filesize_at = amf_number (meta, "filesize", 0.0);
  n += 2;
  if (mux->video != NULL)
    {
      amf_number (meta, "width", mux->video->width);
      amf_number (meta, "height", mux->video->height);
      amf_number (meta, "videocodecid", 7);
      n += 3;
      if (mux->video->fps_n > 0)
        {
          amf_number (meta, "framerate", (double) mux->video->fps_n / mux->video->fps_d);
          n++;
        }
    }
  if (mux->audio != NULL)
    {
      amf_number (meta, "audiocodecid", mux->audio->codec == LT_CODEC_AAC ? 10 : 2);
      amf_number (meta, "audiosamplerate", mux->audio->rate);
      amf_number (meta, "audiosamplesize", 16);
      amf_bool (meta, "stereo", mux->audio->channels > 1);
      n += 4;
    }
  amf_string (meta, "encoder", "Livetape");
  n++;
  g_byte_array_append (meta, object_end, sizeof object_end);
  _lt_write_u32_be (meta->data + sizeof on_metadata + 1, n);

  tag_start = _lt_out_file_tell (out);
  write_tag (out, TAG_SCRIPT, 0, NULL, 0, meta->data, meta->len);
  mux->duration_offset = tag_start + 11 + duration_at;
  mux->filesize_offset = tag_start + 11 + filesize_at;

  if (mux->video != NULL && mux->video->codec_data != NULL)
    {
      static const guint8 prefix[] = { 0x17, 0x00, 0, 0, 0 };
      gsize size;
      const guint8 *data = g_bytes_get_data (mux->video->codec_data, &size);

      write_tag (out, TAG_VIDEO, 0, prefix, sizeof prefix, data, size);
    }
  if (mux->audio != NULL && mux->audio->codec == LT_CODEC_AAC)
    {
      guint8 prefix[2] = { audio_flags (mux->audio), 0x00 };
      gsize size;
      const guint8 *data = g_bytes_get_data (mux->audio->codec_data, &size);

      write_tag (out, TAG_AUDIO, 0, prefix, sizeof prefix, data, size);
    }
}

void
_lt_flv_mux_write_sample (LtFlvMux       *mux,
                          LtOutFile      *out,
                          gboolean        is_video,
                          const LtSample *sample)
{
  GstMapInfo map;
  gint64 ts_ms = (MAX (sample->dts, mux->start) - mux->start) / GST_MSECOND;

  if ((is_video ? mux->video : mux->audio) == NULL)
    return;
  if (!gst_buffer_map (sample->buffer, &map, GST_MAP_READ))
    return;

  if (is_video)
    {
      gint64 cts = (MAX (sample->pts, sample->dts) - sample->dts) / GST_MSECOND;
      guint8 prefix[5];

      prefix[0] = (sample->keyframe ? 0x10 : 0x20) | 7;
      prefix[1] = 0x01;
      _lt_write_u24_be (prefix + 2, (guint32) CLAMP (cts, 0, 0x7fffff));
      write_tag (out, TAG_VIDEO, ts_ms, prefix, sizeof prefix, map.data, map.size);
    }
  else if (mux->audio->codec == LT_CODEC_AAC)
    {
      guint8 prefix[2] = { audio_flags (mux->audio), 0x01 };

      write_tag (out, TAG_AUDIO, ts_ms, prefix, sizeof prefix, map.data, map.size);
    }
  else
    {
      guint8 prefix[1] = { audio_flags (mux->audio) };

      write_tag (out, TAG_AUDIO, ts_ms, prefix, sizeof prefix, map.data, map.size);
    }
  gst_buffer_unmap (sample->buffer, &map);

  mux->end = MAX (mux->end, sample->dts + sample->duration);
}

gint64
_lt_flv_mux_get_duration (LtFlvMux *mux)
{
  return mux->end - mux->start;
}

gboolean
_lt_flv_mux_finish (LtFlvMux  *mux,
                    LtOutFile *out)
{
  guint8 value[8];

  if (!_lt_out_file_commit (out, 0))
    return FALSE;
  _lt_write_double_be (value, (double) _lt_flv_mux_get_duration (mux) / GST_SECOND);
  if (!_lt_out_file_patch (out, mux->duration_offset, value, sizeof value))
    return FALSE;
  _lt_write_double_be (value, (double) _lt_out_file_tell (out));
  return _lt_out_file_patch (out, mux->filesize_offset, value, sizeof value);
}

/* lt-recorder-track.c: track configurations from parsed caps, and LtOutFile, the buffered
 * output file every recorder muxer writes through. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gst/base/gstbitreader.h>
#include <gst/pbutils/pbutils.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lt-recorder-private.h"

const char *
_lt_codec_to_string (LtCodec codec)
{
  switch (codec)
    {
    case LT_CODEC_H264:
      return "h264";
    case LT_CODEC_H265:
      return "h265";
    case LT_CODEC_MPEG4:
      return "mpeg4";
    case LT_CODEC_AAC:
      return "aac";
    case LT_CODEC_MP3:
      return "mp3";
    case LT_CODEC_NONE:
    default:
      return NULL;
    }
}

static void
append_start_code_nal (GByteArray   *out,
                       const guint8 *nal,
                       gsize         size)
{
  static const guint8 start_code[4] = { 0, 0, 0, 1 };

  g_byte_array_append (out, start_code, sizeof start_code);
  g_byte_array_append (out, nal, size);
}

/* avcC: parameter sets with start codes, and the NAL length size. */
static gboolean
parse_avcc (const guint8 *data,
            gsize         size,
            guint        *nal_length_size,
            GByteArray   *headers)
{
  gsize pos = 6;
  guint n;

  if (size < 7 || data[0] != 1)
    return FALSE;
  *nal_length_size = (data[4] & 0x03) + 1;
  if (*nal_length_size == 3)
    return FALSE;

  n = data[5] & 0x1f;
  for (guint i = 0; i < n; i++)
    {
      gsize len;

      if (pos + 2 > size)
        return FALSE;
      len = _lt_read_u16_be (data + pos);
      pos += 2;
      if (pos + len > size)
        return FALSE;
      append_start_code_nal (headers, data + pos, len);
      pos += len;
    }
  if (pos + 1 > size)
    return FALSE;
  n = data[pos++];
  for (guint i = 0; i < n; i++)
    {
      gsize len;

      if (pos + 2 > size)
        return FALSE;
      len = _lt_read_u16_be (data + pos);
      pos += 2;
      if (pos + len > size)
        return FALSE;
      append_start_code_nal (headers, data + pos, len);
      pos += len;
    }
  return headers->len > 0;
}

/* hvcC: VPS/SPS/PPS (and SEI arrays) with start codes. */
static gboolean
parse_hvcc (const guint8 *data,
            gsize         size,
            guint        *nal_length_size,
            GByteArray   *headers)
{
  gsize pos = 23;
  guint n_arrays;

  if (size < 23)
    return FALSE;
  *nal_length_size = (data[21] & 0x03) + 1;
  if (*nal_length_size == 3)
    return FALSE;

  n_arrays = data[22];
  for (guint i = 0; i < n_arrays; i++)
    {
      guint n_nals;

      if (pos + 3 > size)
        return FALSE;
      n_nals = _lt_read_u16_be (data + pos + 1);
      pos += 3;
      for (guint j = 0; j < n_nals; j++)
        {
          gsize len;

          if (pos + 2 > size)
            return FALSE;
          len = _lt_read_u16_be (data + pos);
          pos += 2;
          if (pos + len > size)
            return FALSE;
          append_start_code_nal (headers, data + pos, len);
          pos += len;
        }
    }
  return headers->len > 0;
}

static const guint aac_rates[] = {
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350
};

static guint8
aac_rate_index (guint rate)
{
  guint8 best = 4;
  guint best_diff = G_MAXUINT;

  for (guint8 i = 0; i < G_N_ELEMENTS (aac_rates); i++)
    {
      guint diff = rate > aac_rates[i] ? rate - aac_rates[i] : aac_rates[i] - rate;

      if (diff < best_diff)
        {
          best = i;
          best_diff = diff;
        }
    }
  return best;
}

/* AudioSpecificConfig (ISO 14496-3 1.6.2.1): what an ADTS header needs. */
static gboolean
parse_asc (const guint8  *data,
           gsize          size,
           LtTrackConfig *config)
{
  GstBitReader reader;
  guint8 object_type = 0;
  guint8 rate_index = 0;
  guint8 channels = 0;

  if (size < 2)
    return FALSE;
  gst_bit_reader_init (&reader, data, size);
  if (!gst_bit_reader_get_bits_uint8 (&reader, &object_type, 5))
    return FALSE;
  if (object_type == 31)
    {
      guint8 ext = 0;

      if (!gst_bit_reader_get_bits_uint8 (&reader, &ext, 6))
        return FALSE;
      object_type = 32 + ext;
    }
  if (!gst_bit_reader_get_bits_uint8 (&reader, &rate_index, 4))
    return FALSE;
  if (rate_index == 15)
    {
      guint32 rate = 0;

      if (!gst_bit_reader_get_bits_uint32 (&reader, &rate, 24))
        return FALSE;
      rate_index = aac_rate_index (rate);
    }
  if (!gst_bit_reader_get_bits_uint8 (&reader, &channels, 4))
    return FALSE;

  /* HE-AAC with explicit signalling: ADTS describes the AAC-LC core. */
  if (object_type == 5 || object_type == 29)
    object_type = 2;
  if (object_type < 1 || object_type > 4)
    object_type = 2;

  config->aac_profile = object_type - 1;
  config->aac_rate_index = rate_index;
  config->aac_channel_config = channels;
  return TRUE;
}

LtTrackConfig *
_lt_track_config_new_from_caps (const GstCaps  *caps,
                                gboolean       *ready,
                                char          **unsupported)
{
  g_autoptr(LtTrackConfig) config = NULL;
  GstStructure *s;
  const char *name;
  const GValue *value;
  GstBuffer *codec_data = NULL;

  *ready = FALSE;
  *unsupported = NULL;
  g_return_val_if_fail (GST_IS_CAPS (caps) && gst_caps_get_size (caps) > 0, NULL);

  s = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (s);

  config = g_new0 (LtTrackConfig, 1);
  config->ref_count = 1;

  value = gst_structure_get_value (s, "codec_data");
  if (value != NULL && G_VALUE_HOLDS (value, GST_TYPE_BUFFER))
    codec_data = gst_value_get_buffer (value);
  if (codec_data != NULL && gst_buffer_get_size (codec_data) > 0)
    {
      gsize size = gst_buffer_get_size (codec_data);
      guint8 *copy = g_malloc (size);

      gst_buffer_extract (codec_data, 0, copy, size);
      config->codec_data = g_bytes_new_take (copy, size);
    }

  if (g_str_equal (name, "video/x-h264") || g_str_equal (name, "video/x-h265"))
    {
      gboolean h265 = g_str_equal (name, "video/x-h265");
      const char *format = gst_structure_get_string (s, "stream-format");
      g_autoptr(GByteArray) headers = g_byte_array_new ();
      gsize size = 0;
      const guint8 *data;

      config->codec = h265 ? LT_CODEC_H265 : LT_CODEC_H264;
      config->is_video = TRUE;
      /* The parsers are asked for avc / hvc1; anything else is not ready yet. */
      if (config->codec_data == NULL || format == NULL ||
          !(g_str_equal (format, "avc") || g_str_equal (format, "hvc1")))
        return NULL;
      data = g_bytes_get_data (config->codec_data, &size);
      if (!(h265 ? parse_hvcc (data, size, &config->nal_length_size, headers)
                 : parse_avcc (data, size, &config->nal_length_size, headers)))
        return NULL;
      config->annexb_headers = g_byte_array_free_to_bytes (g_steal_pointer (&headers));
    }
  else if (g_str_equal (name, "video/mpeg"))
    {
      int version = 0;
      gboolean system = FALSE;

      gst_structure_get_int (s, "mpegversion", &version);
      gst_structure_get_boolean (s, "systemstream", &system);
      if (version != 4 || system)
        {
          *unsupported = gst_pb_utils_get_codec_description (caps);
          return NULL;
        }
      config->codec = LT_CODEC_MPEG4;
      config->is_video = TRUE;
      if (config->codec_data != NULL)
        config->annexb_headers = g_bytes_ref (config->codec_data);
    }
  else if (g_str_equal (name, "audio/mpeg"))
    {
      int version = 0;

      gst_structure_get_int (s, "mpegversion", &version);
      if (version == 2 || version == 4)
        {
          const char *format = gst_structure_get_string (s, "stream-format");
          gsize size = 0;
          const guint8 *data;

          config->codec = LT_CODEC_AAC;
          if (config->codec_data == NULL || g_strcmp0 (format, "raw") != 0)
            return NULL;
          data = g_bytes_get_data (config->codec_data, &size);
          if (!parse_asc (data, size, config))
            return NULL;
        }
      else if (version == 1)
        {
          int layer = 3;
          int audio_version = 1;

          gst_structure_get_int (s, "layer", &layer);
          gst_structure_get_int (s, "mpegaudioversion", &audio_version);
          if (layer != 3)
            {
              *unsupported = gst_pb_utils_get_codec_description (caps);
              return NULL;
            }
          config->codec = LT_CODEC_MP3;
          config->mpeg_audio_version = audio_version == 1 ? 1 : 2;
        }
      else
        {
          *unsupported = gst_pb_utils_get_codec_description (caps);
          return NULL;
        }
    }
  else
    {
      *unsupported = gst_pb_utils_get_codec_description (caps);
      return NULL;
    }

  if (config->is_video)
    {
      int width = 0, height = 0;

      gst_structure_get_int (s, "width", &width);
      gst_structure_get_int (s, "height", &height);
      config->width = MAX (width, 0);
      config->height = MAX (height, 0);
      if (!gst_structure_get_fraction (s, "framerate", &config->fps_n, &config->fps_d) ||
          config->fps_n <= 0 || config->fps_d <= 0)
        {
          config->fps_n = 0;
          config->fps_d = 1;
        }
    }
  else
    {
      int rate = 0, channels = 0;

      gst_structure_get_int (s, "rate", &rate);
      gst_structure_get_int (s, "channels", &channels);
      config->rate = rate > 0 ? rate : 44100;
      config->channels = channels > 0 ? channels : 2;
      if (config->codec == LT_CODEC_AAC && rate <= 0)
        config->rate = aac_rates[MIN (config->aac_rate_index, G_N_ELEMENTS (aac_rates) - 1)];
    }

  *ready = TRUE;
  return g_steal_pointer (&config);
}

LtTrackConfig *
_lt_track_config_ref (LtTrackConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  g_atomic_int_inc (&config->ref_count);
  return config;
}

void
_lt_track_config_unref (LtTrackConfig *config)
{
  if (config == NULL || !g_atomic_int_dec_and_test (&config->ref_count))
    return;

  g_clear_pointer (&config->codec_data, g_bytes_unref);
  g_clear_pointer (&config->annexb_headers, g_bytes_unref);
  g_free (config);
}

static gboolean
bytes_equal0 (GBytes *a,
              GBytes *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_bytes_equal (a, b);
}

/* Equal configurations can share one MP4 moov / FLV sequence header. */
gboolean
_lt_track_config_equal (const LtTrackConfig *a,
                        const LtTrackConfig *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return a->codec == b->codec &&
         a->is_video == b->is_video &&
         bytes_equal0 (a->codec_data, b->codec_data) &&
         a->width == b->width &&
         a->height == b->height &&
         a->rate == b->rate &&
         a->channels == b->channels &&
         a->mpeg_audio_version == b->mpeg_audio_version;
}

/* ---- LtOutFile ---- */

/* The running MD5 no longer describes the file: unknown from now on. */
static void
drop_md5 (LtOutFile *file)
{
  g_clear_pointer (&file->md5, g_checksum_free);
  file->md5_bytes = 0;
}

static void
drop_block_md5s (LtOutFile *file)
{
  file->block_size = 0;
  g_clear_pointer (&file->block_md5, g_checksum_free);
  g_clear_pointer (&file->blocks, g_ptr_array_unref);
}

static void
hash_blocks (LtOutFile    *file,
             const guint8 *data,
             gsize         len)
{
  while (len > 0)
    {
      gsize take = (gsize) MIN ((guint64) len,
                                file->block_size - file->block_bytes % file->block_size);

      g_checksum_update (file->block_md5, data, take);
      file->block_bytes += take;
      data += take;
      len -= take;
      if (file->block_bytes % file->block_size == 0)
        {
          g_ptr_array_add (file->blocks, file->block_patched
                                         ? NULL
                                         : g_strdup (g_checksum_get_string (file->block_md5)));
          g_checksum_reset (file->block_md5);
          file->block_patched = FALSE;
        }
    }
}

/* A patch of [@offset, @offset + @size): the blocks it touches are unknown now. */
static void
patch_blocks (LtOutFile *file,
              guint64    offset,
              gsize      size)
{
  if (file->block_size == 0 || size == 0)
    return;
  for (guint64 i = offset / file->block_size; i <= (offset + size - 1) / file->block_size; i++)
    {
      if (i < file->blocks->len)
        g_clear_pointer (&g_ptr_array_index (file->blocks, i), g_free);
      else
        file->block_patched = TRUE;
    }
}

LtOutFile *
_lt_out_file_create (const char  *path,
                     GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  LtOutFile *file;
  int fd;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (saved_errno));
      return NULL;
    }

  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }

  file = g_new0 (LtOutFile, 1);
  file->fd = fd;
  file->path = g_strdup (path);
  file->alloc = 2 * LT_OUT_FILE_FLUSH_THRESHOLD;
  file->data = g_malloc (file->alloc);
  return file;
}

guint8 *
_lt_out_file_reserve (LtOutFile *file,
                      gsize      size)
{
  guint8 *ptr;

  if (file->len + size > file->alloc)
    {
      file->alloc = MAX (file->alloc * 2, file->len + size);
      file->data = g_realloc (file->data, file->alloc);
    }
  ptr = file->data + file->len;
  file->len += size;
  return ptr;
}

void
_lt_out_file_write (LtOutFile  *file,
                    const void *data,
                    gsize       size)
{
  if (size > 0)
    memcpy (_lt_out_file_reserve (file, size), data, size);
}

gboolean
_lt_out_file_commit (LtOutFile *file,
                     gsize      threshold)
{
  gsize done = 0;

  if (file->error != 0)
    {
      file->len = 0;
      return FALSE;
    }
  if (file->len == 0 || file->len < threshold)
    return TRUE;

  while (done < file->len)
    {
      struct iovec iov = { file->data + done, file->len - done };
      ssize_t n = writev (file->fd, &iov, 1);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          file->error = errno;
          /* What is on disk now is uncertain (a partial write, the cut back may fail). */
          drop_md5 (file);
          drop_block_md5s (file);
          /* Cut back to the last unit boundary, so the file stays valid. */
          if (done > 0 && ftruncate (file->fd, file->flushed) != 0)
            {
              /* Nothing more to do: the error is reported already. */
            }
          file->len = 0;
          return FALSE;
        }
      done += n;
    }
  /* Only bytes that reached the file count, in the order they were written. */
  if (file->md5 != NULL)
    {
      g_checksum_update (file->md5, file->data, file->len);
      file->md5_bytes += file->len;
    }
  if (file->block_size > 0)
    hash_blocks (file, file->data, file->len);
  file->flushed += file->len;
  file->len = 0;

  /* Very large buffers (a long fragment) are not kept around. */
  if (file->alloc > 8 * LT_OUT_FILE_FLUSH_THRESHOLD)
    {
      file->alloc = 2 * LT_OUT_FILE_FLUSH_THRESHOLD;
      file->data = g_realloc (file->data, file->alloc);
    }
  return TRUE;
}

gboolean
_lt_out_file_patch (LtOutFile  *file,
                    guint64     offset,
                    const void *data,
                    gsize       size)
{
  gsize done = 0;

  /* Bytes already hashed are overwritten (or may be, if this fails). */
  drop_md5 (file);
  if (file->error != 0)
    return FALSE;
  if (offset + size > file->flushed)
    {
      if (!_lt_out_file_commit (file, 0))
        return FALSE;
      if (offset + size > file->flushed)
        return FALSE;
    }
  patch_blocks (file, offset, size);
  while (done < size)
    {
      ssize_t n = pwrite (file->fd, (const guint8 *) data + done, size - done, offset + done);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          file->error = errno;
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

guint64
_lt_out_file_tell (LtOutFile *file)
{
  return file->flushed + file->len;
}

void
_lt_out_file_enable_md5 (LtOutFile *file)
{
  /* Bytes written before would be missing from it. */
  if (file->md5 != NULL || file->flushed > 0 || file->error != 0)
    return;
  file->md5 = g_checksum_new (G_CHECKSUM_MD5);
  file->md5_bytes = 0;
}

char *
_lt_out_file_dup_md5 (LtOutFile *file)
{
  g_autoptr(GChecksum) copy = NULL;

  if (file->md5 == NULL || file->error != 0 || file->md5_bytes != file->flushed)
    return NULL;
  /* g_checksum_get_string() closes a checksum: the running one goes on. */
  copy = g_checksum_copy (file->md5);
  return g_strdup (g_checksum_get_string (copy));
}

void
_lt_out_file_enable_block_md5 (LtOutFile *file,
                               guint64    block_size)
{
  if (block_size == 0 || file->block_size != 0 || file->flushed > 0 || file->len > 0
      || file->error != 0)
    return;
  file->block_size = block_size;
  file->block_md5 = g_checksum_new (G_CHECKSUM_MD5);
  file->block_bytes = 0;
  file->block_patched = FALSE;
  file->blocks = g_ptr_array_new_with_free_func (g_free);
}

char *
_lt_out_file_dup_block_md5s (LtOutFile *file)
{
  GString *text;

  if (file->block_size == 0 || file->error != 0 || file->len > 0
      || file->block_bytes != file->flushed)
    return NULL;
  text = g_string_new (NULL);
  g_string_append_printf (text, "%" G_GUINT64_FORMAT ":", file->block_size);
  for (guint i = 0; i < file->blocks->len; i++)
    {
      const char *md5 = g_ptr_array_index (file->blocks, i);

      if (i > 0)
        g_string_append_c (text, ',');
      g_string_append (text, md5 != NULL ? md5 : "-");
    }
  if (file->block_bytes % file->block_size != 0)
    {
      g_autoptr(GChecksum) copy = g_checksum_copy (file->block_md5);

      if (file->blocks->len > 0)
        g_string_append_c (text, ',');
      g_string_append (text, file->block_patched ? "-" : g_checksum_get_string (copy));
    }
  return g_string_free (text, FALSE);
}

int
_lt_out_file_steal_fd (LtOutFile *file)
{
  int fd = file->fd;

  file->fd = -1;
  return fd;
}

void
_lt_out_file_free (LtOutFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  g_free (file->path);
  g_free (file->data);
  g_clear_pointer (&file->md5, g_checksum_free);
  drop_block_md5s (file);
  g_free (file);
}

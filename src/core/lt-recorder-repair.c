/* lt-recorder-repair.c: finishing an MP4 or FLV file that a crash left open.
 *
 * Both formats are written so that a file cut off at any moment plays up to its last
 * complete fragment or tag. What a crash leaves behind is a possibly torn tail and zero
 * durations (they are written when a file closes). Repair cuts the tail off at the last
 * complete unit and writes the durations, exactly as closing would have.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt-recorder-private.h"

static gboolean
read_at (int      fd,
         guint64  offset,
         void    *data,
         gsize    size)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = pread (fd, (guint8 *) data + done, size - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += n;
    }
  return TRUE;
}

static gboolean
write_at (int         fd,
          guint64     offset,
          const void *data,
          gsize       size)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = pwrite (fd, (const guint8 *) data + done, size - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += n;
    }
  return TRUE;
}

static gboolean
set_io_error (GError     **error,
              const char  *path)
{
  int saved_errno = errno != 0 ? errno : EIO;

  g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO,
               _("Could not repair “%s”: %s"), path, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
set_format_error (GError     **error,
                  const char  *path)
{
  g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED,
               _("“%s” is not a recording Livetape can repair"), path);
  return FALSE;
}

/* ---- FLV ---- */

/* The offset of the number @key in an onMetaData tag body, 0 when it has none. */
static guint64
flv_find_number (const guint8 *body,
                 gsize         size,
                 const char   *key)
{
  gsize key_len = strlen (key);
  gsize pos = 0;

  /* "onMetaData" string, then an ECMA array. */
  if (size < 18 || body[0] != 0x02)
    return 0;
  pos = 3 + _lt_read_u16_be (body + 1);
  if (pos + 5 > size || body[pos] != 0x08)
    return 0;
  pos += 5;
  while (pos + 3 <= size)
    {
      gsize len = _lt_read_u16_be (body + pos);
      gboolean match;

      if (len == 0)
        break;
      match = len == key_len && pos + 2 + len <= size && memcmp (body + pos + 2, key, len) == 0;
      pos += 2 + len;
      if (pos >= size)
        break;
      switch (body[pos])
        {
        case 0x00:
          if (match)
            return pos + 1;
          pos += 9;
          break;
        case 0x01:
          pos += 2;
          break;
        case 0x02:
          if (pos + 3 > size)
            return 0;
          pos += 3 + _lt_read_u16_be (body + pos + 1);
          break;
        default:
          return 0;
        }
    }
  return 0;
}

static gboolean
repair_flv (int          fd,
            const char  *path,
            guint64      file_size,
            gint64      *duration_us,
            GError     **error)
{
  guint8 header[13];
  guint64 pos = 13;
  guint64 meta_offset = 0;
  gsize meta_size = 0;
  gint64 last_ts[2] = { -1, -1 };
  gint64 last_step[2] = { 0, 0 };
  gint64 end_ms = 0;

  if (!read_at (fd, 0, header, sizeof header) || memcmp (header, "FLV", 3) != 0)
    return set_format_error (error, path);

  for (;;)
    {
      guint8 tag[11];
      gsize body;
      gint64 ts;

      if (pos + 11 > file_size || !read_at (fd, pos, tag, sizeof tag))
        break;
      body = _lt_read_u24_be (tag + 1);
      if (pos + 11 + body + 4 > file_size)
        break;
      ts = _lt_read_u24_be (tag + 4) | ((gint64) tag[7] << 24);
      if (tag[0] == 18 && meta_offset == 0)
        {
          meta_offset = pos + 11;
          meta_size = body;
        }
      else if (tag[0] == 8 || tag[0] == 9)
        {
          int i = tag[0] == 9 ? 0 : 1;

          if (last_ts[i] >= 0 && ts > last_ts[i])
            last_step[i] = ts - last_ts[i];
          last_ts[i] = ts;
          end_ms = MAX (end_ms, ts + last_step[i]);
        }
      pos += 11 + body + 4;
    }

  /* A torn last tag goes. */
  if (pos < file_size && ftruncate (fd, pos) != 0)
    return set_io_error (error, path);

  if (meta_offset != 0)
    {
      g_autofree guint8 *meta = g_malloc (meta_size);
      guint64 duration_at, filesize_at;
      guint8 value[8];

      if (!read_at (fd, meta_offset, meta, meta_size))
        return set_io_error (error, path);
      duration_at = flv_find_number (meta, meta_size, "duration");
      filesize_at = flv_find_number (meta, meta_size, "filesize");
      if (duration_at != 0)
        {
          _lt_write_double_be (value, (double) end_ms / 1000);
          if (!write_at (fd, meta_offset + duration_at, value, 8))
            return set_io_error (error, path);
        }
      if (filesize_at != 0)
        {
          _lt_write_double_be (value, (double) pos);
          if (!write_at (fd, meta_offset + filesize_at, value, 8))
            return set_io_error (error, path);
        }
    }
  *duration_us = end_ms * 1000;
  return TRUE;
}

/* ---- fragmented MP4 ---- */

typedef struct
{
  guint32 track_id;
  guint32 timescale;
  guint64 end;            /* track timescale */
  guint64 tkhd_duration;  /* file offsets of the duration fields, 0 when absent */
  gboolean tkhd_v1;
  guint64 mdhd_duration;
  gboolean mdhd_v1;
} Mp4Track;

typedef struct
{
  Mp4Track tracks[8];
  guint    n_tracks;
  guint64  mvhd_duration;
  gboolean mvhd_v1;
  guint32  movie_timescale;
  guint64  mehd_duration;
  gboolean mehd_v1;
} Mp4Info;

static Mp4Track *
mp4_track (Mp4Info *info,
           guint32  track_id)
{
  for (guint i = 0; i < info->n_tracks; i++)
    if (info->tracks[i].track_id == track_id)
      return &info->tracks[i];
  return NULL;
}

/* Walks the boxes in data[start, end) of the moov at file offset @base. */
static void
mp4_parse_moov (Mp4Info      *info,
                Mp4Track     *track,
                const guint8 *data,
                gsize         start,
                gsize         end,
                guint64       base)
{
  gsize pos = start;

  while (pos + 8 <= end)
    {
      gsize size = _lt_read_u32_be (data + pos);
      const guint8 *type = data + pos + 4;
      const guint8 *b = data + pos + 8;

      if (size < 8 || pos + size > end)
        return;
      if (memcmp (type, "trak", 4) == 0 && info->n_tracks < G_N_ELEMENTS (info->tracks))
        {
          Mp4Track *t = &info->tracks[info->n_tracks++];

          mp4_parse_moov (info, t, data, pos + 8, pos + size, base);
        }
      else if (memcmp (type, "mdia", 4) == 0 || memcmp (type, "mvex", 4) == 0)
        mp4_parse_moov (info, track, data, pos + 8, pos + size, base);
      else if (memcmp (type, "mvhd", 4) == 0 && size >= 32)
        {
          info->mvhd_v1 = b[0] == 1;
          info->movie_timescale = _lt_read_u32_be (b + (info->mvhd_v1 ? 20 : 12));
          info->mvhd_duration = base + pos + 8 + (info->mvhd_v1 ? 24 : 16);
        }
      else if (memcmp (type, "tkhd", 4) == 0 && track != NULL && size >= 32)
        {
          track->tkhd_v1 = b[0] == 1;
          track->track_id = _lt_read_u32_be (b + (track->tkhd_v1 ? 20 : 12));
          track->tkhd_duration = base + pos + 8 + (track->tkhd_v1 ? 28 : 20);
        }
      else if (memcmp (type, "mdhd", 4) == 0 && track != NULL && size >= 32)
        {
          track->mdhd_v1 = b[0] == 1;
          track->timescale = _lt_read_u32_be (b + (track->mdhd_v1 ? 20 : 12));
          track->mdhd_duration = base + pos + 8 + (track->mdhd_v1 ? 24 : 16);
        }
      else if (memcmp (type, "mehd", 4) == 0 && size >= 16)
        {
          info->mehd_v1 = b[0] == 1;
          info->mehd_duration = base + pos + 12;
        }
      pos += size;
    }
}

/* Adds the samples of one moof to the track ends; FALSE when it is malformed. */
static gboolean
mp4_parse_moof (Mp4Info      *info,
                const guint8 *data,
                gsize         size)
{
  gsize pos = 8;

  while (pos + 8 <= size)
    {
      gsize box = _lt_read_u32_be (data + pos);

      if (box < 8 || pos + box > size)
        return FALSE;
      if (memcmp (data + pos + 4, "traf", 4) == 0)
        {
          gsize p = pos + 8;
          Mp4Track *track = NULL;
          guint64 time = 0;
          guint32 default_duration = 0;

          while (p + 8 <= pos + box)
            {
              gsize child = _lt_read_u32_be (data + p);
              const guint8 *c = data + p + 8;

              if (child < 12 || p + child > pos + box)
                return FALSE;
              if (memcmp (data + p + 4, "tfhd", 4) == 0)
                {
                  guint32 flags = _lt_read_u24_be (c + 1);
                  gsize q = 8;

                  track = mp4_track (info, _lt_read_u32_be (c + 4));
                  if (flags & 0x01)
                    q += 8;
                  if (flags & 0x02)
                    q += 4;
                  if ((flags & 0x08) && 8 + q + 4 <= child)
                    default_duration = _lt_read_u32_be (c + q);
                }
              else if (memcmp (data + p + 4, "tfdt", 4) == 0)
                time = c[0] == 1 ? _lt_read_u64_be (c + 4) : _lt_read_u32_be (c + 4);
              else if (memcmp (data + p + 4, "trun", 4) == 0 && track != NULL)
                {
                  guint32 flags = _lt_read_u24_be (c + 1);
                  guint32 count = _lt_read_u32_be (c + 4);
                  gsize q = 8 + ((flags & 0x01) ? 4 : 0) + ((flags & 0x04) ? 4 : 0);
                  gsize per_sample = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) +
                                     ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);

                  if (8 + q + (gsize) count * per_sample > child)
                    return FALSE;
                  for (guint32 i = 0; i < count; i++)
                    {
                      time += (flags & 0x100) ? _lt_read_u32_be (c + q) : default_duration;
                      q += per_sample;
                    }
                  track->end = MAX (track->end, time);
                }
              p += child;
            }
        }
      pos += box;
    }
  return TRUE;
}

static gboolean
repair_mp4 (int          fd,
            const char  *path,
            guint64      file_size,
            gint64      *duration_us,
            GError     **error)
{
  Mp4Info info = { 0, };
  guint64 pos = 0;
  guint64 good_end = 0;
  guint64 movie_duration = 0;
  guint8 d[8];

  while (pos + 8 <= file_size)
    {
      guint8 header[16];
      guint64 size;
      gsize header_size = 8;

      if (!read_at (fd, pos, header, 8))
        return set_io_error (error, path);
      size = _lt_read_u32_be (header);
      if (size == 1)
        {
          if (pos + 16 > file_size || !read_at (fd, pos, header, 16))
            break;
          size = _lt_read_u64_be (header + 8);
          header_size = 16;
        }
      if (size < header_size || pos + size > file_size)
        break;

      if (memcmp (header + 4, "moov", 4) == 0 || memcmp (header + 4, "moof", 4) == 0)
        {
          g_autofree guint8 *box = NULL;

          if (size > 64 * 1024 * 1024)
            break;
          box = g_malloc (size);
          if (!read_at (fd, pos, box, size))
            return set_io_error (error, path);
          if (memcmp (header + 4, "moov", 4) == 0)
            mp4_parse_moov (&info, NULL, box, 8, size, pos);
          else
            {
              guint8 mdat[8];
              guint64 mdat_size;

              /* A fragment counts once its mdat is complete too. */
              if (pos + size + 8 > file_size || !read_at (fd, pos + size, mdat, 8) ||
                  memcmp (mdat + 4, "mdat", 4) != 0)
                break;
              mdat_size = _lt_read_u32_be (mdat);
              if (mdat_size < 8 || pos + size + mdat_size > file_size)
                break;
              if (!mp4_parse_moof (&info, box, size))
                break;
              pos += size + mdat_size;
              good_end = pos;
              continue;
            }
        }
      else if (memcmp (header + 4, "mfra", 4) == 0)
        {
          /* Closed cleanly: the index comes last. */
          pos += size;
          good_end = pos;
          break;
        }
      pos += size;
      good_end = pos;
    }

  if (info.movie_timescale == 0 || info.n_tracks == 0)
    return set_format_error (error, path);
  if (good_end < file_size && ftruncate (fd, good_end) != 0)
    return set_io_error (error, path);

  for (guint i = 0; i < info.n_tracks; i++)
    {
      Mp4Track *track = &info.tracks[i];
      guint64 movie;

      if (track->timescale == 0)
        continue;
      movie = gst_util_uint64_scale_round (track->end, info.movie_timescale, track->timescale);
      movie_duration = MAX (movie_duration, movie);
      if (track->mdhd_duration != 0)
        {
          if (track->mdhd_v1)
            _lt_write_u64_be (d, track->end);
          else
            _lt_write_u32_be (d, (guint32) MIN (track->end, G_MAXUINT32));
          if (!write_at (fd, track->mdhd_duration, d, track->mdhd_v1 ? 8 : 4))
            return set_io_error (error, path);
        }
      if (track->tkhd_duration != 0)
        {
          if (track->tkhd_v1)
            _lt_write_u64_be (d, movie);
          else
            _lt_write_u32_be (d, (guint32) MIN (movie, G_MAXUINT32));
          if (!write_at (fd, track->tkhd_duration, d, track->tkhd_v1 ? 8 : 4))
            return set_io_error (error, path);
        }
    }
  if (info.mvhd_duration != 0)
    {
      if (info.mvhd_v1)
        _lt_write_u64_be (d, movie_duration);
      else
        _lt_write_u32_be (d, (guint32) MIN (movie_duration, G_MAXUINT32));
      if (!write_at (fd, info.mvhd_duration, d, info.mvhd_v1 ? 8 : 4))
        return set_io_error (error, path);
    }
  if (info.mehd_duration != 0)
    {
      if (info.mehd_v1)
        _lt_write_u64_be (d, movie_duration);
      else
        _lt_write_u32_be (d, (guint32) MIN (movie_duration, G_MAXUINT32));
      if (!write_at (fd, info.mehd_duration, d, info.mehd_v1 ? 8 : 4))
        return set_io_error (error, path);
    }
  *duration_us = gst_util_uint64_scale (movie_duration, G_USEC_PER_SEC, info.movie_timescale);
  return TRUE;
}

gboolean
lt_recorder_repair_file (const char          *path,
                         LtRecordFormatKind   format,
                         gint64              *duration_us,
                         GError             **error)
{
  struct stat st;
  gint64 duration = 0;
  gboolean ok;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (format == LT_RECORD_FORMAT_MP4 || format == LT_RECORD_FORMAT_FLV, FALSE);

  fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      set_io_error (error, path);
      if (fd >= 0)
        close (fd);
      return FALSE;
    }

  if (format == LT_RECORD_FORMAT_FLV)
    ok = repair_flv (fd, path, st.st_size, &duration, error);
  else
    ok = repair_mp4 (fd, path, st.st_size, &duration, error);

  if (ok && fdatasync (fd) != 0)
    ok = set_io_error (error, path);
  close (fd);
  if (ok && duration_us != NULL)
    *duration_us = duration;
  return ok;
}

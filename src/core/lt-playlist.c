/* lt-playlist.c: M3U8 media playlists for recordings (EVENT) and index files (VOD). */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lt-playlist.h"

G_DEFINE_QUARK (lt-playlist-error-quark, lt_playlist_error)

struct _LtPlaylist
{
  GObject         parent_instance;

  LtPlaylistType  type;
  char           *key;
  guint           min_target_duration;
  guint64         media_sequence;
  GArray         *segments;   /* LtPlaylistSegment */
  gint64          duration_us;
  gboolean        ended;
};

G_DEFINE_FINAL_TYPE (LtPlaylist, lt_playlist, G_TYPE_OBJECT)

static void
segment_clear (gpointer data)
{
  LtPlaylistSegment *segment = data;

  g_clear_pointer (&segment->key, g_free);
}

static void
lt_playlist_finalize (GObject *object)
{
  LtPlaylist *self = LT_PLAYLIST (object);

  g_clear_pointer (&self->key, g_free);
  g_clear_pointer (&self->segments, g_array_unref);

  G_OBJECT_CLASS (lt_playlist_parent_class)->finalize (object);
}

static void
lt_playlist_class_init (LtPlaylistClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_playlist_finalize;
}

static void
lt_playlist_init (LtPlaylist *self)
{
  self->segments = g_array_new (FALSE, TRUE, sizeof (LtPlaylistSegment));
  g_array_set_clear_func (self->segments, segment_clear);
  self->min_target_duration = 1;
}

LtPlaylist *
lt_playlist_new (LtPlaylistType  type,
                 const char     *key)
{
  LtPlaylist *self;

  g_return_val_if_fail (key != NULL, NULL);

  self = g_object_new (LT_TYPE_PLAYLIST, NULL);
  self->type = type;
  self->key = g_strdup (key);
  self->ended = (type == LT_PLAYLIST_TYPE_VOD);
  return self;
}

LtPlaylistType
lt_playlist_get_playlist_type (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), LT_PLAYLIST_TYPE_EVENT);

  return self->type;
}

const char *
lt_playlist_get_key (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), NULL);

  return self->key;
}

void
lt_playlist_set_key (LtPlaylist *self,
                     const char *key)
{
  g_return_if_fail (LT_IS_PLAYLIST (self));
  g_return_if_fail (key != NULL);

  g_free (self->key);
  self->key = g_strdup (key);
}

void
lt_playlist_set_target_duration (LtPlaylist *self,
                                 guint       seconds)
{
  g_return_if_fail (LT_IS_PLAYLIST (self));

  self->min_target_duration = MAX (seconds, 1);
}

static guint
round_seconds (gint64 duration_us)
{
  return (guint) ((MAX (duration_us, 0) + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);
}

guint
lt_playlist_get_target_duration (LtPlaylist *self)
{
  guint target;

  g_return_val_if_fail (LT_IS_PLAYLIST (self), 0);

  target = self->min_target_duration;
  for (guint i = 0; i < self->segments->len; i++)
    {
      const LtPlaylistSegment *segment = &g_array_index (self->segments, LtPlaylistSegment, i);

      target = MAX (target, round_seconds (segment->duration_us));
    }
  return target;
}

void
lt_playlist_set_media_sequence (LtPlaylist *self,
                                guint64     media_sequence)
{
  g_return_if_fail (LT_IS_PLAYLIST (self));

  self->media_sequence = media_sequence;
}

guint64
lt_playlist_get_media_sequence (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), 0);

  return self->media_sequence;
}

void
lt_playlist_add_segment (LtPlaylist *self,
                         const char *key,
                         gint64      duration_us,
                         gint64      program_date_time,
                         gboolean    discontinuity)
{
  LtPlaylistSegment segment = { 0, };

  g_return_if_fail (LT_IS_PLAYLIST (self));
  g_return_if_fail (key != NULL);

  segment.key = g_strdup (key);
  segment.duration_us = MAX (duration_us, 0);
  segment.program_date_time = program_date_time;
  segment.discontinuity = discontinuity;
  g_array_append_val (self->segments, segment);
  self->duration_us += segment.duration_us;
}

guint
lt_playlist_get_n_segments (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), 0);

  return self->segments->len;
}

const LtPlaylistSegment *
lt_playlist_get_segment (LtPlaylist *self,
                         guint       index)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), NULL);
  g_return_val_if_fail (index < self->segments->len, NULL);

  return &g_array_index (self->segments, LtPlaylistSegment, index);
}

gint64
lt_playlist_get_duration (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), 0);

  return self->duration_us;
}

void
lt_playlist_set_ended (LtPlaylist *self,
                       gboolean    ended)
{
  g_return_if_fail (LT_IS_PLAYLIST (self));

  self->ended = ended || self->type == LT_PLAYLIST_TYPE_VOD;
}

gboolean
lt_playlist_get_ended (LtPlaylist *self)
{
  g_return_val_if_fail (LT_IS_PLAYLIST (self), FALSE);

  return self->ended;
}

/* Path segments of an object key; the last one is dropped when @dir_only. */
static GPtrArray *
split_key (const char *key,
           gboolean    dir_only)
{
  g_auto(GStrv) parts = g_strsplit (key, "/", -1);
  GPtrArray *segments = g_ptr_array_new_with_free_func (g_free);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++)
    {
      if (dir_only && i == n - 1)
        break;
      if (parts[i][0] == '\0')
        continue;
      g_ptr_array_add (segments, g_strdup (parts[i]));
    }
  return segments;
}

/* Sub-delimiters and '@' may stay; ':' is escaped so that a first segment can never be
 * read as a URI scheme, and '%' so that keys holding escapes keep them literally. */
#define SEGMENT_ALLOWED "!$&'()*+,;=@"

char *
lt_object_key_relative_uri (const char *from_key,
                            const char *to_key)
{
  g_autoptr(GPtrArray) from = NULL;
  g_autoptr(GPtrArray) to = NULL;
  GString *uri;
  guint common = 0;

  g_return_val_if_fail (from_key != NULL, NULL);
  g_return_val_if_fail (to_key != NULL, NULL);

  from = split_key (from_key, TRUE);
  to = split_key (to_key, FALSE);

  /* The last segment of @to is a file name, never a shared directory. */
  while (common < from->len && common + 1 < to->len &&
         g_str_equal (from->pdata[common], to->pdata[common]))
    common++;

  uri = g_string_new (NULL);
  for (guint i = common; i < from->len; i++)
    g_string_append (uri, "../");
  for (guint i = common; i < to->len; i++)
    {
      g_autofree char *escaped = g_uri_escape_string (to->pdata[i], SEGMENT_ALLOWED, FALSE);

      if (i > common)
        g_string_append_c (uri, '/');
      g_string_append (uri, escaped);
    }
  return g_string_free (uri, FALSE);
}

/* Resolves a relative URI reference from a playlist at @base_key into an object key. */
static char *
resolve_uri (const char *base_key,
             const char *uri)
{
  g_autoptr(GPtrArray) path = split_key (base_key, TRUE);
  g_auto(GStrv) parts = NULL;
  GString *key;

  if (uri[0] == '/')
    g_ptr_array_set_size (path, 0);

  parts = g_strsplit (uri, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *unescaped = g_uri_unescape_string (parts[i], NULL);

      if (unescaped == NULL || unescaped[0] == '\0' || g_str_equal (unescaped, "."))
        continue;
      if (g_str_equal (unescaped, ".."))
        {
          if (path->len == 0)
            return NULL;
          g_ptr_array_set_size (path, path->len - 1);
          continue;
        }
      g_ptr_array_add (path, g_steal_pointer (&unescaped));
    }
  if (path->len == 0)
    return NULL;

  key = g_string_new (NULL);
  for (guint i = 0; i < path->len; i++)
    {
      if (i > 0)
        g_string_append_c (key, '/');
      g_string_append (key, path->pdata[i]);
    }
  return g_string_free (key, FALSE);
}

static void
append_date_time (GString *out,
                  gint64   unix_us)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *text = NULL;
  gint64 seconds = unix_us / G_USEC_PER_SEC;
  gint64 rest = unix_us % G_USEC_PER_SEC;

  if (rest < 0)
    {
      seconds--;
      rest += G_USEC_PER_SEC;
    }
  dt = g_date_time_new_from_unix_utc (seconds);
  if (dt == NULL)
    dt = g_date_time_new_from_unix_utc (0);
  text = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  g_string_append_printf (out, "%s.%03dZ", text, (int) (rest / 1000));
}

char *
lt_playlist_to_string (LtPlaylist *self)
{
  GString *out;
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (LT_IS_PLAYLIST (self), NULL);

  out = g_string_sized_new (256 + 80 * self->segments->len);
  g_string_append (out, "#EXTM3U\n#EXT-X-VERSION:3\n");
  g_string_append_printf (out, "#EXT-X-PLAYLIST-TYPE:%s\n",
                          self->type == LT_PLAYLIST_TYPE_VOD ? "VOD" : "EVENT");
  g_string_append_printf (out, "#EXT-X-TARGETDURATION:%u\n",
                          lt_playlist_get_target_duration (self));
  g_string_append_printf (out, "#EXT-X-MEDIA-SEQUENCE:%" G_GUINT64_FORMAT "\n",
                          self->media_sequence);
  /* Every slice starts on a keyframe with its codec headers (SPEC section 3). */
  g_string_append (out, "#EXT-X-INDEPENDENT-SEGMENTS\n");

  for (guint i = 0; i < self->segments->len; i++)
    {
      const LtPlaylistSegment *segment = &g_array_index (self->segments, LtPlaylistSegment, i);
      g_autofree char *uri = lt_object_key_relative_uri (self->key, segment->key);

      if (segment->discontinuity && i > 0)
        g_string_append (out, "#EXT-X-DISCONTINUITY\n");
      if ((i == 0 || segment->discontinuity) && segment->program_date_time > 0)
        {
          g_string_append (out, "#EXT-X-PROGRAM-DATE-TIME:");
          append_date_time (out, segment->program_date_time);
          g_string_append_c (out, '\n');
        }
      g_ascii_formatd (number, sizeof number, "%.3f",
                       (double) segment->duration_us / G_USEC_PER_SEC);
      g_string_append_printf (out, "#EXTINF:%s,\n%s\n", number, uri);
    }

  if (self->ended)
    g_string_append (out, "#EXT-X-ENDLIST\n");

  return g_string_free (out, FALSE);
}

gboolean
lt_playlist_write_file (LtPlaylist  *self,
                        const char  *path,
                        GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (LT_IS_PLAYLIST (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  text = lt_playlist_to_string (self);
  return g_file_set_contents_full (path, text, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}

static gboolean
parse_date_time (const char *text,
                 gint64     *unix_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (text, NULL);

  if (dt == NULL)
    return FALSE;
  *unix_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC +
             g_date_time_get_microsecond (dt);
  return TRUE;
}

LtPlaylist *
lt_playlist_new_from_data (const char  *key,
                           const char  *data,
                           gsize        length,
                           GError     **error)
{
  g_autoptr(LtPlaylist) self = NULL;
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 pending_duration = -1;
  gint64 pending_pdt = 0;
  gboolean pending_discontinuity = FALSE;
  gboolean saw_header = FALSE;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  copy = g_strndup (data, length);
  lines = g_strsplit (copy, "\n", -1);
  self = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (line[0] == '\0')
        continue;
      if (!saw_header)
        {
          if (!g_str_equal (line, "#EXTM3U"))
            break;
          saw_header = TRUE;
          continue;
        }

      if (g_str_has_prefix (line, "#EXTINF:"))
        {
          char *end = NULL;
          double seconds = g_ascii_strtod (line + strlen ("#EXTINF:"), &end);

          if (end == line + strlen ("#EXTINF:") || seconds < 0)
            {
              g_set_error (error, LT_PLAYLIST_ERROR, LT_PLAYLIST_ERROR_PARSE,
                           _("Malformed #EXTINF on line %u"), i + 1);
              return NULL;
            }
          pending_duration = (gint64) (seconds * G_USEC_PER_SEC + 0.5);
        }
      else if (g_str_equal (line, "#EXT-X-DISCONTINUITY"))
        pending_discontinuity = TRUE;
      else if (g_str_has_prefix (line, "#EXT-X-PROGRAM-DATE-TIME:"))
        {
          if (!parse_date_time (line + strlen ("#EXT-X-PROGRAM-DATE-TIME:"), &pending_pdt))
            pending_pdt = 0;
        }
      else if (g_str_equal (line, "#EXT-X-ENDLIST"))
        self->ended = TRUE;
      else if (g_str_has_prefix (line, "#EXT-X-PLAYLIST-TYPE:"))
        {
          if (g_str_equal (line + strlen ("#EXT-X-PLAYLIST-TYPE:"), "VOD"))
            self->type = LT_PLAYLIST_TYPE_VOD;
        }
      else if (g_str_has_prefix (line, "#EXT-X-TARGETDURATION:"))
        self->min_target_duration =
          MAX (1, (guint) g_ascii_strtoull (line + strlen ("#EXT-X-TARGETDURATION:"), NULL, 10));
      else if (g_str_has_prefix (line, "#EXT-X-MEDIA-SEQUENCE:"))
        self->media_sequence = g_ascii_strtoull (line + strlen ("#EXT-X-MEDIA-SEQUENCE:"), NULL, 10);
      else if (line[0] == '#')
        continue;
      else
        {
          g_autofree char *segment_key = NULL;

          if (pending_duration < 0)
            {
              g_set_error (error, LT_PLAYLIST_ERROR, LT_PLAYLIST_ERROR_PARSE,
                           _("Segment without #EXTINF on line %u"), i + 1);
              return NULL;
            }
          segment_key = resolve_uri (key, line);
          if (segment_key == NULL)
            {
              g_set_error (error, LT_PLAYLIST_ERROR, LT_PLAYLIST_ERROR_PARSE,
                           _("Segment URI outside the bucket on line %u"), i + 1);
              return NULL;
            }
          lt_playlist_add_segment (self, segment_key, pending_duration, pending_pdt,
                                   pending_discontinuity);
          pending_duration = -1;
          pending_discontinuity = FALSE;
          pending_pdt = 0;
        }
    }

  if (!saw_header)
    {
      g_set_error_literal (error, LT_PLAYLIST_ERROR, LT_PLAYLIST_ERROR_PARSE,
                           _("Not an M3U8 playlist"));
      return NULL;
    }
  if (self->type == LT_PLAYLIST_TYPE_VOD)
    self->ended = TRUE;

  return g_steal_pointer (&self);
}

/* lt-playlist.h: M3U8 media playlists (RFC 8216) for recordings and index files.
 *
 * An LtPlaylist is a list of TS segments named by object keys. It renders the segment
 * URIs relative to the playlist's own object key, so a playlist plays from the local
 * storage folder and from the bucket alike. EVENT playlists grow as slices close and are
 * finished with #EXT-X-ENDLIST; VOD playlists (index files) are complete from the start.
 * Files are written atomically (temporary file, fsync, rename), so a reader or a crash
 * never sees half a playlist.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define LT_PLAYLIST_ERROR (lt_playlist_error_quark ())

typedef enum
{
  LT_PLAYLIST_ERROR_FAILED,
  LT_PLAYLIST_ERROR_PARSE,     /* not an M3U8 media playlist */
} LtPlaylistError;

GQuark lt_playlist_error_quark (void);

typedef enum
{
  LT_PLAYLIST_TYPE_EVENT,   /* #EXT-X-PLAYLIST-TYPE:EVENT: live recording, grows */
  LT_PLAYLIST_TYPE_VOD,     /* #EXT-X-PLAYLIST-TYPE:VOD: index files; always ENDLIST */
} LtPlaylistType;

typedef struct
{
  char     *key;                /* object key of the segment (".ts" included) */
  gint64    duration_us;        /* media duration */
  gint64    program_date_time;  /* wall-clock start, Unix µs UTC */
  gboolean  discontinuity;      /* #EXT-X-DISCONTINUITY before this segment */
} LtPlaylistSegment;

#define LT_TYPE_PLAYLIST (lt_playlist_get_type ())
G_DECLARE_FINAL_TYPE (LtPlaylist, lt_playlist, LT, PLAYLIST, GObject)

/* @key: the playlist's own object key (".m3u8" included), the base for segment URIs. */
LtPlaylist     *lt_playlist_new                  (LtPlaylistType  type,
                                                  const char     *key);
/* Parses a playlist this module (or another writer of plain TS media playlists) wrote,
 * e.g. to finish an EVENT playlist a crash left open. Segment keys are resolved against
 * @key. Tags this module does not write are ignored. */
LtPlaylist     *lt_playlist_new_from_data        (const char     *key,
                                                  const char     *data,
                                                  gsize           length,
                                                  GError        **error);

LtPlaylistType  lt_playlist_get_playlist_type    (LtPlaylist     *self);
const char     *lt_playlist_get_key              (LtPlaylist     *self);
/* Renames the playlist (e.g. from its in-progress to its final object key); segment URIs
 * are re-rendered relative to the new key. */
void            lt_playlist_set_key              (LtPlaylist     *self,
                                                  const char     *key);

/* The lower bound for #EXT-X-TARGETDURATION (seconds); the tag never goes below the
 * longest segment rounded to the nearest second, as RFC 8216 requires. */
void            lt_playlist_set_target_duration  (LtPlaylist     *self,
                                                  guint           seconds);
guint           lt_playlist_get_target_duration  (LtPlaylist     *self);
void            lt_playlist_set_media_sequence   (LtPlaylist     *self,
                                                  guint64         media_sequence);
guint64         lt_playlist_get_media_sequence   (LtPlaylist     *self);

/* Appends a segment. The first segment and every segment after a discontinuity carry
 * #EXT-X-PROGRAM-DATE-TIME. */
void            lt_playlist_add_segment          (LtPlaylist     *self,
                                                  const char     *key,
                                                  gint64          duration_us,
                                                  gint64          program_date_time,
                                                  gboolean        discontinuity);
guint           lt_playlist_get_n_segments       (LtPlaylist     *self);
const LtPlaylistSegment *lt_playlist_get_segment (LtPlaylist     *self,
                                                  guint           index);
gint64          lt_playlist_get_duration         (LtPlaylist     *self);

/* #EXT-X-ENDLIST. VOD playlists are always ended. */
void            lt_playlist_set_ended            (LtPlaylist     *self,
                                                  gboolean        ended);
gboolean        lt_playlist_get_ended            (LtPlaylist     *self);

char           *lt_playlist_to_string            (LtPlaylist     *self);
/* Atomically replaces @path with the rendered playlist (temporary file in the same
 * folder, fdatasync, rename). On failure @path is untouched. */
gboolean        lt_playlist_write_file           (LtPlaylist     *self,
                                                  const char     *path,
                                                  GError        **error);

/* The relative URI reference from the object @from_key (a playlist) to the object
 * @to_key (a segment): "../b/c.ts" style, each segment percent-encoded for use in a
 * playlist. */
char           *lt_object_key_relative_uri       (const char     *from_key,
                                                  const char     *to_key);

G_END_DECLS

/* lt-stream.h: one live stream (SPEC section 1) — its identity, domain / app / stream, and
 * the online session it is in: how it came in (push, pull or demo), the publish query
 * arguments, the codecs, picture size and measured bitrate, and the loopback URI the
 * recorder pulls it from.
 *
 * An LtStream lives for one online session: the producer (LtIngestServer, LtPullSource)
 * creates it, fills it in and adds it to the LtStreamRegistry; when the stream goes
 * offline the registry drops it and its "online" property turns FALSE. The next publish
 * of the same identity is a new LtStream. Everything here runs on the main context; the
 * setters are for producers and tests.
 */
#pragma once

#include <gio/gio.h>

#include "lt-enum-types.h"

G_BEGIN_DECLS

/* Same as the "default-domain" GSettings key's default. */
#define LT_DEFAULT_DOMAIN "live.livetape.local"

typedef enum
{
  LT_STREAM_SOURCE_PUSH,   /* RTMP publisher into the ingest server */
  LT_STREAM_SOURCE_PULL,   /* operator-added pull source */
  LT_STREAM_SOURCE_DEMO,   /* the built-in test pattern */
} LtStreamSourceKind;

/* "push", "pull", "demo" */
const char  *lt_stream_source_kind_to_string (LtStreamSourceKind kind);

#define LT_TYPE_STREAM (lt_stream_get_type ())
G_DECLARE_FINAL_TYPE (LtStream, lt_stream, LT, STREAM, GObject)

/* ---- identity helpers ---- */

/* The registry key of an identity: the three parts, domain lowercased, percent-escaped
 * and joined by '/', so that "a/b" + "c" and "a" + "b/c" never collide. */
char        *lt_stream_make_key              (const char *domain,
                                              const char *app,
                                              const char *name);
/* The domain for a host name as publishers and pull URLs give it: lowercased, without a
 * trailing dot; @default_domain when @host is NULL, empty, an IP address or localhost. */
char        *lt_stream_domain_from_host      (const char *host,
                                              const char *default_domain);
/* Same for the host part of @url (rtmp://, srt://, http://, file://, …). */
char        *lt_stream_domain_from_url       (const char *url,
                                              const char *default_domain);
/* App and stream names are accepted when they are non-empty valid UTF-8 without control
 * characters, at most 255 bytes. They are never used in a path here (the recorder escapes
 * them); this only keeps out what cannot be shown or stored. */
gboolean     lt_stream_name_is_valid         (const char *name);

/* Codec names used in the "video-codec" and "audio-codec" properties: "h264", "h265",
 * "mpeg4" (Part 2), "aac", "mp3" are the supported ones (SPEC section 1); anything else
 * is a short lowercase name of the codec that was found (e.g. "vp9", "opus", "speex"). */
gboolean     lt_stream_video_codec_is_supported (const char *codec);
gboolean     lt_stream_audio_codec_is_supported (const char *codec);

/* ---- construction (producers and tests) ---- */

/* @domain is normalized (lowercased); @app and @name are kept as given. */
LtStream    *lt_stream_new                   (LtStreamSourceKind  kind,
                                              const char         *domain,
                                              const char         *app,
                                              const char         *name);

/* ---- identity ---- */

const char  *lt_stream_get_domain            (LtStream   *self);
const char  *lt_stream_get_app               (LtStream   *self);
const char  *lt_stream_get_name              (LtStream   *self);
const char  *lt_stream_get_key               (LtStream   *self);
LtStreamSourceKind lt_stream_get_source_kind (LtStream   *self);

/* ---- the session ---- */

gboolean     lt_stream_get_online            (LtStream   *self);
/* When the stream came online (UTC), NULL before. */
GDateTime   *lt_stream_get_online_since      (LtStream   *self);
/* nginx's client id of the publisher (push, demo); NULL for pull sources. */
const char  *lt_stream_get_client_id         (LtStream   *self);
/* The publisher's IP address (push); NULL otherwise. */
const char  *lt_stream_get_remote_address    (LtStream   *self);
/* Query arguments of the publish URL (rtmp://host/app/stream?record=1&x=y): string →
 * string, never NULL (empty for pull and demo). Do not modify. */
GHashTable  *lt_stream_get_publish_args      (LtStream   *self);
const char  *lt_stream_get_publish_arg       (LtStream   *self,
                                              const char *key);
/* Where the media comes from, for display: the URL the publisher used
 * (rtmp://host:port/app/stream) or the pull source's URI. */
const char  *lt_stream_get_source_uri        (LtStream   *self);
/* Where consumers (the recorder, a preview) pull the media from, on loopback, one
 * connection each: rtmp://127.0.0.1:PORT/… (FLV) for push and demo streams,
 * srt://127.0.0.1:PORT?mode=caller (MPEG-TS) for pull sources. Any GStreamer source made
 * with gst_element_make_from_uri() followed by parsebin handles both. */
const char  *lt_stream_get_loopback_uri      (LtStream   *self);

/* Media description; NULL / 0 while unknown. Filled in shortly after the stream comes
 * online (notify:: signals). */
const char  *lt_stream_get_video_codec       (LtStream   *self);
const char  *lt_stream_get_audio_codec       (LtStream   *self);
guint        lt_stream_get_width             (LtStream   *self);
guint        lt_stream_get_height            (LtStream   *self);
double       lt_stream_get_fps               (LtStream   *self);
/* TRUE once the codecs of the stream are known. */
gboolean     lt_stream_get_has_media_info    (LtStream   *self);
/* Measured incoming bitrate in kbit/s, refreshed every few seconds; 0 until measured. */
guint        lt_stream_get_bitrate           (LtStream   *self);

/* ---- setters for producers and tests (main context only) ---- */

void         lt_stream_set_online            (LtStream   *self,
                                              gboolean    online);
void         lt_stream_set_client_id         (LtStream   *self,
                                              const char *client_id);
void         lt_stream_set_remote_address    (LtStream   *self,
                                              const char *address);
/* Takes a reference on @args (string → string); NULL means empty. */
void         lt_stream_set_publish_args      (LtStream   *self,
                                              GHashTable *args);
void         lt_stream_set_source_uri        (LtStream   *self,
                                              const char *uri);
void         lt_stream_set_loopback_uri      (LtStream   *self,
                                              const char *uri);
/* Marks the media info known (has-media-info) and notifies what changed. */
void         lt_stream_set_media_info        (LtStream   *self,
                                              const char *video_codec,
                                              const char *audio_codec,
                                              guint       width,
                                              guint       height,
                                              double      fps);
void         lt_stream_set_bitrate           (LtStream   *self,
                                              guint       kbit_per_s);

G_END_DECLS

/* lt-stream.c: one live stream and its online session (see lt-stream.h). */
#include "config.h"

#include <string.h>

#include "lt-stream.h"

struct _LtStream
{
  GObject             parent_instance;

  LtStreamSourceKind  kind;
  char               *domain;
  char               *app;
  char               *name;
  char               *key;

  gboolean            online;
  GDateTime          *online_since;
  char               *client_id;
  char               *remote_address;
  GHashTable         *publish_args;
  char               *source_uri;
  char               *loopback_uri;

  char               *video_codec;
  char               *audio_codec;
  guint               width;
  guint               height;
  double              fps;
  gboolean            has_media_info;
  guint               bitrate;
};

G_DEFINE_FINAL_TYPE (LtStream, lt_stream, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SOURCE_KIND,
  PROP_DOMAIN,
  PROP_APP,
  PROP_NAME,
  PROP_KEY,
  PROP_ONLINE,
  PROP_ONLINE_SINCE,
  PROP_CLIENT_ID,
  PROP_REMOTE_ADDRESS,
  PROP_PUBLISH_ARGS,
  PROP_SOURCE_URI,
  PROP_LOOPBACK_URI,
  PROP_VIDEO_CODEC,
  PROP_AUDIO_CODEC,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FPS,
  PROP_HAS_MEDIA_INFO,
  PROP_BITRATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
lt_stream_source_kind_to_string (LtStreamSourceKind kind)
{
  switch (kind)
    {
    case LT_STREAM_SOURCE_PUSH:
      return "push";
    case LT_STREAM_SOURCE_PULL:
      return "pull";
    case LT_STREAM_SOURCE_DEMO:
      return "demo";
    default:
      g_return_val_if_reached (NULL);
    }
}

char *
lt_stream_make_key (const char *domain,
                    const char *app,
                    const char *name)
{
  g_autofree char *lower = NULL;
  g_autofree char *e_domain = NULL;
  g_autofree char *e_app = NULL;
  g_autofree char *e_name = NULL;

  g_return_val_if_fail (domain != NULL, NULL);
  g_return_val_if_fail (app != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  lower = g_utf8_strdown (domain, -1);
  e_domain = g_uri_escape_string (lower, NULL, TRUE);
  e_app = g_uri_escape_string (app, NULL, TRUE);
  e_name = g_uri_escape_string (name, NULL, TRUE);

  return g_strconcat (e_domain, "/", e_app, "/", e_name, NULL);
}

char *
lt_stream_domain_from_host (const char *host,
                            const char *default_domain)
{
  g_autofree char *lower = NULL;
  gsize len;

  g_return_val_if_fail (default_domain != NULL, NULL);

  if (host == NULL || *host == '\0' || !g_utf8_validate (host, -1, NULL))
    return g_utf8_strdown (default_domain, -1);

  /* GUri keeps IPv6 literals bracketed in some paths; an address is never a domain. */
  if (host[0] == '[' || g_hostname_is_ip_address (host))
    return g_utf8_strdown (default_domain, -1);

  lower = g_utf8_strdown (host, -1);
  len = strlen (lower);
  while (len > 0 && lower[len - 1] == '.')
    lower[--len] = '\0';

  if (len == 0 ||
      g_str_equal (lower, "localhost") ||
      g_str_has_suffix (lower, ".localhost"))
    return g_utf8_strdown (default_domain, -1);

  return g_steal_pointer (&lower);
}

char *
lt_stream_domain_from_url (const char *url,
                           const char *default_domain)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (default_domain != NULL, NULL);

  if (url != NULL)
    uri = g_uri_parse (url, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);

  return lt_stream_domain_from_host (uri != NULL ? g_uri_get_host (uri) : NULL,
                                     default_domain);
}

gboolean
lt_stream_name_is_valid (const char *name)
{
  const char *p;

  if (name == NULL || *name == '\0' || strlen (name) > 255)
    return FALSE;
  if (!g_utf8_validate (name, -1, NULL))
    return FALSE;

  for (p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        return FALSE;
    }

  return TRUE;
}

gboolean
lt_stream_video_codec_is_supported (const char *codec)
{
  return g_strcmp0 (codec, "h264") == 0 ||
         g_strcmp0 (codec, "h265") == 0 ||
         g_strcmp0 (codec, "mpeg4") == 0;
}

gboolean
lt_stream_audio_codec_is_supported (const char *codec)
{
  return g_strcmp0 (codec, "aac") == 0 || g_strcmp0 (codec, "mp3") == 0;
}

static void
lt_stream_finalize (GObject *object)
{
  LtStream *self = LT_STREAM (object);

  g_clear_pointer (&self->domain, g_free);
  g_clear_pointer (&self->app, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->key, g_free);
  g_clear_pointer (&self->online_since, g_date_time_unref);
  g_clear_pointer (&self->client_id, g_free);
  g_clear_pointer (&self->remote_address, g_free);
  g_clear_pointer (&self->publish_args, g_hash_table_unref);
  g_clear_pointer (&self->source_uri, g_free);
  g_clear_pointer (&self->loopback_uri, g_free);
  g_clear_pointer (&self->video_codec, g_free);
  g_clear_pointer (&self->audio_codec, g_free);

  G_OBJECT_CLASS (lt_stream_parent_class)->finalize (object);
}

static void
lt_stream_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LtStream *self = LT_STREAM (object);

  switch (prop_id)
    {
    case PROP_SOURCE_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_DOMAIN:
      g_value_set_string (value, self->domain);
      break;
    case PROP_APP:
      g_value_set_string (value, self->app);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_ONLINE_SINCE:
      g_value_set_boxed (value, self->online_since);
      break;
    case PROP_CLIENT_ID:
      g_value_set_string (value, self->client_id);
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_string (value, self->remote_address);
      break;
    case PROP_PUBLISH_ARGS:
      g_value_set_boxed (value, self->publish_args);
      break;
    case PROP_SOURCE_URI:
      g_value_set_string (value, self->source_uri);
      break;
    case PROP_LOOPBACK_URI:
      g_value_set_string (value, self->loopback_uri);
      break;
    case PROP_VIDEO_CODEC:
      g_value_set_string (value, self->video_codec);
      break;
    case PROP_AUDIO_CODEC:
      g_value_set_string (value, self->audio_codec);
      break;
    case PROP_WIDTH:
      g_value_set_uint (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_uint (value, self->height);
      break;
    case PROP_FPS:
      g_value_set_double (value, self->fps);
      break;
    case PROP_HAS_MEDIA_INFO:
      g_value_set_boolean (value, self->has_media_info);
      break;
    case PROP_BITRATE:
      g_value_set_uint (value, self->bitrate);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_stream_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  LtStream *self = LT_STREAM (object);

  switch (prop_id)
    {
    case PROP_SOURCE_KIND:
      self->kind = g_value_get_enum (value);
      break;
    case PROP_DOMAIN:
      self->domain = g_utf8_strdown (g_value_get_string (value), -1);
      break;
    case PROP_APP:
      self->app = g_value_dup_string (value);
      break;
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_stream_constructed (GObject *object)
{
  LtStream *self = LT_STREAM (object);

  G_OBJECT_CLASS (lt_stream_parent_class)->constructed (object);

  self->key = lt_stream_make_key (self->domain, self->app, self->name);
}

static void
lt_stream_class_init (LtStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = lt_stream_finalize;
  object_class->get_property = lt_stream_get_property;
  object_class->set_property = lt_stream_set_property;
  object_class->constructed = lt_stream_constructed;

  properties[PROP_SOURCE_KIND] =
    g_param_spec_enum ("source-kind", NULL, NULL,
                       LT_TYPE_STREAM_SOURCE_KIND, LT_STREAM_SOURCE_PUSH, co);
  properties[PROP_DOMAIN] = g_param_spec_string ("domain", NULL, NULL, "", co);
  properties[PROP_APP] = g_param_spec_string ("app", NULL, NULL, "", co);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", co);
  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, ro);
  properties[PROP_ONLINE] = g_param_spec_boolean ("online", NULL, NULL, FALSE, ro);
  properties[PROP_ONLINE_SINCE] =
    g_param_spec_boxed ("online-since", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_CLIENT_ID] = g_param_spec_string ("client-id", NULL, NULL, NULL, ro);
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_string ("remote-address", NULL, NULL, NULL, ro);
  properties[PROP_PUBLISH_ARGS] =
    g_param_spec_boxed ("publish-args", NULL, NULL, G_TYPE_HASH_TABLE, ro);
  properties[PROP_SOURCE_URI] = g_param_spec_string ("source-uri", NULL, NULL, NULL, ro);
  properties[PROP_LOOPBACK_URI] = g_param_spec_string ("loopback-uri", NULL, NULL, NULL, ro);
  properties[PROP_VIDEO_CODEC] = g_param_spec_string ("video-codec", NULL, NULL, NULL, ro);
  properties[PROP_AUDIO_CODEC] = g_param_spec_string ("audio-codec", NULL, NULL, NULL, ro);
  properties[PROP_WIDTH] = g_param_spec_uint ("width", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_HEIGHT] = g_param_spec_uint ("height", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_FPS] = g_param_spec_double ("fps", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_HAS_MEDIA_INFO] =
    g_param_spec_boolean ("has-media-info", NULL, NULL, FALSE, ro);
  properties[PROP_BITRATE] =
    g_param_spec_uint ("bitrate", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_stream_init (LtStream *self)
{
  self->publish_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

LtStream *
lt_stream_new (LtStreamSourceKind  kind,
               const char         *domain,
               const char         *app,
               const char         *name)
{
  g_return_val_if_fail (domain != NULL, NULL);
  g_return_val_if_fail (app != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (LT_TYPE_STREAM,
                       "source-kind", kind,
                       "domain", domain,
                       "app", app,
                       "name", name,
                       NULL);
}

const char *
lt_stream_get_domain (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->domain;
}

const char *
lt_stream_get_app (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->app;
}

const char *
lt_stream_get_name (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->name;
}

const char *
lt_stream_get_key (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->key;
}

LtStreamSourceKind
lt_stream_get_source_kind (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), LT_STREAM_SOURCE_PUSH);
  return self->kind;
}

gboolean
lt_stream_get_online (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), FALSE);
  return self->online;
}

GDateTime *
lt_stream_get_online_since (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->online_since;
}

const char *
lt_stream_get_client_id (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->client_id;
}

const char *
lt_stream_get_remote_address (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->remote_address;
}

GHashTable *
lt_stream_get_publish_args (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->publish_args;
}

const char *
lt_stream_get_publish_arg (LtStream   *self,
                           const char *key)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (self->publish_args, key);
}

const char *
lt_stream_get_source_uri (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->source_uri;
}

const char *
lt_stream_get_loopback_uri (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->loopback_uri;
}

const char *
lt_stream_get_video_codec (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->video_codec;
}

const char *
lt_stream_get_audio_codec (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), NULL);
  return self->audio_codec;
}

guint
lt_stream_get_width (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), 0);
  return self->width;
}

guint
lt_stream_get_height (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), 0);
  return self->height;
}

double
lt_stream_get_fps (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), 0);
  return self->fps;
}

gboolean
lt_stream_get_has_media_info (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), FALSE);
  return self->has_media_info;
}

guint
lt_stream_get_bitrate (LtStream *self)
{
  g_return_val_if_fail (LT_IS_STREAM (self), 0);
  return self->bitrate;
}

static void
set_string (LtStream    *self,
            char       **field,
            const char  *value,
            guint        prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
lt_stream_set_online (LtStream *self,
                      gboolean  online)
{
  g_return_if_fail (LT_IS_STREAM (self));

  online = !!online;
  if (self->online == online)
    return;

  self->online = online;
  if (online && self->online_since == NULL)
    {
      self->online_since = g_date_time_new_now_utc ();
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE_SINCE]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
}

void
lt_stream_set_client_id (LtStream   *self,
                         const char *client_id)
{
  g_return_if_fail (LT_IS_STREAM (self));
  set_string (self, &self->client_id, client_id, PROP_CLIENT_ID);
}

void
lt_stream_set_remote_address (LtStream   *self,
                              const char *address)
{
  g_return_if_fail (LT_IS_STREAM (self));
  set_string (self, &self->remote_address, address, PROP_REMOTE_ADDRESS);
}

void
lt_stream_set_publish_args (LtStream   *self,
                            GHashTable *args)
{
  g_return_if_fail (LT_IS_STREAM (self));

  if (args == self->publish_args)
    return;

  g_clear_pointer (&self->publish_args, g_hash_table_unref);
  if (args != NULL)
    self->publish_args = g_hash_table_ref (args);
  else
    self->publish_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PUBLISH_ARGS]);
}

void
lt_stream_set_source_uri (LtStream   *self,
                          const char *uri)
{
  g_return_if_fail (LT_IS_STREAM (self));
  set_string (self, &self->source_uri, uri, PROP_SOURCE_URI);
}

void
lt_stream_set_loopback_uri (LtStream   *self,
                            const char *uri)
{
  g_return_if_fail (LT_IS_STREAM (self));
  set_string (self, &self->loopback_uri, uri, PROP_LOOPBACK_URI);
}

void
lt_stream_set_media_info (LtStream   *self,
                          const char *video_codec,
                          const char *audio_codec,
                          guint       width,
                          guint       height,
                          double      fps)
{
  g_return_if_fail (LT_IS_STREAM (self));

  g_object_freeze_notify (G_OBJECT (self));

  set_string (self, &self->video_codec, video_codec, PROP_VIDEO_CODEC);
  set_string (self, &self->audio_codec, audio_codec, PROP_AUDIO_CODEC);
  if (self->width != width)
    {
      self->width = width;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);
    }
  if (self->height != height)
    {
      self->height = height;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEIGHT]);
    }
  if (self->fps != fps)
    {
      self->fps = fps;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FPS]);
    }
  if (!self->has_media_info)
    {
      self->has_media_info = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MEDIA_INFO]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

void
lt_stream_set_bitrate (LtStream *self,
                       guint     kbit_per_s)
{
  g_return_if_fail (LT_IS_STREAM (self));

  if (self->bitrate == kbit_per_s)
    return;

  self->bitrate = kbit_per_s;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BITRATE]);
}

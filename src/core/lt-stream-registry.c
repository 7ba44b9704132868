/* lt-stream-registry.c: the online streams as a GListModel (see lt-stream-registry.h). */
#include "config.h"

#include "lt-stream-registry.h"

struct _LtStreamRegistry
{
  GObject     parent_instance;

  GThread    *owner;      /* not a ref: only compared */
  GPtrArray  *streams;    /* LtStream, model order */
  GHashTable *by_key;     /* key (owned by the stream) → LtStream (borrowed from streams) */
};

static void lt_stream_registry_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LtStreamRegistry, lt_stream_registry, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      lt_stream_registry_list_model_init))

G_DEFINE_QUARK (lt-stream-registry-error-quark, lt_stream_registry_error)

enum {
  STREAM_ONLINE,
  STREAM_OFFLINE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GType
lt_stream_registry_get_item_type (GListModel *model)
{
  return LT_TYPE_STREAM;
}

static guint
lt_stream_registry_get_n_items (GListModel *model)
{
  LtStreamRegistry *self = LT_STREAM_REGISTRY (model);

  return self->streams->len;
}

static gpointer
lt_stream_registry_get_item (GListModel *model,
                             guint       position)
{
  LtStreamRegistry *self = LT_STREAM_REGISTRY (model);

  if (position >= self->streams->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->streams, position));
}

static void
lt_stream_registry_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = lt_stream_registry_get_item_type;
  iface->get_n_items = lt_stream_registry_get_n_items;
  iface->get_item = lt_stream_registry_get_item;
}

static void
lt_stream_registry_finalize (GObject *object)
{
  LtStreamRegistry *self = LT_STREAM_REGISTRY (object);

  g_clear_pointer (&self->by_key, g_hash_table_unref);
  g_clear_pointer (&self->streams, g_ptr_array_unref);

  G_OBJECT_CLASS (lt_stream_registry_parent_class)->finalize (object);
}

static void
lt_stream_registry_class_init (LtStreamRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_stream_registry_finalize;

  /**
   * LtStreamRegistry::stream-online:
   * @stream: the LtStream that came online (already in the model)
   */
  signals[STREAM_ONLINE] =
    g_signal_new ("stream-online", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, LT_TYPE_STREAM);
  /**
   * LtStreamRegistry::stream-offline:
   * @stream: the LtStream that went offline (no longer in the model)
   */
  signals[STREAM_OFFLINE] =
    g_signal_new ("stream-offline", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, LT_TYPE_STREAM);
}

static void
lt_stream_registry_init (LtStreamRegistry *self)
{
  self->owner = g_thread_self ();
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
}

LtStreamRegistry *
lt_stream_registry_new (void)
{
  return g_object_new (LT_TYPE_STREAM_REGISTRY, NULL);
}

gboolean
lt_stream_registry_add (LtStreamRegistry  *self,
                        LtStream          *stream,
                        GError           **error)
{
  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (self), FALSE);
  g_return_val_if_fail (LT_IS_STREAM (stream), FALSE);
  g_return_val_if_fail (g_thread_self () == self->owner, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_hash_table_contains (self->by_key, lt_stream_get_key (stream)))
    {
      g_set_error (error, LT_STREAM_REGISTRY_ERROR, LT_STREAM_REGISTRY_ERROR_EXISTS,
                   "Stream %s/%s/%s is already online",
                   lt_stream_get_domain (stream), lt_stream_get_app (stream),
                   lt_stream_get_name (stream));
      return FALSE;
    }

  g_ptr_array_add (self->streams, g_object_ref (stream));
  g_hash_table_insert (self->by_key, (gpointer) lt_stream_get_key (stream), stream);

  lt_stream_set_online (stream, TRUE);
  g_list_model_items_changed (G_LIST_MODEL (self), self->streams->len - 1, 0, 1);
  g_signal_emit (self, signals[STREAM_ONLINE], 0, stream);

  return TRUE;
}

gboolean
lt_stream_registry_remove (LtStreamRegistry *self,
                           LtStream         *stream)
{
  g_autoptr(LtStream) hold = NULL;
  guint position;

  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (self), FALSE);
  g_return_val_if_fail (LT_IS_STREAM (stream), FALSE);
  g_return_val_if_fail (g_thread_self () == self->owner, FALSE);

  if (g_hash_table_lookup (self->by_key, lt_stream_get_key (stream)) != stream ||
      !g_ptr_array_find (self->streams, stream, &position))
    return FALSE;

  hold = g_object_ref (stream);
  g_hash_table_remove (self->by_key, lt_stream_get_key (stream));
  g_ptr_array_remove_index (self->streams, position);

  lt_stream_set_online (stream, FALSE);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  g_signal_emit (self, signals[STREAM_OFFLINE], 0, stream);

  return TRUE;
}

LtStream *
lt_stream_registry_lookup_key (LtStreamRegistry *self,
                               const char       *key)
{
  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (self->by_key, key);
}

LtStream *
lt_stream_registry_lookup (LtStreamRegistry *self,
                           const char       *domain,
                           const char       *app,
                           const char       *name)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (self), NULL);
  g_return_val_if_fail (domain != NULL && app != NULL && name != NULL, NULL);

  key = lt_stream_make_key (domain, app, name);
  return g_hash_table_lookup (self->by_key, key);
}

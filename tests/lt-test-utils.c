/* lt-test-utils.c: the shared test environment. */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "lt-test-utils.h"

void
lt_test_init (int    *argc,
              char ***argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
}

static void
remove_recursive (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL &&
         (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));

      remove_recursive (child);
      g_object_unref (info);
    }
  g_file_delete (file, NULL, NULL);
}

static void
remove_temp_dir (gpointer data)
{
  g_autoptr(GFile) dir = g_file_new_for_path (data);

  remove_recursive (dir);
  g_free (data);
}

char *
lt_test_make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *path;

  path = g_dir_make_tmp ("livetape-test-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_queue_destroy (remove_temp_dir, g_strdup (path));
  return path;
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *flag = data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
lt_test_iterate_until (LtTestCondition  condition,
                       gpointer         data,
                       guint            timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id;

  id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);
  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return condition (data);
}

void
lt_test_wait_until (LtTestCondition  condition,
                    gpointer         data,
                    guint            timeout_ms,
                    const char      *what)
{
  if (!lt_test_iterate_until (condition, data, timeout_ms))
    g_error ("timed out after %u ms waiting for %s", timeout_ms, what);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

void
lt_test_wait_for (gboolean *flag,
                  guint     timeout_ms)
{
  g_assert_true (lt_test_iterate_until (flag_is_set, flag, timeout_ms));
}

void
lt_test_spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

void
lt_test_store_result_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

void
lt_test_wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- XML replies ---- */

typedef struct
{
  GPtrArray  *stack;    /* element names from the root down */
  GHashTable *text;
  GHashTable *counts;
  GString    *current;
  char       *root;
} XmlReader;

/* The path of the element on top of the stack, "Root/A/B". */
static char *
xml_path (XmlReader *reader)
{
  char *path;

  g_ptr_array_add (reader->stack, NULL);
  path = g_strjoinv ("/", (char **) reader->stack->pdata);
  g_ptr_array_remove_index (reader->stack, reader->stack->len - 1);
  return path;
}

static void
xml_start (GMarkupParseContext  *context,
           const char           *element,
           const char          **attribute_names,
           const char          **attribute_values,
           gpointer              user_data,
           GError              **error)
{
  XmlReader *reader = user_data;
  char *path;
  guint count;

  if (reader->root == NULL)
    reader->root = g_strdup (element);
  g_ptr_array_add (reader->stack, g_strdup (element));
  path = xml_path (reader);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (reader->counts, path));
  g_hash_table_insert (reader->counts, path, GUINT_TO_POINTER (count + 1));
  g_string_truncate (reader->current, 0);
}

static void
xml_end (GMarkupParseContext  *context,
         const char           *element,
         gpointer              user_data,
         GError              **error)
{
  XmlReader *reader = user_data;

  g_hash_table_insert (reader->text, xml_path (reader), g_strdup (reader->current->str));
  g_string_truncate (reader->current, 0);
  g_ptr_array_remove_index (reader->stack, reader->stack->len - 1);
}

static void
xml_text (GMarkupParseContext  *context,
          const char           *text,
          gsize                 len,
          gpointer              user_data,
          GError              **error)
{
  XmlReader *reader = user_data;

  g_string_append_len (reader->current, text, len);
}

void
lt_test_read_xml (const char   *xml,
                  char        **root,
                  GHashTable  **text,
                  GHashTable  **counts)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
  static const char decl[] = "<?xml version='1.0' encoding='UTF-8'?>";
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) error = NULL;
  XmlReader reader = { 0, };

  g_assert_true (g_str_has_prefix (xml, decl));

  reader.stack = g_ptr_array_new_with_free_func (g_free);
  reader.text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  reader.counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  reader.current = g_string_new (NULL);

  context = g_markup_parse_context_new (&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &reader, NULL);
  g_assert_true (g_markup_parse_context_parse (context, xml + strlen (decl), -1, &error));
  g_assert_no_error (error);
  g_assert_true (g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);

  g_ptr_array_unref (reader.stack);
  g_string_free (reader.current, TRUE);
  if (root != NULL)
    *root = reader.root;
  else
    g_free (reader.root);
  *text = reader.text;
  *counts = reader.counts;
}

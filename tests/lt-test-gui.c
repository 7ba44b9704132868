/* lt-test-gui.c: helpers for the gui suite. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include <adwaita.h>

#include "lt-test-gui.h"
#include "lt-test-utils.h"

static char *
screenshot_path (const char *name)
{
  const char *dir = g_getenv ("LT_TEST_OUTPUT_DIR");
  g_autofree char *screenshots = NULL;

  if (dir == NULL)
    dir = g_getenv ("G_TEST_BUILDDIR");
  g_assert_nonnull (dir);
  screenshots = g_build_filename (dir, "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (screenshots, 0755), ==, 0);
  return g_build_filename (screenshots, name, NULL);
}

static void
set_flag (gboolean *flag)
{
  *flag = TRUE;
}

void
lt_test_save_screenshot (GtkWidget  *widget,
                         const char *name)
{
  g_autofree char *path = screenshot_path (name);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guchar *pixels = NULL;
  g_autoptr(GHashTable) colours = g_hash_table_new (g_direct_hash, g_direct_equal);
  GskRenderer *renderer;
  GStatBuf st;
  int width, height;

  /* Let layout, CSS and the frame clock settle. */
  lt_test_spin (400);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >=, 300);
  g_assert_cmpint (height, >, 250);

  /* The paintable replays the widget's last frame; a redraw queued since (a label that
   * changed) leaves it empty until the next frame is painted. Take the picture right after
   * a frame, and again after the next one if something queued a redraw in between. */
  paintable = gtk_widget_paintable_new (widget);
  for (guint attempt = 0; attempt < 10 && node == NULL; attempt++)
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
      gboolean painted = FALSE;
      gulong id;

      id = g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (set_flag), &painted);
      gtk_widget_queue_draw (widget);
      lt_test_wait_for (&painted, 5000);
      g_signal_handler_disconnect (clock, id);

      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);

  /* Non-trivial: a real file, and far more than a handful of colours. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 20 * 1024);

  pixels = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, pixels, (gsize) width * 4);
  for (gsize i = 0; i < (gsize) width * height; i += 7)
    {
      guint32 pixel;

      memcpy (&pixel, pixels + i * 4, 4);
      g_hash_table_add (colours, GUINT_TO_POINTER (pixel));
    }
  g_assert_cmpuint (g_hash_table_size (colours), >, 50);
}

void
lt_test_use_language (const char *language)
{
  const char *build_root = g_getenv ("LT_BUILD_ROOT");
  g_autofree char *po_dir = NULL;

  g_assert_nonnull (build_root);
  po_dir = g_build_filename (build_root, "po", NULL);
  bindtextdomain (GETTEXT_PACKAGE, po_dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  if (language != NULL)
    g_setenv ("LANGUAGE", language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  /* Makes gettext drop what it has cached for the old language. */
  setlocale (LC_ALL, "C.UTF-8");
}

void
lt_test_gui_init (int    *argc,
                  char ***argv)
{
  g_auto(GStrv) icon_path = NULL;
  const char * const *data_dirs;
  guint n_dirs;

  /* G_TEST_OPTION_ISOLATE_DIRS hides the system data dirs, and with them the MIME
   * database (which gdk-pixbuf needs to load any icon) and the icon themes: keep
   * using the real ones. */
  g_content_type_set_mime_dirs (NULL);
  data_dirs = g_get_system_data_dirs ();
  n_dirs = g_strv_length ((GStrv) data_dirs);
  icon_path = g_new0 (char *, n_dirs + 1);
  for (guint i = 0; i < n_dirs; i++)
    icon_path[i] = g_build_filename (data_dirs[i], "icons", NULL);

  /* The isolated dirs also hide GNOME's proxy settings schema, which GIO's default proxy
   * resolver needs; nothing in the gui tests goes through a proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (argc, argv);
  gtk_init ();
  adw_init ();
  gtk_icon_theme_set_search_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                  (const char * const *) icon_path);
}

void
lt_test_gui_load_style (void)
{
  static gsize done = 0;

  /* What AdwApplication does for the real app: style.css and the icons. */
  if (g_once_init_enter (&done))
    {
      g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();
      GdkDisplay *display = gdk_display_get_default ();

      gtk_css_provider_load_from_resource (provider, "/io/github/livetape/Livetape/style.css");
      gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display),
                                        "/io/github/livetape/Livetape/icons");
      g_once_init_leave (&done, 1);
    }
}

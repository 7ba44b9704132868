/* lt-test-gui.h: helpers for the gui suite (GTK; the core test utils stay GTK-free). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Renders @widget into $LT_TEST_OUTPUT_DIR/screenshots/@name (or under $G_TEST_BUILDDIR)
 * and asserts the PNG is a real picture: a sensible size, > 20 KiB, > 50 colours. */
void lt_test_save_screenshot (GtkWidget  *widget,
                              const char *name);

/* Switches the UI language to @language (e.g. "zh_CN"; NULL: back to the default) with
 * the translations built in $LT_BUILD_ROOT/po, so the strings reach the widgets and the
 * screenshots show whether they fit. */
void lt_test_use_language    (const char *language);

G_END_DECLS

/* lt-test-gui.h: helpers for the gui suite (GTK; the core test utils stay GTK-free). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Renders @widget into $LT_TEST_OUTPUT_DIR/screenshots/@name (or under $G_TEST_BUILDDIR)
 * and asserts the PNG is a real picture: a sensible size, > 20 KiB, > 50 colours. */
void lt_test_save_screenshot (GtkWidget  *widget,
                              const char *name);

G_END_DECLS

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

/* lt_test_init() plus GTK and libadwaita, with the system's MIME database and icon
 * themes visible despite the isolated dirs. */
void lt_test_gui_init        (int         *argc,
                              char      ***argv);
/* Loads the app's style.css and icons, as AdwApplication does for the real app (once). */
void lt_test_gui_load_style  (void);

G_END_DECLS

/* lt-window.h: the console's main window — a header bar with the view switcher and the
 * pages (Rules now; Streams, Timeline and Sync later), a loading state until the engine
 * has started and an error page if it cannot. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_WINDOW (lt_window_get_type ())
G_DECLARE_FINAL_TYPE (LtWindow, lt_window, LT, WINDOW, AdwApplicationWindow)

/* @settings: where the window size is kept (NULL: not kept). */
LtWindow *lt_window_new         (GtkApplication *application,
                                 GSettings      *settings);
/* The engine has started: show the pages over its models. */
void      lt_window_set_engine  (LtWindow       *self,
                                 LtEngine       *engine);
/* The engine could not start: show why instead of the pages. */
void      lt_window_show_error  (LtWindow       *self,
                                 const GError   *error);
/* A lasting message above the pages, e.g. that the control API is not available. */
void      lt_window_show_banner (LtWindow       *self,
                                 const char     *message);
void      lt_window_add_toast   (LtWindow       *self,
                                 AdwToast       *toast);

G_END_DECLS

/* lt-preferences-window.h: the Preferences window (SPEC section 8) — the storage targets
 * (the local folder and the S3 targets, each S3 target opening its editor; Add), the spool
 * folder and how long uploaded copies are kept, upload concurrency and bandwidth cap, and
 * retention. The settings rows are bound to the engine's settings. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"
#include "lt-storage-target-editor.h"

G_BEGIN_DECLS

#define LT_TYPE_PREFERENCES_WINDOW (lt_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (LtPreferencesWindow, lt_preferences_window, LT, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* @engine: started (its settings may be NULL without the schema: the rows are then off). */
LtPreferencesWindow *lt_preferences_window_new (LtEngine *engine);

/* For tests. */
/* The row of storage target @name, or NULL. */
GtkWidget             *_lt_preferences_window_get_target_row (LtPreferencesWindow *self,
                                                              const char          *name);
/* The open storage target editor, or NULL. */
LtStorageTargetEditor *_lt_preferences_window_get_editor     (LtPreferencesWindow *self);
/* The spin button bound to the settings key @key (NULL for another key). */
GtkSpinButton         *_lt_preferences_window_get_spin       (LtPreferencesWindow *self,
                                                              const char          *key);
/* What the folder chooser does with the folder picked (NULL: back to the default). */
void                   _lt_preferences_window_set_spool_folder (LtPreferencesWindow *self,
                                                                GFile               *folder);
/* The spool folder row's subtitle. */
const char            *_lt_preferences_window_get_spool_text (LtPreferencesWindow *self);

G_END_DECLS

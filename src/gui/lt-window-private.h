/* lt-window-private.h: what the GUI tests reach in the main window. */
#pragma once

#include "lt-rules-page.h"
#include "lt-streams-page.h"
#include "lt-sync-page.h"
#include "lt-window.h"

G_BEGIN_DECLS

LtRulesPage *_lt_window_get_rules_page  (LtWindow *self);
LtStreamsPage *_lt_window_get_streams_page (LtWindow *self);
LtSyncPage  *_lt_window_get_sync_page   (LtWindow *self);
AdwViewStackPage *_lt_window_get_sync_stack_page (LtWindow *self);
/* Shows the page named @name ("streams", "rules", "sync"). */
void         _lt_window_set_page        (LtWindow   *self,
                                         const char *name);
/* "loading", "error" or "main". */
const char  *_lt_window_get_state       (LtWindow *self);
/* The error page's description, or NULL. */
const char  *_lt_window_get_error_text  (LtWindow *self);
/* The banner's message while it is shown, or NULL. */
const char  *_lt_window_get_banner_text (LtWindow *self);
GtkWidget   *_lt_window_get_add_button  (LtWindow *self);

G_END_DECLS

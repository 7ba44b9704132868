/* lt-editor-util.h: the pieces the editor dialogs (storage target, callback settings,
 * pull source) share: inline messages under their rows, their spinners, and the
 * "Remove …?" confirmation. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void              lt_editor_show_label     (GtkLabel   *label,
                                            const char *text);
void              lt_editor_show_spinner   (GtkWidget  *spinner,
                                            gboolean    spinning);
AdwMessageDialog *lt_editor_confirm_remove (GtkWindow  *editor,
                                            const char *heading,
                                            const char *body,
                                            GCallback   response_cb);

G_END_DECLS

/* lt-editor-util.c: see lt-editor-util.h. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-editor-util.h"

/* @text under a row (an error, a test's result), or the label hidden when it is NULL. */
void
lt_editor_show_label (GtkLabel   *label,
                      const char *text)
{
  gtk_label_set_label (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL);
}

/* A spinner is shown only while it spins, so that an idle one takes no room. */
void
lt_editor_show_spinner (GtkWidget *spinner,
                        gboolean   spinning)
{
  gtk_widget_set_visible (spinner, spinning);
  gtk_spinner_set_spinning (GTK_SPINNER (spinner), spinning);
}

/* Asks before removing, over @editor: Cancel is the default and what closing means.
 * @response_cb is called as (editor, response id) for as long as @editor lives; the
 * dialog returned is owned by GTK (it goes when answered). */
AdwMessageDialog *
lt_editor_confirm_remove (GtkWindow  *editor,
                          const char *heading,
                          const char *body,
                          GCallback   response_cb)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (editor, heading, body));

  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", response_cb, editor, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

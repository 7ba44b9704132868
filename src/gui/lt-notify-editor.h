/* lt-notify-editor.h: the dialog for one domain's callback settings (SPEC section 4) —
 * NotifyUrl, NeedStatusNotify, OnDemandUrl, validated as the operator types — with the
 * domain's signing key (hidden until revealed), a test callback that shows the receiver's
 * answer, and removal. Signals "saved" and "removed" (no arguments) follow a change the
 * store took; the dialog then closes. */
#pragma once

#include <adwaita.h>

#include "lt-callback-queue.h"
#include "lt-notify-store.h"

G_BEGIN_DECLS

typedef enum
{
  LT_NOTIFY_EDITOR_FIELD_NONE,           /* the general message (what a save said) */
  LT_NOTIFY_EDITOR_FIELD_DOMAIN,
  LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL,
  LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL,
} LtNotifyEditorField;

#define LT_TYPE_NOTIFY_EDITOR (lt_notify_editor_get_type ())
G_DECLARE_FINAL_TYPE (LtNotifyEditor, lt_notify_editor, LT, NOTIFY_EDITOR, AdwWindow)

/* @domain: the domain whose settings are edited (added when it has none), or NULL to let
 * the operator type one. */
LtNotifyEditor *lt_notify_editor_new        (LtNotifyStore   *store,
                                             LtCallbackQueue *queue,
                                             const char      *domain);

/* For tests. */
GtkEditable    *_lt_notify_editor_get_field        (LtNotifyEditor      *self,
                                                    LtNotifyEditorField  field);
GtkSwitch      *_lt_notify_editor_get_status_switch (LtNotifyEditor     *self);
/* The message shown at @field, or NULL. */
const char     *_lt_notify_editor_get_error        (LtNotifyEditor      *self,
                                                    LtNotifyEditorField  field);
gboolean        _lt_notify_editor_get_can_save     (LtNotifyEditor      *self);
/* Whether the settings shown are stored (Remove offered, the key shown). */
gboolean        _lt_notify_editor_get_saved        (LtNotifyEditor      *self);
/* The line under "Receiver's Answer" and the reply shown below it (NULL: none). */
const char     *_lt_notify_editor_get_test_status  (LtNotifyEditor      *self);
const char     *_lt_notify_editor_get_test_reply   (LtNotifyEditor      *self);
gboolean        _lt_notify_editor_get_test_busy    (LtNotifyEditor      *self);
/* The signing key row's subtitle (dots until revealed) and its reveal button. */
const char     *_lt_notify_editor_get_key_text     (LtNotifyEditor      *self);
GtkToggleButton *_lt_notify_editor_get_reveal_button (LtNotifyEditor    *self);
AdwMessageDialog *_lt_notify_editor_get_remove_dialog (LtNotifyEditor   *self);

G_END_DECLS

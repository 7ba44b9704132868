/* lt-stream-source-editor.h: the dialog that adds, changes or removes one pull source —
 * its address, the domain / app / stream identity it records under, and whether it is
 * on — validating as the operator types, with the errors next to their fields. */
#pragma once

#include <adwaita.h>

#include "lt-engine-sources.h"

G_BEGIN_DECLS

#define LT_TYPE_STREAM_SOURCE_EDITOR (lt_stream_source_editor_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamSourceEditor, lt_stream_source_editor, LT, STREAM_SOURCE_EDITOR,
                      AdwWindow)

/* @source: the source to edit, or NULL to add one. */
LtStreamSourceEditor *lt_stream_source_editor_new (LtEngine     *engine,
                                                   LtPullSource *source);

/* For tests. */
GtkEditable      *_lt_stream_source_editor_get_field       (LtStreamSourceEditor *self,
                                                            LtPullSourceField     field);
GtkSwitch        *_lt_stream_source_editor_get_enabled     (LtStreamSourceEditor *self);
/* The message shown at @field, or NULL (FIELD_NONE: the general message). */
const char       *_lt_stream_source_editor_get_error       (LtStreamSourceEditor *self,
                                                            LtPullSourceField     field);
gboolean          _lt_stream_source_editor_get_can_save    (LtStreamSourceEditor *self);
gboolean          _lt_stream_source_editor_get_busy        (LtStreamSourceEditor *self);
/* The removal confirmation while it is open, or NULL. */
AdwMessageDialog *_lt_stream_source_editor_get_remove_dialog (LtStreamSourceEditor *self);

G_END_DECLS

/* lt-storage-target-editor.h: the dialog for one S3 storage target (SPEC section 7) —
 * name, endpoint, region, bucket, path-style addressing, access key id and secret key,
 * validated as the operator types with the core's messages. The secret goes to the
 * keyring through the targets object and nowhere else. For a stored target: "Test
 * Connection" (the stored settings, with the key from the keyring) and removal. Signals
 * "saved" and "removed" (no arguments) follow a change the targets took; the dialog
 * then closes. */
#pragma once

#include <adwaita.h>

#include "lt-storage-targets.h"

G_BEGIN_DECLS

typedef enum
{
  LT_STORAGE_TARGET_EDITOR_FIELD_NONE,      /* the general message (what a save said) */
  LT_STORAGE_TARGET_EDITOR_FIELD_NAME,
  LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT,
  LT_STORAGE_TARGET_EDITOR_FIELD_REGION,
  LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET,
  LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID,
  LT_STORAGE_TARGET_EDITOR_FIELD_SECRET,
} LtStorageTargetEditorField;

#define LT_TYPE_STORAGE_TARGET_EDITOR (lt_storage_target_editor_get_type ())
G_DECLARE_FINAL_TYPE (LtStorageTargetEditor, lt_storage_target_editor, LT,
                      STORAGE_TARGET_EDITOR, AdwWindow)

/* @name: the stored target to edit, or NULL to add one. */
LtStorageTargetEditor *lt_storage_target_editor_new (LtStorageTargets *targets,
                                                     const char       *name);

/* For tests. */
GtkEditable *_lt_storage_target_editor_get_field       (LtStorageTargetEditor      *self,
                                                        LtStorageTargetEditorField  field);
GtkSwitch   *_lt_storage_target_editor_get_path_style  (LtStorageTargetEditor      *self);
/* The message shown at @field, or NULL. */
const char  *_lt_storage_target_editor_get_error       (LtStorageTargetEditor      *self,
                                                        LtStorageTargetEditorField  field);
gboolean     _lt_storage_target_editor_get_can_save    (LtStorageTargetEditor      *self);
GtkButton   *_lt_storage_target_editor_get_save_button (LtStorageTargetEditor      *self);
GtkButton   *_lt_storage_target_editor_get_test_button (LtStorageTargetEditor      *self);
gboolean     _lt_storage_target_editor_get_test_busy   (LtStorageTargetEditor      *self);
/* The test's result line (NULL before a test) and whether it was a failure. */
const char  *_lt_storage_target_editor_get_test_result (LtStorageTargetEditor      *self,
                                                        gboolean                   *failed);
AdwMessageDialog *_lt_storage_target_editor_get_remove_dialog (LtStorageTargetEditor *self);

G_END_DECLS

/* lt-storage-targets-private.h: what lt-storage-targets.c shares with
 * lt-storage-targets-s3.c (the S3 half of "test connection"). */
#pragma once

#include "lt-storage-targets.h"

G_BEGIN_DECLS

/* Runs the S3 test connection of @target's @bucket and returns the result on @task (taken;
 * a boolean or an LT_STORAGE_TARGETS_ERROR), within @timeout_ms. */
void _lt_storage_targets_test_s3 (LtStorageTargets *self,
                                  LtStorageTarget  *target,
                                  const char       *bucket,
                                  guint             timeout_ms,
                                  GTask            *task);

G_END_DECLS

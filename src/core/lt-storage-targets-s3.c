/* lt-storage-targets-s3.c: "test connection" for an S3 target — the secret key from the
 * keyring, an LtS3Client, then HEAD the bucket and write and delete a probe object
 * (lt_s3_client_check_writable). The whole walk runs under one timer, so a server that
 * stops answering is a clear UNREACHABLE within the time asked for, not a hang.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lt-s3-client.h"
#include "lt-storage-targets-private.h"

typedef struct
{
  LtStorageTarget *target;
  char            *bucket;
  guint            timeout_ms;
  GCancellable    *cancellable;         /* ours: the timer or the caller cancel it */
  GCancellable    *caller_cancellable;
  gulong           caller_cancelled_id;
  GSource         *timeout_source;
  gboolean         timed_out;
  LtS3Client      *client;
} Test;

static void
test_free (gpointer data)
{
  Test *test = data;

  if (test->caller_cancelled_id != 0)
    g_cancellable_disconnect (test->caller_cancellable, test->caller_cancelled_id);
  g_clear_object (&test->caller_cancellable);
  if (test->timeout_source != NULL)
    {
      g_source_destroy (test->timeout_source);
      g_clear_pointer (&test->timeout_source, g_source_unref);
    }
  g_clear_object (&test->client);
  g_clear_object (&test->cancellable);
  g_clear_object (&test->target);
  g_free (test->bucket);
  g_free (test);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Test *test = user_data;

  test->timed_out = TRUE;
  g_clear_pointer (&test->timeout_source, g_source_unref);
  g_cancellable_cancel (test->cancellable);
  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* The S3 client's error, in the words an operator needs. */
static void
return_s3_error (GTask  *task,
                 GError *error)
{
  Test *test = g_task_get_task_data (task);
  const char *name = lt_storage_target_get_name (test->target);
  const char *endpoint = lt_storage_target_get_endpoint (test->target);

  if (test->timed_out && test->client == NULL)
    {
      /* Still waiting for the keyring. */
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_KEYRING,
                               _("The keyring did not give the secret key of storage target "
                                 "“%s” within %u s"),
                               name, (test->timeout_ms + 999) / 1000);
    }
  else if (test->timed_out)
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_UNREACHABLE,
                               _("Storage target “%s” (%s) did not answer within %u s"),
                               name, endpoint, (test->timeout_ms + 999) / 1000);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  else if (g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_BUCKET))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_BUCKET_NOT_FOUND,
                               _("Bucket “%s” does not exist on storage target “%s” (%s)"),
                               test->bucket, name, endpoint);
    }
  else if (g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_ACCESS_DENIED) ||
           g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_INVALID_ACCESS_KEY) ||
           g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_SIGNATURE))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_ACCESS_DENIED,
                               _("Storage target “%s” (%s) refused access to bucket “%s”; check "
                                 "the access key id, the secret key and the key’s permissions: "
                                 "%s"),
                               name, endpoint, test->bucket, error->message);
    }
  else if (error->domain != LT_S3_ERROR ||
           g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_TRANSIENT) ||
           g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_CLOCK_SKEW))
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_UNREACHABLE,
                               _("Cannot reach storage target “%s” (%s): %s"),
                               name, endpoint, error->message);
    }
  else
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR,
                               LT_STORAGE_TARGETS_ERROR_NOT_WRITABLE,
                               _("Bucket “%s” of storage target “%s” (%s) cannot be written: "
                                 "%s"),
                               test->bucket, name, endpoint, error->message);
    }
  g_error_free (error);
}

static void
check_writable_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lt_s3_client_check_writable_finish (LT_S3_CLIENT (source), result, &error))
    return_s3_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
secret_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Test *test = g_task_get_task_data (task);
  GError *error = NULL;
  char *secret;
  LtS3Config config = { 0, };

  secret = lt_storage_targets_lookup_secret_finish (LT_STORAGE_TARGETS (source), result, &error);
  if (secret == NULL)
    {
      if (test->timed_out)
        return_s3_error (task, error);
      else
        g_task_return_error (task, error);
      return;
    }

  config.endpoint = lt_storage_target_get_endpoint (test->target);
  config.region = lt_storage_target_get_region (test->target);
  config.bucket = test->bucket;
  config.path_style = lt_storage_target_get_path_style (test->target);
  config.access_key_id = lt_storage_target_get_access_key_id (test->target);
  config.max_connections = 1;
  config.timeout_s = MAX (1, (test->timeout_ms + 999) / 1000);

  test->client = lt_s3_client_new (&config, secret, &error);
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
  if (test->client == NULL)
    {
      g_task_return_new_error (task, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_FAILED,
                               _("Cannot talk to storage target “%s”: %s"),
                               lt_storage_target_get_name (test->target), error->message);
      g_error_free (error);
      return;
    }

  lt_s3_client_check_writable_async (test->client, test->cancellable, check_writable_cb,
                                     g_object_ref (task));
}

void
_lt_storage_targets_test_s3 (LtStorageTargets *self,
                             LtStorageTarget  *target,
                             const char       *bucket,
                             guint             timeout_ms,
                             GTask            *task)
{
  Test *test = g_new0 (Test, 1);
  GCancellable *caller = g_task_get_cancellable (task);

  test->target = g_object_ref (target);
  test->bucket = g_strdup (bucket);
  test->timeout_ms = timeout_ms;
  test->cancellable = g_cancellable_new ();
  if (caller != NULL)
    {
      test->caller_cancellable = g_object_ref (caller);
      test->caller_cancelled_id = g_cancellable_connect (caller,
                                                         G_CALLBACK (caller_cancelled_cb),
                                                         test->cancellable, NULL);
    }
  test->timeout_source = g_timeout_source_new (timeout_ms);
  g_source_set_callback (test->timeout_source, timeout_cb, test, NULL);
  g_source_set_static_name (test->timeout_source, "[livetape] storage target test");
  g_source_attach (test->timeout_source, g_task_get_context (task));
  g_task_set_task_data (task, test, test_free);

  lt_storage_targets_lookup_secret_async (self, target, test->cancellable, secret_cb, task);
}

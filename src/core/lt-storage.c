/* lt-storage.c: the built-in local folder target and bucket checks. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-rule.h"
#include "lt-storage.h"
#include "lt-template.h"

char *
lt_storage_default_local_root (const char *data_dir)
{
  const char *videos;

  if (data_dir != NULL)
    return g_build_filename (data_dir, "storage", NULL);

  videos = g_get_user_special_dir (G_USER_DIRECTORY_VIDEOS);
  if (videos != NULL)
    return g_build_filename (videos, "Livetape", NULL);

  /* No xdg-user-dirs configuration (servers, CI): the conventional place. */
  return g_build_filename (g_get_home_dir (), "Videos", "Livetape", NULL);
}

gboolean
lt_storage_is_local_endpoint (const char *endpoint)
{
  return endpoint != NULL && g_ascii_strcasecmp (endpoint, LT_STORAGE_LOCAL_TARGET) == 0;
}

gboolean
lt_storage_prepare_bucket (const char  *local_root,
                           const char  *endpoint,
                           const char  *bucket,
                           GError     **error)
{
  g_autofree char *path = NULL;
  int saved_errno;

  g_return_val_if_fail (local_root != NULL, FALSE);
  g_return_val_if_fail (endpoint != NULL, FALSE);
  g_return_val_if_fail (bucket != NULL, FALSE);

  if (!lt_storage_is_local_endpoint (endpoint))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                   _("No storage target is configured for OssEndpoint “%s”, so bucket “%s” "
                     "does not exist"), endpoint, bucket);
      return FALSE;
    }

  /* The rule model already enforces bucket naming; this guards the path on its own. */
  if (strchr (bucket, '/') != NULL || !lt_object_key_is_safe (bucket))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED,
                   _("OssBucket “%s” is not a valid bucket name"), bucket);
      return FALSE;
    }

  path = g_build_filename (local_root, bucket, NULL);
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      saved_errno = errno;
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                   _("Bucket “%s” cannot be created in the local storage folder %s: %s"),
                   bucket, local_root, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_access (path, W_OK | X_OK) != 0)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,
                   _("Bucket “%s” in the local storage folder %s is not a writable folder"),
                   bucket, local_root);
      return FALSE;
    }

  return TRUE;
}

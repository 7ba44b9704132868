/* lt-s3-bench.c: uploads files with LtS3Client for bench/bench-s3.py — a bounded number of
 * requests in flight (default 4), files above the multipart threshold sent as parts
 * (default 8 MiB) that share the same pool, transient errors retried with backoff. The
 * access key id and secret come on standard input ("ID SECRET"), never on the command
 * line. Prints one line: "files=N bytes=B seconds=S". */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "lt-s3-client.h"

typedef struct
{
  char      *path;
  char      *key;
  goffset    size;
  char      *upload_id;    /* multipart */
  GPtrArray *parts;        /* LtS3Part *, by part number - 1 */
  guint      parts_left;
} Upload;

typedef struct
{
  Upload  *upload;
  guint    part_number;    /* 0: a whole-object PUT */
  goffset  offset;
  goffset  length;
  guint    attempt;
  char    *md5;            /* --md5-first: known before the upload */
} Job;

static LtS3Client *client;
static GPtrArray *uploads;
static GQueue jobs = G_QUEUE_INIT;
static guint in_flight;
static guint concurrency = 4;
static guint pending_steps;
static gboolean failed;
static GMainLoop *loop;

static void start_jobs (void);

static void
job_done (Job    *job,
          char   *etag,
          GError *error)
{
  in_flight--;
  if (etag == NULL)
    {
      if (lt_s3_error_is_retryable (error) && job->attempt < 8)
        {
          job->attempt++;
          g_queue_push_tail (&jobs, job);
          g_usleep (lt_s3_backoff_delay (job->attempt, 2000) * 1000);
          start_jobs ();
          return;
        }
      g_printerr ("lt-s3-bench: %s: %s\n", job->upload->key, error->message);
      failed = TRUE;
      g_main_loop_quit (loop);
      return;
    }
  if (job->part_number > 0)
    {
      g_ptr_array_index (job->upload->parts, job->part_number - 1) =
        lt_s3_part_new (job->part_number, etag, (guint64) job->length);
      job->upload->parts_left--;
    }
  g_free (etag);
  g_free (job->md5);
  g_free (job);
  pending_steps--;
  if (pending_steps == 0)
    g_main_loop_quit (loop);
  else
    start_jobs ();
}

static void
put_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  char *etag = lt_s3_client_put_object_finish (client, result, &error);

  job_done (user_data, etag, error);
}

static void
part_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  char *etag = lt_s3_client_upload_part_finish (client, result, &error);

  job_done (user_data, etag, error);
}

static void
start_jobs (void)
{
  while (in_flight < concurrency && !g_queue_is_empty (&jobs))
    {
      Job *job = g_queue_pop_head (&jobs);
      g_autoptr(GFile) file = g_file_new_for_path (job->upload->path);

      in_flight++;
      if (job->part_number == 0)
        lt_s3_client_put_object_with_md5_async (client, job->upload->key, file, NULL, job->md5,
                                                NULL, NULL, NULL, NULL, put_done_cb, job);
      else
        lt_s3_client_upload_part_with_md5_async (client, job->upload->key,
                                                 job->upload->upload_id, job->part_number,
                                                 file, job->offset, job->length, job->md5,
                                                 NULL, NULL, NULL, NULL, part_done_cb, job);
    }
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static char *
range_md5 (const char *path,
           goffset     offset,
           goffset     length)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree guint8 *buffer = g_malloc (1024 * 1024);
  FILE *f = fopen (path, "rb");

  g_assert (f != NULL);
  fseeko (f, offset, SEEK_SET);
  while (length > 0)
    {
      size_t n = fread (buffer, 1, (size_t) MIN (length, 1024 * 1024), f);

      g_assert (n > 0);
      g_checksum_update (checksum, buffer, n);
      length -= (goffset) n;
    }
  fclose (f);
  return g_strdup (g_checksum_get_string (checksum));
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static GAsyncResult *
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *endpoint = NULL;
  g_autofree char *bucket = NULL;
  g_autofree char *region = NULL;
  g_autofree char *prefix = NULL;
  int part_mib = 8;
  int threshold_mib = 64;
  int concurrency_opt = 4;
  gboolean md5_first = FALSE;
  double cpu_start;
  g_auto(GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &endpoint, "http(s)://host:port", "URL" },
    { "bucket", 0, 0, G_OPTION_ARG_STRING, &bucket, "bucket", "NAME" },
    { "region", 0, 0, G_OPTION_ARG_STRING, &region, "region", "R" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "key prefix", "P" },
    { "concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency_opt, "requests in flight", "N" },
    { "part-size", 0, 0, G_OPTION_ARG_INT, &part_mib, "multipart part size", "MiB" },
    { "multipart-threshold", 0, 0, G_OPTION_ARG_INT, &threshold_mib, "multipart above", "MiB" },
    { "md5-first", 0, 0, G_OPTION_ARG_NONE, &md5_first,
      "hash every file and part before the clock starts (as if the recorder had)", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE…" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE… — upload with LtS3Client");
  g_autoptr(GError) error = NULL;
  char line[1024];
  g_auto(GStrv) credentials = NULL;
  guint64 total = 0;
  gint64 start, elapsed;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || endpoint == NULL
      || bucket == NULL || files == NULL)
    {
      g_printerr ("lt-s3-bench: %s\n", error != NULL ? error->message
                                                     : "--endpoint, --bucket and files needed");
      return 2;
    }
  if (fgets (line, sizeof line, stdin) == NULL)
    return 2;
  credentials = g_strsplit (g_strstrip (line), " ", 2);
  explicit_bzero (line, sizeof line);
  if (g_strv_length (credentials) != 2)
    return 2;
  concurrency = (guint) MAX (concurrency_opt, 1);

  {
    LtS3Config config = {
      .endpoint = endpoint, .region = region, .bucket = bucket, .path_style = TRUE,
      .access_key_id = credentials[0], .max_connections = concurrency, .timeout_s = 120,
    };
    client = lt_s3_client_new (&config, credentials[1], &error);
    explicit_bzero (credentials[1], strlen (credentials[1]));
    if (client == NULL)
      {
        g_printerr ("lt-s3-bench: %s\n", error->message);
        return 1;
      }
  }

  loop = g_main_loop_new (NULL, FALSE);
  uploads = g_ptr_array_new ();
  start = g_get_monotonic_time ();

  for (guint i = 0; files[i] != NULL; i++)
    {
      Upload *upload = g_new0 (Upload, 1);
      g_autofree char *base = g_path_get_basename (files[i]);
      GStatBuf st;

      if (g_stat (files[i], &st) != 0)
        {
          g_printerr ("lt-s3-bench: cannot stat %s\n", files[i]);
          return 1;
        }
      upload->path = g_strdup (files[i]);
      upload->key = g_strconcat (prefix != NULL ? prefix : "", base, NULL);
      upload->size = st.st_size;
      total += (guint64) st.st_size;
      g_ptr_array_add (uploads, upload);

      if (upload->size > (goffset) threshold_mib * 1024 * 1024)
        {
          goffset part = (goffset) part_mib * 1024 * 1024;
          g_autoptr(GAsyncResult) result = NULL;
          guint n = 0;

          lt_s3_client_create_multipart_async (client, upload->key, NULL, NULL, store_result_cb,
                                               &result);
          upload->upload_id = lt_s3_client_create_multipart_finish (client, wait_result (&result),
                                                                    &error);
          if (upload->upload_id == NULL)
            {
              g_printerr ("lt-s3-bench: %s\n", error->message);
              return 1;
            }
          upload->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_part_free);
          for (goffset offset = 0; offset < upload->size; offset += part)
            {
              Job *job = g_new0 (Job, 1);

              job->upload = upload;
              job->part_number = ++n;
              job->offset = offset;
              job->length = MIN (part, upload->size - offset);
              if (md5_first)
                job->md5 = range_md5 (upload->path, job->offset, job->length);
              g_queue_push_tail (&jobs, job);
              pending_steps++;
            }
          g_ptr_array_set_size (upload->parts, n);
          upload->parts_left = n;
        }
      else
        {
          Job *job = g_new0 (Job, 1);

          job->upload = upload;
          job->length = upload->size;
          if (md5_first)
            job->md5 = range_md5 (upload->path, 0, upload->size);
          g_queue_push_tail (&jobs, job);
          pending_steps++;
        }
    }

  /* With --md5-first the clock starts only now (multipart uploads were created above). */
  if (md5_first)
    start = g_get_monotonic_time ();
  cpu_start = md5_first ? cpu_seconds () : 0;
  start_jobs ();
  if (pending_steps > 0)
    g_main_loop_run (loop);
  if (failed)
    return 1;

  for (guint i = 0; i < uploads->len; i++)
    {
      Upload *upload = uploads->pdata[i];
      g_autoptr(GAsyncResult) result = NULL;
      g_autofree char *etag = NULL;

      if (upload->upload_id == NULL)
        continue;
      lt_s3_client_complete_multipart_async (client, upload->key, upload->upload_id,
                                             upload->parts, NULL, store_result_cb, &result);
      etag = lt_s3_client_complete_multipart_finish (client, wait_result (&result), &error);
      if (etag == NULL)
        {
          g_printerr ("lt-s3-bench: %s: %s\n", upload->key, error->message);
          return 1;
        }
    }
  elapsed = g_get_monotonic_time () - start;

  printf ("files=%u bytes=%" G_GUINT64_FORMAT " seconds=%.3f cpu=%.3f\n", uploads->len,
          total, elapsed / 1e6, cpu_seconds () - cpu_start);
  g_object_unref (client);
  return 0;
}

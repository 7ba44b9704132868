/* lt-test-s3.c: the loopback S3 servers of the S3 tests (s3rver and s3strict.py), their
 * control endpoint, and clients pointed at them. See lt-test-s3.h. */
#include "config.h"

#include "lt-test-s3.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <libsoup/soup.h>

static char *
read_line (GSubprocess *process)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (process);
  GString *line = g_string_new (NULL);
  char c;

  while (g_input_stream_read (out, &c, 1, NULL, NULL) == 1)
    {
      if (c == '\n')
        {
          if (line->len > 0)
            break;
          continue;
        }
      g_string_append_c (line, c);
    }
  return g_string_free (line, FALSE);
}

/* A test that fails aborts without its cleanup: the servers must not outlive it. (The
 * strict server also stops when its stdin, our pipe, closes.) */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_strict (LtTestS3Server *server)
{
  const char *source_root = g_getenv ("LT_SOURCE_ROOT");
  g_autofree char *script = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *line = NULL;
  guint8 random[24];

  g_assert_nonnull (source_root);
  script = g_build_filename (source_root, "tests", "integration", "s3strict.py", NULL);
  server->access_key_id = g_strdup_printf ("LTTEST%08X", g_random_int ());
  for (guint i = 0; i < sizeof random; i++)
    random[i] = (guint8) g_random_int ();
  server->secret = g_base64_encode (random, sizeof random);
  server->data_dir = g_dir_make_tmp ("lt-s3strict-XXXXXX", &error);
  g_assert_no_error (error);
  server->stderr_path = g_build_filename (server->data_dir, "stderr.log", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, server->stderr_path);
  server->process = g_subprocess_launcher_spawn (launcher, &error, "python3", script,
                                                 "--bucket", server->bucket, NULL);
  g_assert_no_error (error);
  /* The secret goes over a pipe, never on a command line. */
  credentials = g_strdup_printf ("%s %s\n", server->access_key_id, server->secret);
  g_output_stream_write_all (g_subprocess_get_stdin_pipe (server->process), credentials,
                             strlen (credentials), NULL, NULL, &error);
  g_assert_no_error (error);
  explicit_bzero (credentials, strlen (credentials));
  line = read_line (server->process);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  server->endpoint = g_strdup_printf ("http://127.0.0.1:%s", line + 5);
}

static void
start_s3rver (LtTestS3Server *server)
{
  const char *node_bin = g_getenv ("LT_NODE_BIN");
  g_autofree char *s3rver = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *colon;

  g_assert_nonnull (node_bin);
  s3rver = g_build_filename (node_bin, "s3rver", NULL);
  g_assert_true (g_file_test (s3rver, G_FILE_TEST_IS_EXECUTABLE));
  /* s3rver has one fixed account. */
  server->access_key_id = g_strdup ("S3RVER");
  server->secret = g_strdup ("S3RVER");
  server->data_dir = g_dir_make_tmp ("lt-s3rver-XXXXXX", &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  server->process = g_subprocess_launcher_spawn (launcher, &error, s3rver, "-d",
                                                 server->data_dir, "-a", "127.0.0.1", "-p", "0",
                                                 "--configure-bucket", server->bucket,
                                                 "--no-vhost-buckets", NULL);
  g_assert_no_error (error);
  line = read_line (server->process);
  g_assert_true (g_str_has_prefix (line, "S3rver listening on "));
  colon = strrchr (line, ':');
  g_assert_nonnull (colon);
  server->endpoint = g_strdup_printf ("http://127.0.0.1:%s", colon + 1);
}

void
lt_test_s3_server_start (LtTestS3Server *server)
{
  g_assert_nonnull (server->bucket);
  g_assert_null (server->process);

  if (server->strict)
    start_strict (server);
  else
    start_s3rver (server);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf",
                                                path, NULL);

  if (rm != NULL)
    g_subprocess_wait (rm, NULL, NULL);
}

void
lt_test_s3_server_stop (LtTestS3Server *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait (server->process, NULL, NULL);
    }
  if (server->stderr_path != NULL && server->secret != NULL)
    {
      g_autofree char *log = NULL;

      /* The server's own output must not hold the secret either. */
      if (g_file_get_contents (server->stderr_path, &log, NULL, NULL))
        g_assert_null (strstr (log, server->secret));
    }
  if (server->data_dir != NULL)
    remove_tree (server->data_dir);
  g_clear_object (&server->process);
  g_clear_pointer (&server->endpoint, g_free);
  g_clear_pointer (&server->access_key_id, g_free);
  g_clear_pointer (&server->secret, g_free);
  g_clear_pointer (&server->data_dir, g_free);
  g_clear_pointer (&server->stderr_path, g_free);
}

char *
lt_test_s3_control (LtTestS3Server *server,
                    const char     *name,
                    const char     *json)
{
  /* No proxy resolver: loopback, and no desktop proxy schema in the test environment. */
  g_autoptr(SoupSession) session = soup_session_new_with_options ("proxy-resolver", NULL,
                                                                  NULL);
  g_autofree char *url = g_strdup_printf ("%s/__control/%s", server->endpoint, name);
  g_autoptr(SoupMessage) message = soup_message_new (json != NULL ? "POST" : "GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (server->strict);
  if (json != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (json, strlen (json));
      soup_message_set_request_body_from_bytes (message, "application/json", request);
    }
  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

gint64
lt_test_s3_stat (LtTestS3Server *server,
                 const char     *name)
{
  g_autofree char *json = lt_test_s3_control (server, "stats", NULL);
  g_autofree char *needle = g_strdup_printf ("\"%s\": ", name);
  const char *at = strstr (json, needle);

  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (needle), NULL, 10);
}

LtS3Client *
lt_test_s3_make_client (LtTestS3Server *server,
                        const char     *bucket,
                        const char     *secret,
                        guint           max_connections,
                        guint           timeout_s)
{
  LtS3Config config = {
    .endpoint = server->endpoint,
    .region = "us-east-1",
    .bucket = bucket != NULL ? bucket : server->bucket,
    .path_style = TRUE,
    .access_key_id = server->access_key_id,
    .max_connections = max_connections,
    .timeout_s = timeout_s,
  };
  g_autoptr(GError) error = NULL;
  LtS3Client *client = lt_s3_client_new (&config, secret != NULL ? secret : server->secret,
                                         &error);

  g_assert_no_error (error);
  g_assert_nonnull (client);
  return client;
}

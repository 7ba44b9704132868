/* lt-test-publisher.c: publishers and media files for the integration tests. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lt-test-publisher.h"
#include "lt-test-utils.h"

struct _LtTestPublisher
{
  GSubprocess *subprocess;
  GPid         pid;
  gboolean     exited;
};

static void
child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
}

static void
publisher_wait_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  LtTestPublisher *self = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  self->exited = TRUE;
}

static void
publisher_free (gpointer data)
{
  LtTestPublisher *self = data;

  lt_test_publisher_kill (self);
  g_clear_object (&self->subprocess);
  g_free (self);
}

LtTestPublisher *
lt_test_publisher_spawn (const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  LtTestPublisher *self;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);

  self = g_new0 (LtTestPublisher, 1);
  self->subprocess = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  self->pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (self->subprocess),
                                      NULL, 10);
  g_test_queue_destroy (publisher_free, self);

  /* The callback data lives until the end of the test, and publisher_free waits for the
   * exit, so the callback always finds it. */
  g_subprocess_wait_async (self->subprocess, NULL, publisher_wait_cb, self);

  return self;
}

LtTestPublisher *
lt_test_publisher_spawn_ffmpeg (const char         *url,
                                const char * const *extra_args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  g_strv_builder_add_many (builder,
                           "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                           "-re",
                           "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                           "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                           "-pix_fmt", "yuv420p",
                           "-c:a", "aac", "-b:a", "96k",
                           NULL);
  if (extra_args != NULL)
    g_strv_builder_addv (builder, (const char **) extra_args);
  g_strv_builder_add_many (builder, "-f", "flv", url, NULL);

  argv = g_strv_builder_end (builder);
  return lt_test_publisher_spawn ((const char * const *) argv);
}

GPid
lt_test_publisher_get_pid (LtTestPublisher *self)
{
  return self->pid;
}

gboolean
lt_test_publisher_has_exited (LtTestPublisher *self)
{
  g_main_context_iteration (NULL, FALSE);
  return self->exited;
}

static gboolean
publisher_exited (gpointer data)
{
  LtTestPublisher *self = data;

  return self->exited;
}

gboolean
lt_test_publisher_wait_exit (LtTestPublisher *self,
                             guint            timeout_ms)
{
  return lt_test_iterate_until (publisher_exited, self, timeout_ms);
}

int
lt_test_publisher_get_exit_status (LtTestPublisher *self)
{
  if (!self->exited || !g_subprocess_get_if_exited (self->subprocess))
    return -1;

  return g_subprocess_get_exit_status (self->subprocess);
}

void
lt_test_publisher_kill (LtTestPublisher *self)
{
  if (self->exited)
    return;

  g_subprocess_force_exit (self->subprocess);
  g_subprocess_wait (self->subprocess, NULL, NULL);
  /* The async wait's callback still comes, from the main context; the flag is set here
   * too so that callers see the exit at once. */
  while (!self->exited)
    g_main_context_iteration (NULL, TRUE);
}

guint
lt_test_pick_free_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  loopback = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
lt_test_make_media_file (const char *path,
                         guint       seconds,
                         const char *video_codec)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  g_autofree char *stderr_text = NULL;
  int status = 0;
  const char *argv[] = {
    "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100",
    "-t", duration,
    "-c:v", video_codec, "-g", "30", "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-b:a", "64k",
    path, NULL,
  };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &stderr_text, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_test_message ("ffmpeg: %s", stderr_text);
  g_assert_no_error (error);
}

gboolean
lt_test_process_alive (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  const char *close_paren;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;

  /* "pid (comm) S …": the state follows the last ')'. */
  close_paren = strrchr (contents, ')');
  return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

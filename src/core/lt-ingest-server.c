/* lt-ingest-server.c: nginx-rtmp as our child, its publish hooks and its statistics (see
 * lt-ingest-server.h for the design). */
#define G_LOG_DOMAIN "lt-ingest"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lt-ingest-server.h"

/* The one nginx-rtmp application every connection is redirected into. */
#define INTERNAL_APP          "livetape"
/* Publish argument that marks the demo source (value: the server's private token). */
#define SOURCE_ARG            "lt_source"
#define STOP_TIMEOUT_MS       3000
#define READY_TIMEOUT_MS      10000
#define READY_POLL_MS         50
#define BACKOFF_MIN_MS        1000
#define BACKOFF_MAX_MS        30000
/* A run this long resets the restart backoff. */
#define STABLE_RUN_US         (30 * G_USEC_PER_SEC)
#define STAT_FAST_MS          250
#define STAT_SLOW_MS          2000
/* Bitrate is measured over at least this window. */
#define BITRATE_WINDOW_US     (G_USEC_PER_SEC * 3 / 2)
/* How long a new stream may take to show its codecs before we stop polling fast. */
#define MEDIA_INFO_WAIT_US    (10 * G_USEC_PER_SEC)
#define STDERR_KEEP_LINES     20

/* One publisher session inside nginx. */
typedef struct
{
  char     *nginx_name;    /* internal stream name, "s<N>" */
  char     *client_id;
  LtStream *stream;
  gint64    online_at;     /* monotonic */
  guint64   base_bytes;    /* bitrate window start */
  gint64    base_time;
  gboolean  have_base;
} Session;

/* One nginx process: shared with its async callbacks, which reach the server through a
 * weak reference and ignore a process that is no longer the current one. */
typedef struct
{
  GWeakRef          server;
  GSubprocess      *subprocess;
  char             *pid;            /* the identifier, which GSubprocess drops at exit */
  GCancellable     *cancellable;
  GDataInputStream *stderr_stream;
  GQueue            lines;          /* last STDERR_KEEP_LINES lines of stderr */
  gboolean          exited;
  gboolean          stderr_done;
} NginxProc;

struct _LtIngestServer
{
  GObject           parent_instance;

  LtStreamRegistry *registry;
  char             *runtime_dir;
  guint             port;
  char             *bind_address;
  char             *default_domain;
  char             *public_host;
  char             *nginx_path;
  char             *rtmp_module;

  LtIngestState     state;
  char             *last_error;
  guint             restart_count;
  GList            *start_tasks;     /* GTask, waiting for RUNNING or a failure */

  SoupServer       *hooks;           /* nginx's on_connect / on_publish / … */
  guint             hooks_port;
  char             *hooks_token;     /* path prefix only nginx knows */
  char             *demo_token;
  SoupSession      *http;            /* statistics */
  guint             stat_port;

  NginxProc        *proc;
  gint64            running_since;   /* monotonic, 0 when not running */
  guint             backoff_ms;
  guint             restart_id;
  guint             ready_id;
  gint64            ready_deadline;
  gboolean          ready_probe_pending;
  gboolean          no_retry;        /* nothing a retry could fix (not installed) */

  guint64           serial;
  GHashTable       *by_client;       /* client id → Session (owned) */
  GHashTable       *by_nginx_name;   /* nginx name → Session (borrowed) */
  guint             stat_id;
  guint             stat_interval;
  GCancellable     *stat_cancellable;
  gboolean          stat_pending;
};

G_DEFINE_FINAL_TYPE (LtIngestServer, lt_ingest_server, G_TYPE_OBJECT)

G_DEFINE_QUARK (lt-ingest-server-error-quark, lt_ingest_server_error)

enum {
  PROP_0,
  PROP_REGISTRY,
  PROP_RUNTIME_DIR,
  PROP_PORT,
  PROP_BIND_ADDRESS,
  PROP_DEFAULT_DOMAIN,
  PROP_PUBLIC_HOST,
  PROP_STATE,
  PROP_LAST_ERROR,
  PROP_RESTART_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void spawn_nginx        (LtIngestServer *self);
static void update_stat_timer  (LtIngestServer *self);

/* ---- sessions ---- */

static void
session_free (gpointer data)
{
  Session *session = data;

  g_free (session->nginx_name);
  g_free (session->client_id);
  g_clear_object (&session->stream);
  g_free (session);
}

static void
end_session (LtIngestServer *self,
             Session        *session)
{
  g_autoptr(LtStream) stream = g_object_ref (session->stream);

  g_debug ("offline: %s (nginx %s, client %s)", lt_stream_get_key (stream),
           session->nginx_name, session->client_id);

  g_hash_table_remove (self->by_nginx_name, session->nginx_name);
  g_hash_table_remove (self->by_client, session->client_id);   /* frees session */
  lt_stream_registry_remove (self->registry, stream);
  update_stat_timer (self);
}

static void
end_all_sessions (LtIngestServer *self)
{
  g_autoptr(GList) sessions = g_hash_table_get_values (self->by_client);

  for (GList *l = sessions; l != NULL; l = l->next)
    end_session (self, l->data);
}

/* ---- state ---- */

static void
set_state (LtIngestServer *self,
           LtIngestState   state,
           const char     *error_message)
{
  g_object_freeze_notify (G_OBJECT (self));

  if (g_strcmp0 (self->last_error, error_message) != 0)
    {
      g_free (self->last_error);
      self->last_error = g_strdup (error_message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
    }
  if (self->state != state)
    {
      g_debug ("state %d → %d%s%s", self->state, state,
               error_message ? ": " : "", error_message ? error_message : "");
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

static void
complete_start_tasks (LtIngestServer *self,
                      const GError   *error)
{
  GList *tasks = g_steal_pointer (&self->start_tasks);

  for (GList *l = tasks; l != NULL; l = l->next)
    {
      g_autoptr(GTask) task = l->data;

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_list_free (tasks);
}

static void
fail (LtIngestServer *self,
      GQuark          domain,
      int             code,
      const char     *message)
{
  g_autoptr(GError) error = g_error_new_literal (domain, code, message);

  set_state (self, LT_INGEST_STATE_FAILED, message);
  complete_start_tasks (self, error);
}

/* Callback data for requests that must not keep the server alive (dispose stops nginx,
 * and must not wait for a statistics request). */
static GWeakRef *
weak_ref_new (gpointer object)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, object);
  return weak;
}

static gpointer
weak_ref_steal (GWeakRef *weak)
{
  gpointer object = g_weak_ref_get (weak);

  g_weak_ref_clear (weak);
  g_free (weak);
  return object;
}

/* ---- nginx processes ---- */

static NginxProc *
nginx_proc_new (LtIngestServer *self,
                GSubprocess    *subprocess)
{
  NginxProc *proc = g_rc_box_new0 (NginxProc);

  g_weak_ref_init (&proc->server, self);
  proc->subprocess = g_object_ref (subprocess);
  proc->pid = g_strdup (g_subprocess_get_identifier (subprocess));
  proc->cancellable = g_cancellable_new ();
  g_queue_init (&proc->lines);

  return proc;
}

static void
nginx_proc_clear (gpointer data)
{
  NginxProc *proc = data;

  g_weak_ref_clear (&proc->server);
  g_clear_object (&proc->subprocess);
  g_clear_pointer (&proc->pid, g_free);
  g_clear_object (&proc->cancellable);
  g_clear_object (&proc->stderr_stream);
  g_queue_clear_full (&proc->lines, g_free);
}

static NginxProc *
nginx_proc_ref (NginxProc *proc)
{
  return g_rc_box_acquire (proc);
}

static void
nginx_proc_unref (NginxProc *proc)
{
  g_rc_box_release_full (proc, nginx_proc_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NginxProc, nginx_proc_unref)

static void
wait_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
flag_timeout_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* SIGTERM (nginx's fast shutdown: it closes connections at once, where SIGQUIT would wait
 * for every publisher to leave), SIGKILL after @timeout_ms; returns once the process is
 * reaped. Runs a private main context so that it also works from dispose. */
static void
terminate_process (GSubprocess *subprocess,
                   guint        timeout_ms)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  GSource *timeout;

  g_main_context_push_thread_default (context);

  g_subprocess_send_signal (subprocess, SIGTERM);
  g_subprocess_wait_async (subprocess, NULL, wait_done_cb, &done);

  timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timeout, flag_timeout_cb, &timed_out, NULL);
  g_source_attach (timeout, context);

  while (!done && !timed_out)
    g_main_context_iteration (context, TRUE);

  if (!done)
    {
      g_debug ("nginx ignored SIGTERM for %u ms, killing it", timeout_ms);
      g_subprocess_force_exit (subprocess);
      while (!done)
        g_main_context_iteration (context, TRUE);
    }

  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_main_context_pop_thread_default (context);
}

/* The message of nginx's last [emerg]/[alert]/[crit] line, or NULL. */
static char *
find_fatal_line (NginxProc *proc)
{
  for (GList *l = proc->lines.tail; l != NULL; l = l->prev)
    {
      const char *line = l->data;
      const char *level = NULL;
      const char *message;

      if ((level = strstr (line, "[emerg]")) == NULL &&
          (level = strstr (line, "[alert]")) == NULL &&
          (level = strstr (line, "[crit]")) == NULL)
        continue;
      /* After bind() failures nginx closes with this; the line before says why. */
      if (strstr (level, "still could not bind()") != NULL)
        continue;

      /* "… [emerg] 123#0: bind() to 0.0.0.0:1935 failed (98: …)" */
      message = strstr (level, ": ");
      return g_strdup (message != NULL ? message + 2 : level);
    }

  return NULL;
}

static void
schedule_restart (LtIngestServer *self);

/* Both the exit and the end of stderr have been seen: decide what the exit means. */
static void
nginx_proc_finished (LtIngestServer *self,
                     NginxProc      *proc)
{
  g_autofree char *fatal = NULL;
  g_autofree char *message = NULL;
  GSubprocess *subprocess = proc->subprocess;
  gboolean was_running = self->state == LT_INGEST_STATE_RUNNING;

  g_assert (self->proc == proc);

  fatal = find_fatal_line (proc);
  if (g_subprocess_get_if_signaled (subprocess))
    message = g_strdup_printf (_("nginx was killed by signal %d"),
                               g_subprocess_get_term_sig (subprocess));
  else if (fatal != NULL && strstr (fatal, "Address already in use") != NULL)
    {
      g_autofree char *port_text = g_strdup_printf (":%u ", self->port);

      if (strstr (fatal, port_text) != NULL)
        message = g_strdup_printf (_("Port %u is already in use by another program (%s)"),
                                   self->port, fatal);
      else
        message = g_strdup_printf (_("nginx could not listen on an internal port (%s)"),
                                   fatal);
    }
  else if (fatal != NULL)
    message = g_strdup_printf (_("nginx failed: %s"), fatal);
  else
    message = g_strdup_printf (_("nginx exited with status %d"),
                               g_subprocess_get_if_exited (subprocess)
                               ? g_subprocess_get_exit_status (subprocess) : -1);

  g_debug ("nginx %s exited: %s", proc->pid, message);

  g_clear_pointer (&self->proc, nginx_proc_unref);
  g_clear_handle_id (&self->ready_id, g_source_remove);
  end_all_sessions (self);

  if (was_running &&
      g_get_monotonic_time () - self->running_since >= STABLE_RUN_US)
    self->backoff_ms = BACKOFF_MIN_MS;
  self->running_since = 0;

  if (was_running)
    {
      /* Died under us: it is being restarted, say why it went away. */
      self->restart_count++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESTART_COUNT]);
      set_state (self, LT_INGEST_STATE_STARTING, message);
    }
  else
    {
      int code = LT_INGEST_SERVER_ERROR_FAILED;

      if (fatal != NULL && strstr (fatal, "Address already in use") != NULL)
        code = LT_INGEST_SERVER_ERROR_PORT_IN_USE;
      fail (self, LT_INGEST_SERVER_ERROR, code, message);
    }

  schedule_restart (self);
}

static void
nginx_proc_check_finished (NginxProc *proc)
{
  g_autoptr(LtIngestServer) self = NULL;

  if (!proc->exited || !proc->stderr_done)
    return;
  if (g_cancellable_is_cancelled (proc->cancellable))
    return;

  self = g_weak_ref_get (&proc->server);
  if (self == NULL || self->proc != proc)
    return;

  nginx_proc_finished (self, proc);
}

static void
nginx_wait_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(NginxProc) proc = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  proc->exited = TRUE;
  nginx_proc_check_finished (proc);
}

static void
read_stderr_line_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(NginxProc) proc = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    NULL, &error);
  if (line == NULL)
    {
      /* EOF (nginx is gone), cancelled, or undecodable output: stop reading. */
      proc->stderr_done = TRUE;
      nginx_proc_check_finished (proc);
      return;
    }

  g_debug ("nginx: %s", line);
  g_queue_push_tail (&proc->lines, g_steal_pointer (&line));
  while (g_queue_get_length (&proc->lines) > STDERR_KEEP_LINES)
    g_free (g_queue_pop_head (&proc->lines));

  g_data_input_stream_read_line_async (proc->stderr_stream, G_PRIORITY_DEFAULT,
                                       proc->cancellable, read_stderr_line_cb,
                                       nginx_proc_ref (proc));
}

static void
nginx_child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  /* Its own process group, so that ^C in our terminal does not reach it: we stop it. */
  setpgid (0, 0);
  /* Die with us, even on kill -9. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
}

/* ---- configuration ---- */

/* A double-quoted nginx configuration string. */
static char *
conf_quote (const char *text)
{
  GString *out = g_string_new ("\"");

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\' || *p == '$')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');

  return g_string_free (out, FALSE);
}

static char *
build_config (LtIngestServer *self)
{
  g_autofree char *module = conf_quote (self->rtmp_module);
  g_autofree char *listen = NULL;
  g_autofree char *hook = NULL;
  struct rlimit limit = { 0, };
  rlim_t files = 8192;
  guint connections;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max != RLIM_INFINITY &&
      limit.rlim_max < files)
    files = limit.rlim_max;
  connections = MAX (64, (guint) files / 2);

  if (self->bind_address != NULL && *self->bind_address != '\0')
    listen = g_strdup_printf ("%s:%u", self->bind_address, self->port);
  else
    listen = g_strdup_printf ("%u", self->port);

  hook = g_strdup_printf ("http://127.0.0.1:%u/%s", self->hooks_port, self->hooks_token);

  return g_strdup_printf (
    "# Written by Livetape each time the ingest server starts: edits are lost.\n"
    "daemon off;\n"
    "master_process off;\n"
    "worker_processes 1;\n"
    "worker_rlimit_nofile %u;\n"
    "pid nginx.pid;\n"
    "error_log logs/error.log warn;\n"
    "error_log stderr warn;\n"
    "load_module %s;\n"
    "\n"
    "events {\n"
    "  worker_connections %u;\n"
    "}\n"
    "\n"
    "rtmp {\n"
    "  server {\n"
    "    listen %s;\n"
    "    chunk_size 4096;\n"
    "    notify_method post;\n"
    "    # Every app name lands in one application (see lt-ingest-server.h).\n"
    "    on_connect %s/on_connect;\n"
    "\n"
    "    application " INTERNAL_APP " {\n"
    "      live on;\n"
    "      wait_key on;\n"
    "      drop_idle_publisher 10s;\n"
    "      on_publish %s/on_publish;\n"
    "      on_publish_done %s/on_publish_done;\n"
    "      on_play %s/on_play;\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "http {\n"
    "  access_log off;\n"
    "  client_body_temp_path temp/client_body;\n"
    "  proxy_temp_path temp/proxy;\n"
    "  fastcgi_temp_path temp/fastcgi;\n"
    "  uwsgi_temp_path temp/uwsgi;\n"
    "  scgi_temp_path temp/scgi;\n"
    "\n"
    "  server {\n"
    "    listen 127.0.0.1:%u;\n"
    "    location = /stat {\n"
    "      rtmp_stat all;\n"
    "    }\n"
    "    location / {\n"
    "      return 404;\n"
    "    }\n"
    "  }\n"
    "}\n",
    (guint) files, module, connections, listen, hook, hook, hook, hook, self->stat_port);
}

static guint
pick_free_port (GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return 0;

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (socket, address, FALSE, error))
    return 0;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static char *
find_nginx (LtIngestServer *self)
{
  static const char * const fallbacks[] = { "/usr/sbin/nginx", "/usr/local/sbin/nginx" };
  char *path;

  if (self->nginx_path != NULL)
    {
      if (g_path_is_absolute (self->nginx_path))
        return g_file_test (self->nginx_path, G_FILE_TEST_IS_EXECUTABLE)
               ? g_strdup (self->nginx_path) : NULL;
      return g_find_program_in_path (self->nginx_path);
    }

  /* Debian keeps nginx in /usr/sbin, which is not on a normal user's PATH. */
  if ((path = g_find_program_in_path ("nginx")) != NULL)
    return path;
  for (guint i = 0; i < G_N_ELEMENTS (fallbacks); i++)
    if (g_file_test (fallbacks[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (fallbacks[i]);

  return NULL;
}

static gboolean
prepare_runtime_dir (LtIngestServer  *self,
                     GError         **error)
{
  static const char * const subdirs[] = {
    "logs", "temp", "temp/client_body", "temp/proxy", "temp/fastcgi", "temp/uwsgi",
    "temp/scgi",
  };

  if (g_mkdir_with_parents (self->runtime_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the ingest folder %s: %s"), self->runtime_dir,
                   g_strerror (errsv));
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (self->runtime_dir, subdirs[i], NULL);

      if (g_mkdir_with_parents (path, 0700) != 0)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       _("Cannot create the ingest folder %s: %s"), path,
                       g_strerror (errsv));
          return FALSE;
        }
    }

  return TRUE;
}

/* ---- readiness: nginx is up once its statistics page answers ---- */

static char *
stat_url (LtIngestServer *self)
{
  return g_strdup_printf ("http://127.0.0.1:%u/stat", self->stat_port);
}

static void
ready_probe_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtIngestServer) self = weak_ref_steal (user_data);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->ready_probe_pending = FALSE;

  if (self->state != LT_INGEST_STATE_STARTING || self->proc == NULL)
    return;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    return;   /* not yet: the poll timer tries again */

  g_clear_handle_id (&self->ready_id, g_source_remove);
  self->running_since = g_get_monotonic_time ();
  g_debug ("nginx %s running on port %u", self->proc->pid, self->port);
  set_state (self, LT_INGEST_STATE_RUNNING, NULL);
  complete_start_tasks (self, NULL);
}

static gboolean
ready_poll_cb (gpointer user_data)
{
  LtIngestServer *self = user_data;
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *url = NULL;

  if (g_get_monotonic_time () > self->ready_deadline)
    {
      self->ready_id = 0;
      g_debug ("nginx did not answer within %u ms", READY_TIMEOUT_MS);
      /* Its exit is then handled like any failed start. */
      if (self->proc != NULL)
        {
          NginxProc *proc = self->proc;

          g_queue_push_tail (&proc->lines,
                             g_strdup ("[emerg] 0#0: did not answer in time"));
          g_subprocess_force_exit (proc->subprocess);
        }
      return G_SOURCE_REMOVE;
    }

  if (self->ready_probe_pending)
    return G_SOURCE_CONTINUE;

  url = stat_url (self);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  self->ready_probe_pending = TRUE;
  soup_session_send_and_read_async (self->http, msg, G_PRIORITY_DEFAULT,
                                    self->stat_cancellable, ready_probe_cb,
                                    weak_ref_new (self));

  return G_SOURCE_CONTINUE;
}

/* ---- starting and restarting ---- */

static gboolean
ensure_hooks (LtIngestServer  *self,
              GError         **error);

static void
spawn_nginx (LtIngestServer *self)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *nginx = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *prefix = NULL;
  NginxProc *proc;

  g_assert (self->proc == NULL);

  g_clear_handle_id (&self->restart_id, g_source_remove);
  set_state (self, LT_INGEST_STATE_STARTING, self->last_error);

  nginx = find_nginx (self);
  if (nginx == NULL)
    {
      self->no_retry = TRUE;
      fail (self, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_NOT_INSTALLED,
            _("nginx is not installed (Debian package “nginx”)"));
      return;
    }
  if (!g_file_test (self->rtmp_module, G_FILE_TEST_EXISTS))
    {
      g_autofree char *message =
        g_strdup_printf (_("The RTMP module for nginx is missing: %s (Debian package "
                           "“libnginx-mod-rtmp”)"), self->rtmp_module);

      self->no_retry = TRUE;
      fail (self, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_NOT_INSTALLED, message);
      return;
    }
  self->no_retry = FALSE;

  if (!ensure_hooks (self, &error) ||
      !prepare_runtime_dir (self, &error) ||
      (self->stat_port = pick_free_port (&error)) == 0)
    {
      fail (self, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_FAILED, error->message);
      schedule_restart (self);
      return;
    }

  config = build_config (self);
  config_path = g_build_filename (self->runtime_dir, "nginx.conf", NULL);
  if (!g_file_set_contents_full (config_path, config, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      fail (self, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_FAILED, error->message);
      schedule_restart (self);
      return;
    }

  /* nginx resolves relative paths in the configuration against the prefix. */
  prefix = g_strconcat (self->runtime_dir, G_DIR_SEPARATOR_S, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, self->runtime_dir);
  g_subprocess_launcher_set_child_setup (launcher, nginx_child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);
  subprocess = g_subprocess_launcher_spawn (launcher, &error,
                                            nginx, "-e", "stderr", "-p", prefix,
                                            "-c", config_path, NULL);
  if (subprocess == NULL)
    {
      g_prefix_error (&error, _("Cannot start nginx: "));
      fail (self, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_FAILED, error->message);
      schedule_restart (self);
      return;
    }

  g_debug ("started nginx %s: port %u, hooks %u, stat %u",
           g_subprocess_get_identifier (subprocess), self->port, self->hooks_port,
           self->stat_port);

  proc = self->proc = nginx_proc_new (self, subprocess);
  proc->stderr_stream =
    g_data_input_stream_new (g_subprocess_get_stderr_pipe (subprocess));
  g_data_input_stream_read_line_async (proc->stderr_stream, G_PRIORITY_DEFAULT,
                                       proc->cancellable, read_stderr_line_cb,
                                       nginx_proc_ref (proc));
  g_subprocess_wait_async (subprocess, proc->cancellable, nginx_wait_cb,
                           nginx_proc_ref (proc));

  self->ready_deadline = g_get_monotonic_time () + READY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  g_clear_handle_id (&self->ready_id, g_source_remove);
  self->ready_id = g_timeout_add (READY_POLL_MS, ready_poll_cb, self);
}

static gboolean
restart_cb (gpointer user_data)
{
  LtIngestServer *self = user_data;

  self->restart_id = 0;
  spawn_nginx (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_restart (LtIngestServer *self)
{
  g_clear_handle_id (&self->restart_id, g_source_remove);

  if (self->no_retry)
    return;

  g_debug ("restarting nginx in %u ms", self->backoff_ms);
  self->restart_id = g_timeout_add (self->backoff_ms, restart_cb, self);
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
}

/* ---- nginx's hooks ---- */

typedef struct
{
  char *key;
  char *value;
} FormField;

static void
form_field_free (gpointer data)
{
  FormField *field = data;

  g_free (field->key);
  g_free (field->value);
  g_free (field);
}

/* application/x-www-form-urlencoded in order, duplicates kept: nginx puts its own fields
 * first and the publisher's query arguments after them, unescaped ('+' stays '+'). */
static GPtrArray *
parse_form (const char *body,
            gsize       length)
{
  g_autofree char *text = g_strndup (body, length);
  g_auto(GStrv) pairs = g_strsplit (text, "&", -1);
  GPtrArray *fields = g_ptr_array_new_with_free_func (form_field_free);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      const char *eq = strchr (pairs[i], '=');
      g_autofree char *raw_key = NULL;
      FormField *field;
      char *key;
      char *value;

      if (pairs[i][0] == '\0')
        continue;

      raw_key = eq != NULL ? g_strndup (pairs[i], eq - pairs[i]) : g_strdup (pairs[i]);
      key = g_uri_unescape_string (raw_key, NULL);
      value = g_uri_unescape_string (eq != NULL ? eq + 1 : "", NULL);
      if (key == NULL || value == NULL || *key == '\0' ||
          !g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
        {
          /* Not representable (bad escapes, NUL, not UTF-8): dropped. */
          g_free (key);
          g_free (value);
          continue;
        }

      field = g_new0 (FormField, 1);
      field->key = key;
      field->value = value;
      g_ptr_array_add (fields, field);
    }

  return fields;
}

/* The first value of @key among nginx's own fields (before index @limit). */
static const char *
form_get (GPtrArray  *fields,
          const char *key,
          guint       limit)
{
  for (guint i = 0; i < MIN (limit, fields->len); i++)
    {
      FormField *field = g_ptr_array_index (fields, i);

      if (g_str_equal (field->key, key))
        return field->value;
    }

  return NULL;
}

static guint
form_index (GPtrArray  *fields,
            const char *key)
{
  for (guint i = 0; i < fields->len; i++)
    {
      FormField *field = g_ptr_array_index (fields, i);

      if (g_str_equal (field->key, key))
        return i;
    }

  return G_MAXUINT;
}

/* Host, app and query of a tcUrl ("rtmp://host:port/app[/instance][?args]"); FALSE when it
 * has no host part. */
static gboolean
parse_tc_url (const char  *tc_url,
              char       **host,
              char       **app,
              char       **query)
{
  const char *p;
  const char *authority;
  const char *authority_end;
  const char *host_end;
  g_autofree char *path = NULL;
  char *q;
  gsize len;

  if (tc_url == NULL || (p = strstr (tc_url, "://")) == NULL)
    return FALSE;

  authority = p + 3;
  authority_end = authority + strcspn (authority, "/?");
  /* user:password@host */
  for (const char *at = authority; at < authority_end; at++)
    if (*at == '@')
      authority = at + 1;

  if (*authority == '[')
    {
      host_end = memchr (authority, ']', authority_end - authority);
      if (host_end == NULL)
        return FALSE;
      *host = g_strndup (authority + 1, host_end - authority - 1);
    }
  else
    {
      host_end = memchr (authority, ':', authority_end - authority);
      if (host_end == NULL)
        host_end = authority_end;
      *host = g_strndup (authority, host_end - authority);
    }

  path = g_strdup (*authority_end == '/' ? authority_end + 1 : authority_end);
  q = strchr (path, '?');
  *query = q != NULL ? g_strdup (q + 1) : NULL;
  if (q != NULL)
    *q = '\0';
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';

  *app = g_uri_unescape_string (path, NULL);
  if (*app == NULL)
    *app = g_strdup (path);

  return TRUE;
}

static void
respond (SoupServerMessage *msg,
         guint              status,
         const char        *location)
{
  soup_server_message_set_status (msg, status, NULL);
  if (location != NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Location", location);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "", 0);
}

static char *
loopback_host (LtIngestServer *self)
{
  if (self->bind_address != NULL && *self->bind_address != '\0' &&
      !g_str_equal (self->bind_address, "0.0.0.0"))
    return g_strdup (self->bind_address);

  return g_strdup ("127.0.0.1");
}

static void
handle_publish (LtIngestServer    *self,
                SoupServerMessage *msg,
                GPtrArray         *fields)
{
  g_autoptr(GHashTable) args = NULL;
  g_autoptr(LtStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *app = NULL;
  g_autofree char *tc_query = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *loopback = NULL;
  g_autofree char *lo_host = NULL;
  g_autofree char *source_uri = NULL;
  LtStreamSourceKind kind = LT_STREAM_SOURCE_PUSH;
  const char *name;
  const char *client_id;
  const char *tc_url;
  guint type_index;
  guint nginx_fields;
  Session *session;

  /* nginx's fields end with "type"; what follows are the publisher's query arguments. */
  type_index = form_index (fields, "type");
  nginx_fields = type_index == G_MAXUINT ? fields->len : type_index + 1;

  name = form_get (fields, "name", nginx_fields);
  client_id = form_get (fields, "clientid", nginx_fields);
  tc_url = form_get (fields, "tcurl", nginx_fields);

  if (client_id == NULL || *client_id == '\0' ||
      !parse_tc_url (tc_url, &host, &app, &tc_query))
    {
      g_debug ("refused publish: no client id or tcUrl (%s)", tc_url ?: "none");
      respond (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }

  if (!lt_stream_name_is_valid (name) || !lt_stream_name_is_valid (app))
    {
      g_debug ("refused publish: app or stream name not valid");
      respond (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }

  args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* Arguments on the app part of the URL (rtmp://host/app?key=v), then the stream's. */
  if (tc_query != NULL)
    {
      g_autoptr(GPtrArray) app_args = parse_form (tc_query, strlen (tc_query));

      for (guint i = 0; i < app_args->len; i++)
        {
          FormField *field = g_ptr_array_index (app_args, i);

          g_hash_table_replace (args, g_strdup (field->key), g_strdup (field->value));
        }
    }
  for (guint i = nginx_fields; i < fields->len; i++)
    {
      FormField *field = g_ptr_array_index (fields, i);

      g_hash_table_replace (args, g_strdup (field->key), g_strdup (field->value));
    }

  if (g_hash_table_contains (args, SOURCE_ARG))
    {
      if (g_str_equal (g_hash_table_lookup (args, SOURCE_ARG), self->demo_token))
        kind = LT_STREAM_SOURCE_DEMO;
      g_hash_table_remove (args, SOURCE_ARG);
    }

  domain = lt_stream_domain_from_host (host, self->default_domain);

  if (lt_stream_registry_lookup (self->registry, domain, app, name) != NULL ||
      g_hash_table_contains (self->by_client, client_id))
    {
      g_debug ("refused second publisher on %s/%s/%s (client %s)",
               domain, app, name, client_id);
      respond (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }

  session = g_new0 (Session, 1);
  session->nginx_name = g_strdup_printf ("s%" G_GUINT64_FORMAT, ++self->serial);
  session->client_id = g_strdup (client_id);
  session->online_at = g_get_monotonic_time ();

  lo_host = loopback_host (self);
  loopback = g_strdup_printf ("rtmp://%s:%u/" INTERNAL_APP "/%s",
                              lo_host, self->port, session->nginx_name);
  source_uri = g_strdup_printf ("%s/%s", tc_url, name);

  stream = lt_stream_new (kind, domain, app, name);
  lt_stream_set_client_id (stream, client_id);
  lt_stream_set_remote_address (stream, form_get (fields, "addr", nginx_fields));
  lt_stream_set_publish_args (stream, args);
  lt_stream_set_source_uri (stream, source_uri);
  lt_stream_set_loopback_uri (stream, loopback);
  session->stream = g_object_ref (stream);

  g_hash_table_insert (self->by_client, session->client_id, session);
  g_hash_table_insert (self->by_nginx_name, session->nginx_name, session);

  g_debug ("online: %s as nginx %s (client %s, %s)", lt_stream_get_key (stream),
           session->nginx_name, client_id, lt_stream_source_kind_to_string (kind));

  /* Online before nginx has even seen our answer: consumers that connect right away are
   * held by nginx until the publish is through (idle_streams is on), so they get the
   * stream from its first keyframe. */
  if (!lt_stream_registry_add (self->registry, stream, &error))
    {
      /* Cannot happen: checked above on this same thread. */
      g_debug ("registry refused %s: %s", lt_stream_get_key (stream), error->message);
      g_hash_table_remove (self->by_nginx_name, session->nginx_name);
      g_hash_table_remove (self->by_client, session->client_id);
      respond (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }

  /* The publisher continues under its internal name. */
  respond (msg, SOUP_STATUS_FOUND, session->nginx_name);
  update_stat_timer (self);
}

static void
handle_publish_done (LtIngestServer    *self,
                     SoupServerMessage *msg,
                     GPtrArray         *fields)
{
  const char *client_id = form_get (fields, "clientid", form_index (fields, "call"));
  Session *session;

  respond (msg, SOUP_STATUS_OK, NULL);

  if (client_id == NULL ||
      (session = g_hash_table_lookup (self->by_client, client_id)) == NULL)
    return;

  end_session (self, session);
}

static void
handle_play (LtIngestServer    *self,
             SoupServerMessage *msg,
             GPtrArray         *fields)
{
  guint nginx_fields = form_index (fields, "name");
  const char *name = form_get (fields, "name", G_MAXUINT);
  const char *tc_url = form_get (fields, "tcurl", nginx_fields);
  g_autofree char *host = NULL;
  g_autofree char *app = NULL;
  g_autofree char *query = NULL;
  g_autofree char *domain = NULL;
  LtStream *stream;

  if (name == NULL)
    {
      respond (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  /* A consumer that asks for a session by its internal name. */
  if (g_hash_table_contains (self->by_nginx_name, name))
    {
      respond (msg, SOUP_STATUS_OK, NULL);
      return;
    }

  /* A player that asks for the public rtmp://host/app/stream. */
  if (parse_tc_url (tc_url, &host, &app, &query))
    {
      domain = lt_stream_domain_from_host (host, self->default_domain);
      stream = lt_stream_registry_lookup (self->registry, domain, app, name);
      if (stream != NULL)
        {
          GHashTableIter iter;
          Session *session;

          g_hash_table_iter_init (&iter, self->by_client);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
            if (session->stream == stream)
              {
                respond (msg, SOUP_STATUS_FOUND, session->nginx_name);
                return;
              }
        }
    }

  respond (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
hooks_handler (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  LtIngestServer *self = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GPtrArray) fields = NULL;
  const char *call;
  gsize length;
  const char *data;

  if (!g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_POST))
    {
      respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &length);
  fields = parse_form (data != NULL ? data : "", length);
  call = form_get (fields, "call", G_MAXUINT);

  if (g_str_has_suffix (path, "/on_connect"))
    respond (msg, SOUP_STATUS_FOUND, INTERNAL_APP);
  else if (g_str_has_suffix (path, "/on_publish") && g_strcmp0 (call, "publish") == 0)
    handle_publish (self, msg, fields);
  else if (g_str_has_suffix (path, "/on_publish_done"))
    handle_publish_done (self, msg, fields);
  else if (g_str_has_suffix (path, "/on_play"))
    handle_play (self, msg, fields);
  else
    respond (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static gboolean
ensure_hooks (LtIngestServer  *self,
              GError         **error)
{
  g_autoptr(SoupServer) server = NULL;
  g_autofree char *path = NULL;
  GSList *uris;

  if (self->hooks != NULL)
    return TRUE;

  server = soup_server_new ("server-header", NULL, NULL);
  path = g_strdup_printf ("/%s", self->hooks_token);
  soup_server_add_handler (server, path, hooks_handler, self, NULL);

  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    {
      g_prefix_error (error, _("Cannot listen for nginx's notifications: "));
      return FALSE;
    }

  uris = soup_server_get_uris (server);
  self->hooks_port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  self->hooks = g_steal_pointer (&server);
  return TRUE;
}

/* ---- statistics: codecs, picture size, bitrate ---- */

typedef struct
{
  char    *name;
  guint64  bytes_in;
  char    *video_codec;
  char    *audio_codec;
  guint    width;
  guint    height;
  double   fps;
} StatStream;

static void
stat_stream_free (gpointer data)
{
  StatStream *st = data;

  g_free (st->name);
  g_free (st->video_codec);
  g_free (st->audio_codec);
  g_free (st);
}

typedef struct
{
  GPtrArray  *stack;      /* element names */
  GString    *text;
  GPtrArray  *streams;    /* StatStream of the internal application */
  StatStream *current;
  gboolean    in_app;     /* inside <application> named INTERNAL_APP */
  char       *app_name;
} StatParser;

static gboolean
stack_ends_with (GPtrArray  *stack,
                 const char *a,
                 const char *b)
{
  guint n = stack->len;

  if (b == NULL)
    return n >= 1 && g_str_equal (g_ptr_array_index (stack, n - 1), a);

  return n >= 2 &&
         g_str_equal (g_ptr_array_index (stack, n - 2), a) &&
         g_str_equal (g_ptr_array_index (stack, n - 1), b);
}

static void
stat_start_element (GMarkupParseContext  *context,
                    const char           *element,
                    const char          **attribute_names,
                    const char          **attribute_values,
                    gpointer              user_data,
                    GError              **error)
{
  StatParser *parser = user_data;

  g_ptr_array_add (parser->stack, g_strdup (element));
  g_string_truncate (parser->text, 0);

  if (g_str_equal (element, "application"))
    g_clear_pointer (&parser->app_name, g_free);
  else if (g_str_equal (element, "stream") && stack_ends_with (parser->stack, "live", "stream"))
    {
      parser->current = g_new0 (StatStream, 1);
    }
}

/* "H264" → "h264", "AAC" → "aac", "MP3"/"MP3-8K" → "mp3"; others lowercased as is. */
static char *
map_codec (const char *nginx_name)
{
  if (nginx_name == NULL || *nginx_name == '\0')
    return NULL;
  if (g_str_equal (nginx_name, "H264"))
    return g_strdup ("h264");
  if (g_str_has_prefix (nginx_name, "MP3"))
    return g_strdup ("mp3");

  return g_ascii_strdown (nginx_name, -1);
}

static void
stat_end_element (GMarkupParseContext  *context,
                  const char           *element,
                  gpointer              user_data,
                  GError              **error)
{
  StatParser *parser = user_data;
  GPtrArray *stack = parser->stack;
  const char *text = parser->text->str;
  StatStream *st = parser->current;

  if (stack_ends_with (stack, "application", "name"))
    {
      g_free (parser->app_name);
      parser->app_name = g_strstrip (g_strdup (text));
      parser->in_app = g_str_equal (parser->app_name, INTERNAL_APP);
    }
  else if (st != NULL && stack_ends_with (stack, "stream", "name"))
    st->name = g_strstrip (g_strdup (text));
  else if (st != NULL && stack_ends_with (stack, "stream", "bytes_in"))
    st->bytes_in = g_ascii_strtoull (text, NULL, 10);
  else if (st != NULL && stack_ends_with (stack, "video", "codec"))
    st->video_codec = map_codec (g_strstrip (parser->text->str));
  else if (st != NULL && stack_ends_with (stack, "audio", "codec"))
    st->audio_codec = map_codec (g_strstrip (parser->text->str));
  else if (st != NULL && stack_ends_with (stack, "video", "width"))
    st->width = (guint) g_ascii_strtoull (text, NULL, 10);
  else if (st != NULL && stack_ends_with (stack, "video", "height"))
    st->height = (guint) g_ascii_strtoull (text, NULL, 10);
  else if (st != NULL && stack_ends_with (stack, "video", "frame_rate"))
    st->fps = g_ascii_strtod (text, NULL);
  else if (st != NULL && stack_ends_with (stack, "live", "stream"))
    {
      if (parser->in_app && st->name != NULL)
        g_ptr_array_add (parser->streams, st);
      else
        stat_stream_free (st);
      parser->current = NULL;
    }
  else if (g_str_equal (element, "application"))
    parser->in_app = FALSE;

  g_ptr_array_remove_index (stack, stack->len - 1);
  g_string_truncate (parser->text, 0);
}

static void
stat_text (GMarkupParseContext  *context,
           const char           *text,
           gsize                 text_len,
           gpointer              user_data,
           GError              **error)
{
  StatParser *parser = user_data;

  g_string_append_len (parser->text, text, text_len);
}

static GPtrArray *
parse_stat (const char  *xml,
            gsize        length,
            GError     **error)
{
  static const GMarkupParser funcs = {
    stat_start_element, stat_end_element, stat_text, NULL, NULL,
  };
  g_autoptr(GMarkupParseContext) context = NULL;
  StatParser parser = { 0, };
  gboolean ok;

  parser.stack = g_ptr_array_new_with_free_func (g_free);
  parser.text = g_string_new (NULL);
  parser.streams = g_ptr_array_new_with_free_func (stat_stream_free);

  context = g_markup_parse_context_new (&funcs, G_MARKUP_IGNORE_QUALIFIED, &parser, NULL);
  ok = g_markup_parse_context_parse (context, xml, length, error) &&
       g_markup_parse_context_end_parse (context, error);

  if (parser.current != NULL)
    stat_stream_free (parser.current);
  g_ptr_array_unref (parser.stack);
  g_string_free (parser.text, TRUE);
  g_free (parser.app_name);

  if (!ok)
    {
      g_ptr_array_unref (parser.streams);
      return NULL;
    }

  return parser.streams;
}

static void
apply_stat (LtIngestServer *self,
            GPtrArray      *streams)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < streams->len; i++)
    {
      StatStream *st = g_ptr_array_index (streams, i);
      Session *session = g_hash_table_lookup (self->by_nginx_name, st->name);
      gboolean complete;

      if (session == NULL)
        continue;

      /* Both codecs, or whatever arrived once the start is well past (audio- or
       * video-only streams). */
      complete = (st->video_codec != NULL && st->audio_codec != NULL) ||
                 ((st->video_codec != NULL || st->audio_codec != NULL) &&
                  now - session->online_at > 2 * G_USEC_PER_SEC);
      if (complete)
        lt_stream_set_media_info (session->stream, st->video_codec, st->audio_codec,
                                  st->width, st->height, st->fps);

      if (!session->have_base)
        {
          session->base_bytes = st->bytes_in;
          session->base_time = now;
          session->have_base = TRUE;
        }
      else if (now - session->base_time >= BITRATE_WINDOW_US &&
               st->bytes_in >= session->base_bytes)
        {
          double seconds = (now - session->base_time) / (double) G_USEC_PER_SEC;
          double kbps = (st->bytes_in - session->base_bytes) * 8.0 / 1000.0 / seconds;

          lt_stream_set_bitrate (session->stream, (guint) (kbps + 0.5));
          session->base_bytes = st->bytes_in;
          session->base_time = now;
        }
    }
}

static void
stat_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LtIngestServer) self = weak_ref_steal (user_data);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) streams = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  gconstpointer data;
  gsize length;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->stat_pending = FALSE;

  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      if (error != NULL)
        g_debug ("statistics unavailable: %s", error->message);
      return;
    }

  data = g_bytes_get_data (body, &length);
  streams = parse_stat (data, length, &error);
  if (streams == NULL)
    {
      g_debug ("statistics unreadable: %s", error->message);
      return;
    }

  apply_stat (self, streams);
  update_stat_timer (self);
}

static gboolean
stat_poll_cb (gpointer user_data)
{
  LtIngestServer *self = user_data;
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *url = NULL;

  if (self->stat_pending || self->state != LT_INGEST_STATE_RUNNING)
    return G_SOURCE_CONTINUE;

  url = stat_url (self);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  self->stat_pending = TRUE;
  soup_session_send_and_read_async (self->http, msg, G_PRIORITY_DEFAULT,
                                    self->stat_cancellable, stat_cb, weak_ref_new (self));

  return G_SOURCE_CONTINUE;
}

/* Polls while nginx has sessions: fast until every new stream shows its codecs, then
 * every few seconds for the bitrate. */
static void
update_stat_timer (LtIngestServer *self)
{
  GHashTableIter iter;
  Session *session;
  guint interval = 0;
  gint64 now = g_get_monotonic_time ();

  if (g_hash_table_size (self->by_client) > 0)
    {
      interval = STAT_SLOW_MS;
      g_hash_table_iter_init (&iter, self->by_client);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &session))
        if (!lt_stream_get_has_media_info (session->stream) &&
            now - session->online_at < MEDIA_INFO_WAIT_US)
          interval = STAT_FAST_MS;
    }

  if (interval == self->stat_interval && (interval == 0) == (self->stat_id == 0))
    return;

  g_clear_handle_id (&self->stat_id, g_source_remove);
  self->stat_interval = interval;
  if (interval > 0)
    self->stat_id = g_timeout_add (interval, stat_poll_cb, self);
}

/* ---- GObject ---- */

static void
lt_ingest_server_dispose (GObject *object)
{
  LtIngestServer *self = LT_INGEST_SERVER (object);

  lt_ingest_server_stop (self);

  if (self->hooks != NULL)
    soup_server_disconnect (self->hooks);
  g_clear_object (&self->hooks);
  if (self->http != NULL)
    soup_session_abort (self->http);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (lt_ingest_server_parent_class)->dispose (object);
}

static void
lt_ingest_server_finalize (GObject *object)
{
  LtIngestServer *self = LT_INGEST_SERVER (object);

  g_assert (self->proc == NULL);
  g_assert (self->start_tasks == NULL);

  g_clear_object (&self->registry);
  g_clear_object (&self->stat_cancellable);
  g_clear_pointer (&self->by_nginx_name, g_hash_table_unref);
  g_clear_pointer (&self->by_client, g_hash_table_unref);
  g_free (self->runtime_dir);
  g_free (self->bind_address);
  g_free (self->default_domain);
  g_free (self->public_host);
  g_free (self->nginx_path);
  g_free (self->rtmp_module);
  g_free (self->last_error);
  g_free (self->hooks_token);
  g_free (self->demo_token);

  G_OBJECT_CLASS (lt_ingest_server_parent_class)->finalize (object);
}

static void
lt_ingest_server_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LtIngestServer *self = LT_INGEST_SERVER (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;
    case PROP_RUNTIME_DIR:
      g_value_set_string (value, self->runtime_dir);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_DEFAULT_DOMAIN:
      g_value_set_string (value, self->default_domain);
      break;
    case PROP_PUBLIC_HOST:
      g_value_set_string (value, self->public_host);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_RESTART_COUNT:
      g_value_set_uint (value, self->restart_count);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_ingest_server_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LtIngestServer *self = LT_INGEST_SERVER (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      self->registry = g_value_dup_object (value);
      break;
    case PROP_RUNTIME_DIR:
      self->runtime_dir = g_value_dup_string (value);
      break;
    case PROP_PORT:
      lt_ingest_server_set_port (self, g_value_get_uint (value));
      break;
    case PROP_BIND_ADDRESS:
      lt_ingest_server_set_bind_address (self, g_value_get_string (value));
      break;
    case PROP_DEFAULT_DOMAIN:
      lt_ingest_server_set_default_domain (self, g_value_get_string (value));
      break;
    case PROP_PUBLIC_HOST:
      lt_ingest_server_set_public_host (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_ingest_server_class_init (LtIngestServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = lt_ingest_server_dispose;
  object_class->finalize = lt_ingest_server_finalize;
  object_class->get_property = lt_ingest_server_get_property;
  object_class->set_property = lt_ingest_server_set_property;

  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL, LT_TYPE_STREAM_REGISTRY, co);
  properties[PROP_RUNTIME_DIR] = g_param_spec_string ("runtime-dir", NULL, NULL, NULL, co);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 1, 65535, LT_INGEST_DEFAULT_PORT, rw);
  properties[PROP_BIND_ADDRESS] = g_param_spec_string ("bind-address", NULL, NULL, NULL, rw);
  properties[PROP_DEFAULT_DOMAIN] =
    g_param_spec_string ("default-domain", NULL, NULL, LT_DEFAULT_DOMAIN, rw);
  properties[PROP_PUBLIC_HOST] = g_param_spec_string ("public-host", NULL, NULL, NULL, rw);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LT_TYPE_INGEST_STATE,
                       LT_INGEST_STATE_STOPPED, ro);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, ro);
  properties[PROP_RESTART_COUNT] =
    g_param_spec_uint ("restart-count", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_ingest_server_init (LtIngestServer *self)
{
  self->port = LT_INGEST_DEFAULT_PORT;
  self->default_domain = g_strdup (LT_DEFAULT_DOMAIN);
  self->rtmp_module = g_strdup (LT_INGEST_DEFAULT_RTMP_MODULE);
  self->backoff_ms = BACKOFF_MIN_MS;
  self->hooks_token = g_uuid_string_random ();
  self->demo_token = g_uuid_string_random ();
  self->by_client = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
  self->by_nginx_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->stat_cancellable = g_cancellable_new ();
  /* Loopback only: never through a proxy (http_proxy in the environment, or GNOME's). */
  self->http = soup_session_new_with_options ("timeout", 5,
                                              "idle-timeout", 30,
                                              "proxy-resolver", NULL,
                                              NULL);
}

LtIngestServer *
lt_ingest_server_new (LtStreamRegistry *registry,
                      const char       *runtime_dir)
{
  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (registry), NULL);
  g_return_val_if_fail (runtime_dir != NULL, NULL);

  return g_object_new (LT_TYPE_INGEST_SERVER,
                       "registry", registry,
                       "runtime-dir", runtime_dir,
                       NULL);
}

LtStreamRegistry *
lt_ingest_server_get_registry (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->registry;
}

const char *
lt_ingest_server_get_runtime_dir (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->runtime_dir;
}

guint
lt_ingest_server_get_port (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), 0);
  return self->port;
}

void
lt_ingest_server_set_port (LtIngestServer *self,
                           guint           port)
{
  g_return_if_fail (LT_IS_INGEST_SERVER (self));
  g_return_if_fail (port > 0 && port <= 65535);

  if (self->port == port)
    return;

  self->port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);

  /* A running or starting nginx listens on the old port: start over on the new one. */
  if (self->proc != NULL)
    {
      NginxProc *proc = g_steal_pointer (&self->proc);

      g_cancellable_cancel (proc->cancellable);
      terminate_process (proc->subprocess, STOP_TIMEOUT_MS);
      nginx_proc_unref (proc);
      g_clear_handle_id (&self->ready_id, g_source_remove);
      end_all_sessions (self);
      self->running_since = 0;
      self->backoff_ms = BACKOFF_MIN_MS;
      spawn_nginx (self);
    }
}

const char *
lt_ingest_server_get_bind_address (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->bind_address;
}

void
lt_ingest_server_set_bind_address (LtIngestServer *self,
                                   const char     *address)
{
  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  if (address != NULL && *address == '\0')
    address = NULL;
  if (g_strcmp0 (self->bind_address, address) == 0)
    return;

  g_free (self->bind_address);
  self->bind_address = g_strdup (address);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BIND_ADDRESS]);
}

const char *
lt_ingest_server_get_default_domain (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->default_domain;
}

void
lt_ingest_server_set_default_domain (LtIngestServer *self,
                                     const char     *domain)
{
  g_autofree char *lower = NULL;

  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  if (domain == NULL || *domain == '\0')
    domain = LT_DEFAULT_DOMAIN;
  lower = g_utf8_strdown (domain, -1);
  if (g_strcmp0 (self->default_domain, lower) == 0)
    return;

  g_free (self->default_domain);
  self->default_domain = g_steal_pointer (&lower);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_DOMAIN]);
}

const char *
lt_ingest_server_get_public_host (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->public_host;
}

void
lt_ingest_server_set_public_host (LtIngestServer *self,
                                  const char     *host)
{
  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  if (host != NULL && *host == '\0')
    host = NULL;
  if (g_strcmp0 (self->public_host, host) == 0)
    return;

  g_free (self->public_host);
  self->public_host = g_strdup (host);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PUBLIC_HOST]);
}

void
lt_ingest_server_set_nginx_path (LtIngestServer *self,
                                 const char     *path)
{
  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  g_free (self->nginx_path);
  self->nginx_path = g_strdup (path);
}

void
lt_ingest_server_set_rtmp_module (LtIngestServer *self,
                                  const char     *path)
{
  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  g_free (self->rtmp_module);
  self->rtmp_module = g_strdup (path != NULL ? path : LT_INGEST_DEFAULT_RTMP_MODULE);
}

LtIngestState
lt_ingest_server_get_state (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), LT_INGEST_STATE_STOPPED);
  return self->state;
}

const char *
lt_ingest_server_get_last_error (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  return self->last_error;
}

GPid
lt_ingest_server_get_nginx_pid (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), 0);

  if (self->proc == NULL || self->proc->pid == NULL || self->proc->exited)
    return 0;

  return (GPid) g_ascii_strtoll (self->proc->pid, NULL, 10);
}

guint
lt_ingest_server_get_restart_count (LtIngestServer *self)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), 0);
  return self->restart_count;
}

void
lt_ingest_server_start_async (LtIngestServer      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_INGEST_SERVER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_ingest_server_start_async);

  if (self->state == LT_INGEST_STATE_RUNNING)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  self->start_tasks = g_list_prepend (self->start_tasks, g_steal_pointer (&task));

  /* Stopped, or failed and waiting for a retry: start now. Starting: just wait. */
  if (self->proc == NULL)
    {
      self->backoff_ms = BACKOFF_MIN_MS;
      spawn_nginx (self);
    }
}

gboolean
lt_ingest_server_start_finish (LtIngestServer  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_ingest_server_start_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lt_ingest_server_stop (LtIngestServer *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (LT_IS_INGEST_SERVER (self));

  g_clear_handle_id (&self->restart_id, g_source_remove);
  g_clear_handle_id (&self->ready_id, g_source_remove);
  g_clear_handle_id (&self->stat_id, g_source_remove);
  self->stat_interval = 0;

  /* Requests in flight complete later as cancelled and are ignored. */
  g_cancellable_cancel (self->stat_cancellable);
  g_clear_object (&self->stat_cancellable);
  self->stat_cancellable = g_cancellable_new ();
  self->stat_pending = FALSE;
  self->ready_probe_pending = FALSE;

  if (self->proc != NULL)
    {
      NginxProc *proc = g_steal_pointer (&self->proc);

      g_debug ("stopping nginx %s", proc->pid);
      g_cancellable_cancel (proc->cancellable);
      terminate_process (proc->subprocess, STOP_TIMEOUT_MS);
      nginx_proc_unref (proc);
    }

  end_all_sessions (self);
  self->running_since = 0;
  self->backoff_ms = BACKOFF_MIN_MS;

  error = g_error_new_literal (LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_STOPPED,
                               _("The ingest server was stopped"));
  complete_start_tasks (self, error);
  set_state (self, LT_INGEST_STATE_STOPPED, NULL);
}

/* This machine's address as others would reach it: the source address of the default
 * route (a UDP "connect" sends nothing). */
static char *
guess_public_host (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) target = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  GInetAddress *inet;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  if (socket == NULL)
    return NULL;

  target = g_inet_address_new_from_string ("192.0.2.1");   /* TEST-NET-1 */
  address = g_inet_socket_address_new (target, 9);
  if (!g_socket_connect (socket, address, NULL, NULL))
    return NULL;

  local = g_socket_get_local_address (socket, NULL);
  if (local == NULL)
    return NULL;

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
  if (g_inet_address_get_is_any (inet) || g_inet_address_get_is_loopback (inet))
    return NULL;

  return g_inet_address_to_string (inet);
}

static char *
format_url (const char *host,
            guint       port,
            const char *app,
            const char *stream)
{
  if (port == LT_INGEST_DEFAULT_PORT)
    return g_strdup_printf ("rtmp://%s/%s/%s", host, app, stream);

  return g_strdup_printf ("rtmp://%s:%u/%s/%s", host, port, app, stream);
}

char *
lt_ingest_server_dup_publish_url (LtIngestServer *self,
                                  const char     *app,
                                  const char     *stream)
{
  g_autofree char *guessed = NULL;
  const char *host;

  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  g_return_val_if_fail (app != NULL && stream != NULL, NULL);

  host = self->public_host;
  if (host == NULL && self->bind_address != NULL && !g_str_equal (self->bind_address, "0.0.0.0"))
    host = self->bind_address;
  if (host == NULL)
    host = guessed = guess_public_host ();
  if (host == NULL)
    host = "127.0.0.1";

  return format_url (host, self->port, app, stream);
}

char *
lt_ingest_server_dup_local_publish_url (LtIngestServer     *self,
                                        LtStreamSourceKind  kind,
                                        const char         *app,
                                        const char         *stream)
{
  g_autofree char *host = NULL;
  g_autofree char *url = NULL;

  g_return_val_if_fail (LT_IS_INGEST_SERVER (self), NULL);
  g_return_val_if_fail (app != NULL && stream != NULL, NULL);

  host = loopback_host (self);
  url = g_strdup_printf ("rtmp://%s:%u/%s/%s", host, self->port, app, stream);
  if (kind == LT_STREAM_SOURCE_DEMO)
    return g_strdup_printf ("%s?" SOURCE_ARG "=%s", url, self->demo_token);

  return g_steal_pointer (&url);
}

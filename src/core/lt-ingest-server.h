/* lt-ingest-server.h: the RTMP push ingest (SPEC section 1) — nginx with the RTMP module
 * as our own child process, configured in a runtime directory we own, reporting
 * publish / unpublish to a loopback HTTP server of ours.
 *
 * How any app name is accepted: nginx-rtmp matches `application` blocks by exact name, so
 * the generated configuration has a single application ("livetape") and a server-level
 * on_connect that redirects every connection into it (HTTP 302, Location = app). The app
 * the publisher asked for is read back from the tcUrl, the domain from its host. on_publish
 * then redirects the publisher to a unique internal stream name per session ("s<N>"), so
 * that streams with the same name in different domains or apps never meet inside nginx,
 * and a second publisher on a live identity gets 403. Consumers pull a session by its
 * internal name (lt_stream_get_loopback_uri()); players that ask for the public
 * rtmp://host/app/stream are redirected to it by on_play.
 *
 * nginx runs single-process (master_process off): the one process is our child, dies with
 * us (PR_SET_PDEATHSIG) and leaves no orphaned worker holding the port when it is killed.
 * It is restarted with backoff (1 s doubling to 30 s) when it dies. Codecs, picture size
 * and bitrate come from nginx-rtmp's statistics page (an http block on loopback), polled
 * while streams are online.
 *
 * Main context only.
 */
#pragma once

#include <gio/gio.h>

#include "lt-enum-types.h"
#include "lt-stream-registry.h"

G_BEGIN_DECLS

#define LT_INGEST_DEFAULT_PORT        1935
#define LT_INGEST_DEFAULT_RTMP_MODULE "/usr/lib/nginx/modules/ngx_rtmp_module.so"

#define LT_INGEST_SERVER_ERROR (lt_ingest_server_error_quark ())

typedef enum /*< skip >*/
{
  LT_INGEST_SERVER_ERROR_FAILED,
  LT_INGEST_SERVER_ERROR_PORT_IN_USE,
  LT_INGEST_SERVER_ERROR_NOT_INSTALLED,  /* nginx or its RTMP module is missing */
  LT_INGEST_SERVER_ERROR_STOPPED,        /* stopped before it was running */
} LtIngestServerError;

GQuark lt_ingest_server_error_quark (void);

typedef enum
{
  LT_INGEST_STATE_STOPPED,
  LT_INGEST_STATE_STARTING,
  LT_INGEST_STATE_RUNNING,
  LT_INGEST_STATE_FAILED,   /* see last-error; a restart is scheduled */
} LtIngestState;

#define LT_TYPE_INGEST_SERVER (lt_ingest_server_get_type ())
G_DECLARE_FINAL_TYPE (LtIngestServer, lt_ingest_server, LT, INGEST_SERVER, GObject)

/* @runtime_dir: a directory owned by the server (created if needed), e.g.
 * <data-dir>/ingest: nginx.conf, logs/, temp/ and the pid file live there. */
LtIngestServer *lt_ingest_server_new            (LtStreamRegistry *registry,
                                                 const char       *runtime_dir);

LtStreamRegistry *lt_ingest_server_get_registry (LtIngestServer   *self);
const char     *lt_ingest_server_get_runtime_dir (LtIngestServer  *self);

/* The RTMP port (default 1935). Changing it while running restarts nginx. */
guint           lt_ingest_server_get_port       (LtIngestServer   *self);
void            lt_ingest_server_set_port       (LtIngestServer   *self,
                                                 guint             port);
/* The address nginx listens on; NULL (default) for all IPv4 interfaces. Applies at the
 * next start. */
const char     *lt_ingest_server_get_bind_address (LtIngestServer *self);
void            lt_ingest_server_set_bind_address (LtIngestServer *self,
                                                   const char     *address);
/* Domain given to streams published to an IP address or localhost (LT_DEFAULT_DOMAIN). */
const char     *lt_ingest_server_get_default_domain (LtIngestServer *self);
void            lt_ingest_server_set_default_domain (LtIngestServer *self,
                                                     const char     *domain);
/* The host shown in publish URLs; NULL (default) picks this machine's primary address. */
const char     *lt_ingest_server_get_public_host (LtIngestServer  *self);
void            lt_ingest_server_set_public_host (LtIngestServer  *self,
                                                  const char      *host);
/* The nginx executable (default: "nginx" on PATH, then /usr/sbin/nginx) and the RTMP
 * module (default LT_INGEST_DEFAULT_RTMP_MODULE). Apply at the next start. */
void            lt_ingest_server_set_nginx_path (LtIngestServer   *self,
                                                 const char       *path);
void            lt_ingest_server_set_rtmp_module (LtIngestServer  *self,
                                                  const char      *path);

LtIngestState   lt_ingest_server_get_state      (LtIngestServer   *self);
/* Why the server failed (translated, for display), or NULL. */
const char     *lt_ingest_server_get_last_error (LtIngestServer   *self);
/* The nginx process id while one runs, else 0 (diagnostics and tests). */
GPid            lt_ingest_server_get_nginx_pid  (LtIngestServer   *self);
/* How many times nginx was restarted after dying. */
guint           lt_ingest_server_get_restart_count (LtIngestServer *self);

/* Writes the configuration, starts nginx and completes once it accepts connections (or
 * fails: port in use, nginx missing, …; the server then retries with backoff in the
 * background and the state stays FAILED until a retry succeeds). Starting a running
 * server completes at once. */
void            lt_ingest_server_start_async    (LtIngestServer   *self,
                                                 GCancellable     *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer          user_data);
gboolean        lt_ingest_server_start_finish   (LtIngestServer   *self,
                                                 GAsyncResult     *result,
                                                 GError          **error);
/* Stops nginx (SIGTERM, SIGKILL after 3 s; blocks until it is gone), takes its streams
 * offline and cancels pending restarts. Idempotent; also done on dispose. */
void            lt_ingest_server_stop           (LtIngestServer   *self);

/* "rtmp://HOST:PORT/APP/STREAM" for users to publish to (HOST: the public host). */
char           *lt_ingest_server_dup_publish_url (LtIngestServer  *self,
                                                  const char      *app,
                                                  const char      *stream);
/* The same on 127.0.0.1, for local publishers. For LT_STREAM_SOURCE_DEMO (the demo
 * source) the URL carries a private argument that makes the stream a demo stream;
 * LT_STREAM_SOURCE_PUSH gives a plain URL. */
char           *lt_ingest_server_dup_local_publish_url (LtIngestServer     *self,
                                                        LtStreamSourceKind  kind,
                                                        const char         *app,
                                                        const char         *stream);

G_END_DECLS

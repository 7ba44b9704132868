/* lt-test-publisher.h: external publishers and media for the integration tests — ffmpeg
 * (or any command) as a child process that dies with the test, free ports, and short media
 * files made with ffmpeg. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _LtTestPublisher LtTestPublisher;

/* Spawns @argv (argv[0] looked up on PATH). The child gets SIGKILL when the test process
 * dies (also on a failed assertion) and is killed and reaped at the end of the current
 * test (g_test_queue_destroy); the returned pointer stays valid until then. */
LtTestPublisher *lt_test_publisher_spawn       (const char * const *argv);
/* ffmpeg publishing a 640x360@30 test pattern with a sine tone, H.264 (GOP 30) + AAC in
 * FLV, in real time, to @url; @extra_args (NULL-terminated, may be NULL) go before the
 * output (e.g. "-rtmp_tcurl", "rtmp://host/app"). */
LtTestPublisher *lt_test_publisher_spawn_ffmpeg (const char         *url,
                                                 const char * const *extra_args);
GPid             lt_test_publisher_get_pid     (LtTestPublisher    *self);
gboolean         lt_test_publisher_has_exited  (LtTestPublisher    *self);
/* Iterates the thread-default main context until the process exits or @timeout_ms
 * passes; returns whether it exited. */
gboolean         lt_test_publisher_wait_exit   (LtTestPublisher    *self,
                                                guint               timeout_ms);
/* The wait status when it exited normally, -1 otherwise. */
int              lt_test_publisher_get_exit_status (LtTestPublisher *self);
/* SIGKILL and reap (no-op once exited). */
void             lt_test_publisher_kill        (LtTestPublisher    *self);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint            lt_test_pick_free_port        (void);

/* Makes a @seconds long test file @path with ffmpeg (320x240@30, GOP 30, a sine tone):
 * @video_codec an ffmpeg encoder ("libx264", "libx265", "mpeg4"), audio AAC. */
void             lt_test_make_media_file       (const char         *path,
                                                guint               seconds,
                                                const char         *video_codec);

/* Whether /proc/@pid exists and is not a zombie. */
gboolean         lt_test_process_alive         (GPid                pid);

G_END_DECLS

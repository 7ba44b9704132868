/* lt-test-s3.h: the S3 servers the S3 tests run against on loopback — s3rver (npm,
 * tests/package.json) and our strict, fault-injecting server (tests/integration/s3strict.py,
 * driven through its __control endpoint) — and LtS3Client instances pointed at them.
 * Shared by test-s3-client and test-sync-engine. */
#pragma once

#include <gio/gio.h>

#include "lt-s3-client.h"

G_BEGIN_DECLS

typedef struct
{
  /* Set by the test before lt_test_s3_server_start(). */
  const char  *name;
  gboolean     strict;            /* s3strict.py rather than s3rver */
  const char  *bucket;            /* created by the server at start */

  /* Filled in by lt_test_s3_server_start(), cleared by lt_test_s3_server_stop(). */
  GSubprocess *process;
  char        *endpoint;
  char        *access_key_id;
  char        *secret;
  char        *data_dir;
  char        *stderr_path;       /* strict: the server's own output */
} LtTestS3Server;

/* Starts @server (s3strict.py or s3rver, by @server->strict) on a free loopback port; the
 * test fails when it cannot. The strict server gets a fresh random key pair. */
void        lt_test_s3_server_start (LtTestS3Server *server);
/* Stops @server, checks that the strict server never wrote its secret, removes its data
 * and clears every field lt_test_s3_server_start() filled in. */
void        lt_test_s3_server_stop  (LtTestS3Server *server);

/* Sends @json (GET when NULL) to the strict server's __control/@name endpoint and returns
 * the reply body; anything but 200 fails the test. */
char       *lt_test_s3_control      (LtTestS3Server *server,
                                     const char     *name,
                                     const char     *json);
/* One counter from the strict server's __control/stats. */
gint64      lt_test_s3_stat         (LtTestS3Server *server,
                                     const char     *name);

/* A path-style client of @server for @bucket (NULL: the server's bucket) signing with
 * @secret (NULL: the server's). */
LtS3Client *lt_test_s3_make_client  (LtTestS3Server *server,
                                     const char     *bucket,
                                     const char     *secret,
                                     guint           max_connections,
                                     guint           timeout_s);

G_END_DECLS

/* lt-catalog-schema.c: the catalog's schema as numbered migrations.
 *
 * Migration N (1-based) turns a database of user_version N-1 into version N; each runs in
 * its own transaction together with the user_version bump, so a crash leaves either the old
 * or the new version, never half of one. Never edit a migration that has shipped: add one.
 * (A migration that rebuilds a table must run with foreign_keys off; the worker turns them
 * on at open, outside any transaction, so such a migration has to say so and the opener
 * must learn to switch them off around it.)
 *
 * Units: a column ending in `_us` is microseconds (instants since the Unix epoch, UTC, as
 * g_get_real_time(); or durations). Other time columns are Unix seconds, UTC.
 * Booleans are INTEGER 0/1. JSON columns are TEXT checked with json_valid().
 * Every foreign key's child column leads an index (test-catalog checks it), so deleting a
 * parent never scans a child table of millions of rows.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-catalog-private.h"

static const char * const migrations[] = {
  /* 1: the foundation schema. */
  /* ---- configuration: times in Unix seconds ---- */

  /* Recording rules (SPEC 2). params is lt_rule_to_json(); the triplet columns repeat it for
   * uniqueness and ordering. The domain compares case-insensitively (host names), app and
   * stream exactly (nginx-rtmp names are case-sensitive). StreamName absent is stored "*".
   * next_sequence is the rule's {Sequence} counter; updating the rule keeps it. */
  "CREATE TABLE rules ("
  "  id            INTEGER PRIMARY KEY,"
  "  domain        TEXT NOT NULL COLLATE NOCASE,"
  "  app           TEXT NOT NULL,"
  "  stream        TEXT NOT NULL,"
  "  create_time   INTEGER NOT NULL,"
  "  update_time   INTEGER NOT NULL,"
  "  next_sequence INTEGER NOT NULL DEFAULT 1,"
  "  params        TEXT NOT NULL CHECK (json_valid (params)),"
  "  UNIQUE (domain, app, stream)"
  ") STRICT;"

  /* Callback settings per domain (SPEC 4). Signing keys live in the keyring. */
  "CREATE TABLE notify_configs ("
  "  domain             TEXT PRIMARY KEY COLLATE NOCASE,"
  "  notify_url         TEXT,"
  "  need_status_notify INTEGER NOT NULL DEFAULT 0 CHECK (need_status_notify IN (0, 1)),"
  "  on_demand_url      TEXT,"
  "  create_time        INTEGER NOT NULL,"
  "  update_time        INTEGER NOT NULL"
  ") STRICT;"

  /* Control API keys (SPEC 6): ids only, the secret is in the keyring. */
  "CREATE TABLE api_keys ("
  "  access_key_id TEXT PRIMARY KEY,"
  "  description   TEXT NOT NULL DEFAULT '',"
  "  create_time   INTEGER NOT NULL,"
  "  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))"
  ") STRICT;"

  /* SignatureNonce values seen inside the timestamp window, so that a replay is refused
   * across a restart too; rows past expire_time can be dropped. */
  "CREATE TABLE api_nonces ("
  "  nonce       TEXT PRIMARY KEY,"
  "  expire_time INTEGER NOT NULL"
  ") WITHOUT ROWID, STRICT;"
  "CREATE INDEX api_nonces_expire ON api_nonces (expire_time);"

  /* Storage targets (SPEC 7). Never a secret here: the secret key is in the keyring.
   * local_root NULL for a local target means the default root (decided at run time). */
  "CREATE TABLE storage_targets ("
  "  name          TEXT PRIMARY KEY,"
  "  kind          TEXT NOT NULL CHECK (kind IN ('local', 's3')),"
  "  endpoint      TEXT,"
  "  region        TEXT,"
  "  bucket        TEXT,"
  "  path_style    INTEGER NOT NULL DEFAULT 0 CHECK (path_style IN (0, 1)),"
  "  use_tls       INTEGER NOT NULL DEFAULT 1 CHECK (use_tls IN (0, 1)),"
  "  access_key_id TEXT,"
  "  local_root    TEXT,"
  "  paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),"
  "  create_time   INTEGER NOT NULL,"
  "  update_time   INTEGER NOT NULL,"
  "  CHECK (kind <> 's3' OR endpoint IS NOT NULL)"
  ") STRICT;"

  /* Every stream ever seen (SPEC 1). first_seen/last_seen in Unix seconds. */
  "CREATE TABLE streams ("
  "  id         INTEGER PRIMARY KEY,"
  "  domain     TEXT NOT NULL COLLATE NOCASE,"
  "  app        TEXT NOT NULL,"
  "  stream     TEXT NOT NULL,"
  "  first_seen INTEGER NOT NULL,"
  "  last_seen  INTEGER NOT NULL,"
  "  UNIQUE (domain, app, stream)"
  ") STRICT;"

  /* Pull and demo sources the operator configured (SPEC 1); one per identity. options is
   * source-specific JSON (latency, reconnect settings, …). */
  "CREATE TABLE ingest_sources ("
  "  id          INTEGER PRIMARY KEY,"
  "  kind        TEXT NOT NULL CHECK (kind IN ('pull', 'demo')),"
  "  uri         TEXT,"
  "  domain      TEXT NOT NULL COLLATE NOCASE,"
  "  app         TEXT NOT NULL,"
  "  stream      TEXT NOT NULL,"
  "  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
  "  options     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid (options)),"
  "  create_time INTEGER NOT NULL,"
  "  update_time INTEGER NOT NULL,"
  "  CHECK (kind <> 'pull' OR uri IS NOT NULL),"
  "  UNIQUE (domain, app, stream)"
  ") STRICT;"

  /* ---- recording: times in microseconds ---- */

  /* One recording session (SPEC 3): from the decision to record until its files are closed
   * after the merge window. rule_json is the rule as it was when the session started (rule
   * changes apply from the next publish). push_args: the publish query parameters. */
  "CREATE TABLE sessions ("
  "  id            INTEGER PRIMARY KEY,"
  "  stream_id     INTEGER NOT NULL REFERENCES streams (id),"
  "  rule_json     TEXT NOT NULL CHECK (json_valid (rule_json)),"
  "  trigger_kind  TEXT NOT NULL"
  "                CHECK (trigger_kind IN ('auto', 'ondemand', 'push_arg', 'manual', 'scheduled')),"
  "  push_args     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid (push_args)),"
  "  state         TEXT NOT NULL DEFAULT 'recording'"
  "                CHECK (state IN ('recording', 'paused', 'ended', 'failed')),"
  "  started_at_us INTEGER NOT NULL,"
  "  paused_at_us  INTEGER,"
  "  ended_at_us   INTEGER,"
  "  end_reason    TEXT"
  ") STRICT;"
  "CREATE INDEX sessions_stream_started ON sessions (stream_id, started_at_us);"
  /* Recovery after a crash looks for the sessions that were not ended. */
  "CREATE INDEX sessions_unfinished ON sessions (state)"
  "  WHERE state IN ('recording', 'paused');"

  /* Each pause of a session (offline inside the merge window, manual stop, disk full, …), so
   * the timeline can say why a gap happened (SPEC 5); resumed_at_us NULL while paused. */
  "CREATE TABLE session_pauses ("
  "  id             INTEGER PRIMARY KEY,"
  "  session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
  "  stream_id      INTEGER NOT NULL REFERENCES streams (id),"
  "  paused_at_us   INTEGER NOT NULL,"
  "  resumed_at_us  INTEGER,"
  "  reason         TEXT NOT NULL"
  ") STRICT;"
  "CREATE INDEX session_pauses_stream_time ON session_pauses (stream_id, paused_at_us);"
  "CREATE INDEX session_pauses_session ON session_pauses (session_id);"

  /* A recording file per format and cycle: an m3u8/cmaf playlist over its slices, or an MP4
   * or FLV file. target/bucket/object_key: where it is stored (the target's name as in
   * storage_targets, or 'local'); local_path: the spool copy, NULL once removed. */
  "CREATE TABLE recording_files ("
  "  id            INTEGER PRIMARY KEY,"
  "  session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
  "  stream_id     INTEGER NOT NULL REFERENCES streams (id),"
  "  format        TEXT NOT NULL CHECK (format IN ('m3u8', 'mp4', 'flv', 'cmaf')),"
  "  sequence      INTEGER NOT NULL,"
  "  target        TEXT NOT NULL,"
  "  bucket        TEXT NOT NULL,"
  "  object_key    TEXT NOT NULL,"
  "  local_path    TEXT,"
  "  start_time_us INTEGER NOT NULL,"
  "  end_time_us   INTEGER,"
  "  duration_us   INTEGER NOT NULL DEFAULT 0 CHECK (duration_us >= 0),"
  "  size          INTEGER NOT NULL DEFAULT 0,"
  "  state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'uploaded')),"
  "  width         INTEGER,"
  "  height        INTEGER,"
  "  video_codec   TEXT,"
  "  audio_codec   TEXT"
  ") STRICT;"
  "CREATE INDEX recording_files_session ON recording_files (session_id, format, sequence);"
  /* Per-stream time ranges and per-domain daily totals (DescribeLiveDomainRecordData). */
  "CREATE INDEX recording_files_stream_time ON recording_files (stream_id, start_time_us);"
  "CREATE INDEX recording_files_open ON recording_files (state) WHERE state = 'open';"

  /* TS slices: the hot table (millions of rows). stream_id is denormalised from the session
   * for per-stream time-range queries; recording_file_id is the playlist naming the slice.
   * start_time_us is the wall-clock UTC start, discontinuity_seq the playlist's
   * discontinuity sequence, keyframe whether the slice starts on one. target/bucket say
   * where it is stored; local_path is the spool copy (NULL once removed).
   * state: open (being written; recovery finishes it), closed, uploaded, lost (found
   * missing or damaged by recovery). */
  "CREATE TABLE slices ("
  "  id                INTEGER PRIMARY KEY,"
  "  session_id        INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
  "  stream_id         INTEGER NOT NULL REFERENCES streams (id),"
  "  recording_file_id INTEGER REFERENCES recording_files (id) ON DELETE SET NULL,"
  "  sequence          INTEGER NOT NULL,"
  "  start_time_us     INTEGER NOT NULL,"
  "  duration_us       INTEGER NOT NULL CHECK (duration_us >= 0),"
  "  size              INTEGER NOT NULL DEFAULT 0,"
  "  target            TEXT,"
  "  bucket            TEXT,"
  "  object_key        TEXT,"
  "  local_path        TEXT,"
  "  discontinuity_seq INTEGER NOT NULL DEFAULT 0,"
  "  width             INTEGER,"
  "  height            INTEGER,"
  "  video_codec       TEXT,"
  "  audio_codec       TEXT,"
  "  keyframe          INTEGER NOT NULL DEFAULT 1 CHECK (keyframe IN (0, 1)),"
  "  state             TEXT NOT NULL DEFAULT 'closed'"
  "                    CHECK (state IN ('open', 'closed', 'uploaded', 'lost'))"
  ") STRICT;"
  /* duration_us in the key lets coverage queries (DescribeLiveStreamRecordContent, the
   * timeline) run on the index alone. */
  "CREATE INDEX slices_stream_time ON slices (stream_id, start_time_us, duration_us);"
  /* A playlist's slices in order; unique so recovery cannot catalogue a slice twice. */
  "CREATE UNIQUE INDEX slices_file_sequence ON slices (recording_file_id, sequence);"
  "CREATE INDEX slices_session ON slices (session_id, start_time_us);"

  /* Index files made by CreateLiveStreamRecordIndexFiles (SPEC 5). record_id is the UUID
   * RecordId; the covered range in microseconds, create_time in Unix seconds. */
  "CREATE TABLE index_files ("
  "  record_id         TEXT PRIMARY KEY,"
  "  stream_id         INTEGER NOT NULL REFERENCES streams (id),"
  "  start_time_us     INTEGER NOT NULL,"
  "  end_time_us       INTEGER NOT NULL,"
  "  duration_us       INTEGER NOT NULL CHECK (duration_us >= 0),"
  "  end_time_included INTEGER NOT NULL DEFAULT 0 CHECK (end_time_included IN (0, 1)),"
  "  width             INTEGER,"
  "  height            INTEGER,"
  "  create_time       INTEGER NOT NULL,"
  "  target            TEXT NOT NULL,"
  "  bucket            TEXT NOT NULL,"
  "  object_key        TEXT NOT NULL,"
  "  local_path        TEXT,"
  "  url               TEXT NOT NULL"
  ") STRICT;"
  "CREATE INDEX index_files_stream_create ON index_files (stream_id, create_time);"

  /* ---- outboxes: times in microseconds ---- */

  /* The persistent upload queue (SPEC 7). depends_on: an upload that must be done first
   * (slices before the playlist naming them). upload_id: the multipart upload in progress,
   * its stored parts in upload_parts. state: pending, uploading (in flight; back to pending
   * at start-up), done (verified), failed (stopped, with last_error; retry sets pending). */
  "CREATE TABLE upload_outbox ("
  "  id                 INTEGER PRIMARY KEY,"
  "  target             TEXT NOT NULL,"
  "  bucket             TEXT NOT NULL,"
  "  object_key         TEXT NOT NULL,"
  "  local_path         TEXT NOT NULL,"
  "  kind               TEXT NOT NULL CHECK (kind IN ('slice', 'playlist', 'file', 'index')),"
  "  depends_on         INTEGER REFERENCES upload_outbox (id) ON DELETE SET NULL,"
  "  state              TEXT NOT NULL DEFAULT 'pending'"
  "                     CHECK (state IN ('pending', 'uploading', 'done', 'failed')),"
  "  attempts           INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt_at_us INTEGER NOT NULL DEFAULT 0,"
  "  last_error         TEXT,"
  "  size               INTEGER NOT NULL DEFAULT 0,"
  "  bytes_sent         INTEGER NOT NULL DEFAULT 0,"
  "  content_md5        TEXT,"
  "  upload_id          TEXT,"
  "  etag               TEXT,"
  "  created_at_us      INTEGER NOT NULL,"
  "  done_at_us         INTEGER"
  ") STRICT;"
  "CREATE INDEX upload_outbox_due ON upload_outbox (state, next_attempt_at_us);"
  "CREATE INDEX upload_outbox_depends ON upload_outbox (depends_on);"

  /* Parts of a multipart upload already stored, for resuming after a restart. */
  "CREATE TABLE upload_parts ("
  "  outbox_id   INTEGER NOT NULL REFERENCES upload_outbox (id) ON DELETE CASCADE,"
  "  part_number INTEGER NOT NULL CHECK (part_number BETWEEN 1 AND 10000),"
  "  etag        TEXT NOT NULL,"
  "  size        INTEGER NOT NULL,"
  "  PRIMARY KEY (outbox_id, part_number)"
  ") WITHOUT ROWID, STRICT;"

  /* The persistent callback queue (SPEC 4), delivered in id order per stream_key
   * ("domain/app/stream"). headers: extra request headers as a JSON object; the signature
   * is made just before each attempt. state: pending, sending (in flight; back to pending
   * at start-up), delivered, failed (refused for good, e.g. a forbidden address), expired
   * (gave up at expires_at_us). Failed and expired rows stay visible and can be re-sent. */
  "CREATE TABLE callback_outbox ("
  "  id                 INTEGER PRIMARY KEY,"
  "  domain             TEXT NOT NULL COLLATE NOCASE,"
  "  stream_key         TEXT NOT NULL,"
  "  kind               TEXT NOT NULL CHECK (kind IN ('file', 'status', 'test')),"
  "  url                TEXT NOT NULL,"
  "  body               TEXT NOT NULL,"
  "  headers            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid (headers)),"
  "  state              TEXT NOT NULL DEFAULT 'pending'"
  "                     CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'expired')),"
  "  attempts           INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt_at_us INTEGER NOT NULL DEFAULT 0,"
  "  expires_at_us      INTEGER NOT NULL,"
  "  last_error         TEXT,"
  "  last_status        INTEGER,"
  "  created_at_us      INTEGER NOT NULL,"
  "  delivered_at_us    INTEGER"
  ") STRICT;"
  "CREATE INDEX callback_outbox_due ON callback_outbox (state, next_attempt_at_us);"
  "CREATE INDEX callback_outbox_stream ON callback_outbox (stream_key, id);"

  /* The event log shown in the console. */
  "CREATE TABLE events ("
  "  id      INTEGER PRIMARY KEY,"
  "  time_us INTEGER NOT NULL,"
  "  kind    TEXT NOT NULL,"
  "  subject TEXT NOT NULL DEFAULT '',"
  "  message TEXT NOT NULL DEFAULT ''"
  ") STRICT;"
  "CREATE INDEX events_time ON events (time_us);",

  /* 2: {Sequence} per rule triplet and format (SPEC 2: a per-rule counter). Keyed by the
   * triplet rather than the rule's id so that a rule deleted and made again goes on
   * counting: file names made from {Sequence} never repeat. next_sequence is the next
   * number to hand out. (rules.next_sequence of migration 1 is unused: one counter for
   * every format numbered a rule's m3u8, mp4 and flv files 1, 2, 3.) */
  "CREATE TABLE rule_sequences ("
  "  domain        TEXT NOT NULL COLLATE NOCASE,"
  "  app           TEXT NOT NULL,"
  "  stream        TEXT NOT NULL,"
  "  format        TEXT NOT NULL CHECK (format IN ('m3u8', 'mp4', 'flv', 'cmaf')),"
  "  next_sequence INTEGER NOT NULL CHECK (next_sequence >= 1),"
  "  PRIMARY KEY (domain, app, stream, format)"
  ") WITHOUT ROWID, STRICT;",

  /* 3: the few slices a coverage query must leave out (being written, or lost), so that
   * DescribeLiveStreamRecordContent runs on slices_stream_time alone and looks these up
   * here instead of reading every row's state. */
  "CREATE INDEX slices_unusable ON slices (stream_id, start_time_us)"
  "  WHERE state IN ('open', 'lost');",

  /* 4: the sync engine. source_id: the slices row (kind 'slice') or recording_files row
   * (kind 'playlist' or 'file') that becomes 'uploaded' with the upload, NULL for a live
   * playlist's intermediate versions and index files (no foreign key: a row may outlive
   * its slice's retention). The key index finds the other rows of one object (a playlist
   * re-pointed, a spool file still needed by another row). */
  "ALTER TABLE upload_outbox ADD COLUMN source_id INTEGER;"
  "CREATE INDEX upload_outbox_key ON upload_outbox (object_key);",
};

int
_lt_catalog_schema_latest (void)
{
  return G_N_ELEMENTS (migrations);
}

static gboolean
read_user_version (sqlite3  *db,
                   int      *version,
                   GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "PRAGMA user_version", error);
  if (stmt == NULL)
    return FALSE;
  if (!lt_catalog_next_row (stmt, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                     _("The catalog has no schema version."));
      return FALSE;
    }
  *version = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
_lt_catalog_schema_migrate (sqlite3  *db,
                            int      *version,
                            GError  **error)
{
  const int latest = _lt_catalog_schema_latest ();
  int current;

  if (!read_user_version (db, &current, error))
    return FALSE;

  while (current < latest)
    {
      g_autofree char *bump = NULL;

      if (!lt_catalog_begin (db, error))
        return FALSE;

      /* Another process may have migrated since we looked: read again under the lock. */
      if (!read_user_version (db, &current, error))
        {
          lt_catalog_rollback (db);
          return FALSE;
        }
      if (current >= latest)
        {
          lt_catalog_rollback (db);
          break;
        }

      bump = g_strdup_printf ("PRAGMA user_version = %d", current + 1);
      if (!lt_catalog_exec (db, migrations[current], error) ||
          !lt_catalog_exec (db, bump, error) ||
          !lt_catalog_commit (db, error))
        {
          lt_catalog_rollback (db);
          g_prefix_error (error, _("Schema migration %d failed: "), current + 1);
          return FALSE;
        }
      current++;
    }

  if (current > latest)
    {
      g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_TOO_NEW,
                   _("The catalog has schema version %d, newer than this Livetape knows (%d). "
                     "Use a newer Livetape."),
                   current, latest);
      return FALSE;
    }

  *version = current;
  return TRUE;
}

/* test-playlist.c: LtPlaylist rendering (golden files), parsing and relative URIs. */
#include "config.h"

#include <glib/gstdio.h>

#include "lt-playlist.h"
#include "lt-test-utils.h"

#define T0 G_GINT64_CONSTANT (1709294400000000) /* 2024-03-01T12:00:00Z in µs */

static char *
read_golden (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "golden", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static LtPlaylist *
make_event_playlist (void)
{
  LtPlaylist *playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT,
                                          "record/live/cam/1_2024-03-01-12-00-00.m3u8");

  lt_playlist_set_target_duration (playlist, 6);
  lt_playlist_add_segment (playlist, "record/live/cam/1709294400_0.ts", 6006000,
                           T0 + 250000, FALSE);
  lt_playlist_add_segment (playlist, "record/live/cam/1709294406_1.ts", 5500000,
                           T0 + 6256000, FALSE);
  lt_playlist_add_segment (playlist, "record/live/cam/1709294420_2.ts", 6400000,
                           T0 + 20 * G_USEC_PER_SEC, TRUE);
  return playlist;
}

static void
test_event_golden (void)
{
  g_autoptr(LtPlaylist) playlist = make_event_playlist ();
  g_autofree char *live = NULL;
  g_autofree char *ended = NULL;
  g_autofree char *golden_live = read_golden ("playlist-event-live.m3u8");
  g_autofree char *golden_ended = read_golden ("playlist-event-ended.m3u8");

  g_assert_false (lt_playlist_get_ended (playlist));
  live = lt_playlist_to_string (playlist);
  g_assert_cmpstr (live, ==, golden_live);

  lt_playlist_set_ended (playlist, TRUE);
  ended = lt_playlist_to_string (playlist);
  g_assert_cmpstr (ended, ==, golden_ended);

  g_assert_cmpuint (lt_playlist_get_n_segments (playlist), ==, 3);
  g_assert_cmpint (lt_playlist_get_duration (playlist), ==, 6006000 + 5500000 + 6400000);
}

static void
test_vod_golden (void)
{
  g_autoptr(LtPlaylist) playlist = lt_playlist_new (LT_PLAYLIST_TYPE_VOD, "index/2024/pl.m3u8");
  g_autofree char *text = NULL;
  g_autofree char *golden = read_golden ("playlist-vod.m3u8");

  /* VOD is always ended; the target follows the longest segment (30.6 s rounds to 31). */
  lt_playlist_set_target_duration (playlist, 10);
  lt_playlist_add_segment (playlist, "slices/a b/1000_0.ts", 30 * G_USEC_PER_SEC,
                           1000 * G_USEC_PER_SEC, FALSE);
  lt_playlist_add_segment (playlist, "slices/a b/1030_1.ts", 30600000,
                           1030 * G_USEC_PER_SEC, FALSE);
  lt_playlist_add_segment (playlist, "slices/a b/1080_2.ts", 12 * G_USEC_PER_SEC,
                           1080 * G_USEC_PER_SEC + 1000, TRUE);
  g_assert_true (lt_playlist_get_ended (playlist));
  g_assert_cmpuint (lt_playlist_get_target_duration (playlist), ==, 31);

  text = lt_playlist_to_string (playlist);
  g_assert_cmpstr (text, ==, golden);
}

static void
test_target_duration_rounding (void)
{
  g_autoptr(LtPlaylist) playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, "p.m3u8");

  lt_playlist_set_target_duration (playlist, 5);
  lt_playlist_add_segment (playlist, "a.ts", 5499999, 1, FALSE);
  g_assert_cmpuint (lt_playlist_get_target_duration (playlist), ==, 5);
  lt_playlist_add_segment (playlist, "b.ts", 5500000, 1, FALSE);
  g_assert_cmpuint (lt_playlist_get_target_duration (playlist), ==, 6);
}

static void
test_relative_uri (void)
{
  const struct {
    const char *from;
    const char *to;
    const char *expected;
  } cases[] = {
    { "a/b/p.m3u8", "a/b/s.ts", "s.ts" },
    { "p.m3u8", "s.ts", "s.ts" },
    { "a/b/p.m3u8", "a/c/s.ts", "../c/s.ts" },
    { "a/b/p.m3u8", "s.ts", "../../s.ts" },
    { "p.m3u8", "x/y/s.ts", "x/y/s.ts" },
    { "a/p.m3u8", "a/a/s.ts", "a/s.ts" },
    { "x/a/p.m3u8", "a/s.ts", "../../a/s.ts" },
    /* keys holding characters a URI cannot: spaces, '%', '#', '?', ':' (scheme-like) */
    { "r/p.m3u8", "r/my stream/1_2.ts", "my%20stream/1_2.ts" },
    { "r/p.m3u8", "r/50%25/a#b?c.ts", "50%2525/a%23b%3Fc.ts" },
    { "p.m3u8", "c:d/s.ts", "c%3Ad/s.ts" },
    { "p.m3u8", "流/s.ts", "%E6%B5%81/s.ts" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = lt_object_key_relative_uri (cases[i].from, cases[i].to);

      g_assert_cmpstr (uri, ==, cases[i].expected);
    }
}

static void
test_parse_round_trip (void)
{
  g_autoptr(LtPlaylist) playlist = make_event_playlist ();
  g_autoptr(LtPlaylist) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = lt_playlist_to_string (playlist);
  g_autofree char *again = NULL;
  const LtPlaylistSegment *segment;

  parsed = lt_playlist_new_from_data (lt_playlist_get_key (playlist), text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  g_assert_cmpint (lt_playlist_get_playlist_type (parsed), ==, LT_PLAYLIST_TYPE_EVENT);
  g_assert_false (lt_playlist_get_ended (parsed));
  g_assert_cmpuint (lt_playlist_get_n_segments (parsed), ==, 3);
  segment = lt_playlist_get_segment (parsed, 2);
  g_assert_cmpstr (segment->key, ==, "record/live/cam/1709294420_2.ts");
  g_assert_true (segment->discontinuity);
  g_assert_cmpint (segment->program_date_time, ==, T0 + 20 * G_USEC_PER_SEC);
  g_assert_cmpint (segment->duration_us, ==, 6400000);

  /* Finishing a playlist a crash left open: parse, end, render. */
  lt_playlist_set_ended (parsed, TRUE);
  again = lt_playlist_to_string (parsed);
  lt_playlist_set_ended (playlist, TRUE);
  g_free (text);
  text = lt_playlist_to_string (playlist);
  g_assert_cmpstr (again, ==, text);
}

static void
test_parse_errors (void)
{
  const char *bad[] = {
    "",
    "not a playlist\n",
    "#EXTM3U\nsegment-without-extinf.ts\n",
    "#EXTM3U\n#EXTINF:x,\na.ts\n",
    "#EXTM3U\n#EXTINF:1,\n../../outside.ts\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LtPlaylist) playlist = NULL;

      playlist = lt_playlist_new_from_data ("a/p.m3u8", bad[i], strlen (bad[i]), &error);
      g_assert_null (playlist);
      g_assert_error (error, LT_PLAYLIST_ERROR, LT_PLAYLIST_ERROR_PARSE);
    }
}

static void
test_set_key_rerenders (void)
{
  g_autoptr(LtPlaylist) playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, "a/live.m3u8");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  lt_playlist_add_segment (playlist, "a/s/1.ts", G_USEC_PER_SEC, 1, FALSE);
  before = lt_playlist_to_string (playlist);
  g_assert_nonnull (strstr (before, "\ns/1.ts\n"));
  lt_playlist_set_key (playlist, "b/final.m3u8");
  after = lt_playlist_to_string (playlist);
  g_assert_nonnull (strstr (after, "\n../a/s/1.ts\n"));
}

static void
test_write_file_atomic (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "sub", "dir", "p.m3u8", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(LtPlaylist) playlist = make_event_playlist ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;
  g_autofree char *parent = g_path_get_dirname (path);
  const char *name;
  guint n_files = 0;

  g_assert_true (lt_playlist_write_file (playlist, path, &error));
  g_assert_no_error (error);
  lt_playlist_set_ended (playlist, TRUE);
  g_assert_true (lt_playlist_write_file (playlist, path, &error));
  g_assert_no_error (error);

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  expected = lt_playlist_to_string (playlist);
  g_assert_cmpstr (contents, ==, expected);

  /* No temporary file is left behind. */
  listing = g_dir_open (parent, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    n_files++;
  g_assert_cmpuint (n_files, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/playlist/event-golden", test_event_golden);
  g_test_add_func ("/playlist/vod-golden", test_vod_golden);
  g_test_add_func ("/playlist/target-duration-rounding", test_target_duration_rounding);
  g_test_add_func ("/playlist/relative-uri", test_relative_uri);
  g_test_add_func ("/playlist/parse-round-trip", test_parse_round_trip);
  g_test_add_func ("/playlist/parse-errors", test_parse_errors);
  g_test_add_func ("/playlist/set-key", test_set_key_rerenders);
  g_test_add_func ("/playlist/write-file-atomic", test_write_file_atomic);

  return g_test_run ();
}

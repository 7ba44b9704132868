/* lt-catalog-crasher.h: what lt-catalog-crasher writes per round, shared with
 * test-catalog-crash, which checks it after each kill. */
#pragma once

#define LT_CRASHER_EVENT_KIND        "crasher"
#define LT_CRASHER_SLICES_PER_ROUND  8
/* Round k marks the outbox row of round k - DONE_LAG done, deletes the slices of round
 * k - SLICE_LIFE and the outbox row of round k - OUTBOX_LIFE. */
#define LT_CRASHER_DONE_LAG          5
#define LT_CRASHER_SLICE_LIFE        10
#define LT_CRASHER_OUTBOX_LIFE       20

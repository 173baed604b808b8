/* test_restore.c - a timeline rebuilt from saved spans (model/restore.h), checked by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/restore.h"

/*
 * Window [100, 200). Saved:
 *   thread 7/7 "main" alive [100, 200): io_wait from 100, compute from 150; lost [160, 170)
 *   thread 7/8 "worker" alive [120, 180): its first span at its birth (runnable), then
 *     compute from 130; exits at 180
 *   the kernel reused tid 8 at 185: a second thread 7/8, alive [185, 200), no spans
 *   I/O in flight [110, 140) and [130, 150)
 * By hand: main io_wait 50 + compute 50; worker runnable 10 + compute 50 (its birth in
 * compute at 120 replaced by the span at the same instant); the new tid 8: compute 15;
 * main's gap 10; I/O union [110, 150) = 40; unmatched edges as saved: 3.
 */
static void test_restore_by_hand(void **state)
{
	struct rs_timeline rs;
	struct tl_timeline *tl;
	struct rs_thread main_t = {.pid = 7, .tid = 7, .start = 100, .end = 200, .reads = 4,
				   .bytes_read = 4096, .ctx_switches = 2, .comm = "md5dir",
				   .role = "main"};
	struct rs_thread worker = {.pid = 7, .tid = 8, .start = 120, .end = 180,
				   .comm = "md5dir", .role = "worker 1"};
	struct rs_thread reused = {.pid = 7, .tid = 8, .start = 185, .end = 200,
				   .comm = "md5dir", .role = "worker 2"};

	(void)state;
	assert_int_equal(rs_begin(&rs), 0);
	assert_int_equal(rs_thread(&rs, &main_t), 0);
	assert_int_equal(rs_span(&rs, 7, 100, TL_IO_WAIT), 0);
	assert_int_equal(rs_span(&rs, 7, 150, TL_COMPUTE), 0);
	rs_gap(&rs, 7, 160, 170);
	assert_int_equal(rs_thread(&rs, &worker), 0);
	assert_int_equal(rs_span(&rs, 8, 120, TL_RUNNABLE), 0);
	assert_int_equal(rs_span(&rs, 8, 130, TL_COMPUTE), 0);
	assert_int_equal(rs_thread(&rs, &reused), 0);
	assert_int_equal(rs_io(&rs, 110, 140), 0);
	assert_int_equal(rs_io(&rs, 130, 150), 0);
	assert_int_equal(rs_finish(&rs, 100, 200, 3, &tl), 0);
	assert_null(rs.tl);
	assert_non_null(tl);

	assert_int_equal(tl->nthreads, 3);
	assert_int_equal(tl->threads[0].tid, 7);
	assert_string_equal(tl->threads[0].role, "main");
	assert_int_equal(tl->threads[0].reads, 4);
	assert_int_equal(tl->threads[0].bytes_read, 4096);
	assert_int_equal(tl->threads[0].ctx_switches, 2);
	assert_int_equal(tl->threads[0].state_ns[TL_IO_WAIT], 50);
	assert_int_equal(tl->threads[0].state_ns[TL_COMPUTE], 50);
	assert_int_equal(tl->threads[0].gap_ns, 10);

	assert_string_equal(tl->threads[1].role, "worker 1");
	assert_int_equal(tl->threads[1].start, 120);
	assert_int_equal(tl->threads[1].end, 180);
	assert_int_equal(tl->threads[1].state_ns[TL_RUNNABLE], 10);
	assert_int_equal(tl->threads[1].state_ns[TL_COMPUTE], 50);
	assert_int_equal(tl->threads[1].nspans, 2);

	assert_string_equal(tl->threads[2].role, "worker 2");
	assert_int_equal(tl->threads[2].tid, 8);
	assert_int_equal(tl->threads[2].start, 185);
	assert_int_equal(tl->threads[2].state_ns[TL_COMPUTE], 15);

	assert_int_equal(tl_iv_length(tl->io, tl->nio), 40);
	assert_int_equal(tl->io_unmatched, 3);
	tl_free(tl);
}

/* A window that ends before it starts is refused by tl_finish; nothing is left behind. */
static void test_restore_bad_window(void **state)
{
	struct rs_timeline rs;
	struct tl_timeline *tl = (struct tl_timeline *)&rs; /* anything non-NULL */

	(void)state;
	assert_int_equal(rs_begin(&rs), 0);
	assert_int_equal(rs_finish(&rs, 200, 100, 0, &tl), -EINVAL);
	assert_null(tl);
	assert_null(rs.tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_by_hand),
		cmocka_unit_test(test_restore_bad_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

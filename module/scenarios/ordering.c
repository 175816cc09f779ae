// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "ordering": memory-reordering litmus tests.
 *
 * Two threads on two CPUs run many short trials, released together by a
 * spin handshake. Every litmus variable and result slot is accessed with
 * READ_ONCE()/WRITE_ONCE(), so the compiler can neither merge nor reorder
 * them: what is left is the CPU's own reordering.
 *
 * The store buffer's window is a few cycles wide, and where the two halves
 * meet depends on how late thread 1 sees the release: one instance per
 * handshake showed SB in 99 of 100 one-second runs, not every one. So each
 * handshake runs ORD_LANES independent instances (lanes), each on a cache
 * line of its own, thread 0 in lane order and thread 1 the other way round:
 * the halves of each lane meet at a different offset, and one handshake
 * samples ORD_LANES alignments of the window instead of one.
 *
 * Store buffering (SB):   x = 1; r0 = y;   ||   y = 1; r1 = x;
 *   r0 == 0 && r1 == 0 needs each store to sit in its CPU's store buffer
 *   while the other CPU loads. x86 allows it; smp_mb() forbids it.
 *
 * Message passing (MP):   x = 1; y = 1;    ||   r0 = y; r1 = x;
 *   (data x, flag y) r0 == 1 && r1 == 0 is forbidden with smp_wmb()/
 *   smp_rmb() or release/acquire. x86-TSO never reorders store-store or
 *   load-load, and QEMU keeps that order, so `mp-plain` shows 0 on x86
 *   too; there smp_wmb() and smp_rmb() are compiler barriers only. On
 *   arm64 or POWER `mp-plain` would show the forbidden outcome.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/slab.h>

#include "racelab.h"

#define ORD_LANES	8	/* litmus instances per handshake */

/* One instance of the litmus test. */
struct ord_lane {
	int x;
	int y;
	int r[2];
} ____cacheline_aligned_in_smp;

struct ord_state {
	struct ord_lane lane[ORD_LANES];
	unsigned long start ____cacheline_aligned_in_smp;	/* trial released by thread 0 */
	unsigned long ready;	/* trial thread 1 is waiting for */
	unsigned long done;	/* trial thread 1 finished */
	unsigned long trial[2];	/* per thread, own */
	u64 hist[4];		/* thread 0 only: outcomes r0 * 2 + r1, all lanes */
	int forbidden;		/* the outcome the fix must rule out */
};

static struct ord_state *ord_of(struct racelab_run *run)
{
	return run->priv;
}

/* Spin until *var == val; give up if asked to stop or the partner left. */
static bool ord_wait(struct racelab_run *run, unsigned long *var,
		     unsigned long val)
{
	unsigned long n = 0;

	/* Pairs with the partner's smp_store_release() of *var. */
	while (smp_load_acquire(var) != val) {
		if ((++n & 1023) == 0 &&
		    (racelab_should_stop(run) || !racelab_others_live(run)))
			return false;
		cpu_relax();
	}
	return true;
}

static noinline void sb_plain_0(struct ord_lane *s)
{
	WRITE_ONCE(s->x, 1);
	WRITE_ONCE(s->r[0], READ_ONCE(s->y));
}

static noinline void sb_plain_1(struct ord_lane *s)
{
	WRITE_ONCE(s->y, 1);
	WRITE_ONCE(s->r[1], READ_ONCE(s->x));
}

static noinline void sb_mb_0(struct ord_lane *s)
{
	WRITE_ONCE(s->x, 1);
	smp_mb();	/* the litmus fix: store before load */
	WRITE_ONCE(s->r[0], READ_ONCE(s->y));
}

static noinline void sb_mb_1(struct ord_lane *s)
{
	WRITE_ONCE(s->y, 1);
	smp_mb();	/* the litmus fix: store before load */
	WRITE_ONCE(s->r[1], READ_ONCE(s->x));
}

static noinline void mp_plain_0(struct ord_lane *s)
{
	WRITE_ONCE(s->x, 1);
	WRITE_ONCE(s->y, 1);
}

static noinline void mp_plain_1(struct ord_lane *s)
{
	WRITE_ONCE(s->r[0], READ_ONCE(s->y));
	WRITE_ONCE(s->r[1], READ_ONCE(s->x));
}

static noinline void mp_wmb_0(struct ord_lane *s)
{
	WRITE_ONCE(s->x, 1);
	smp_wmb();	/* the litmus fix: data before flag; pairs with smp_rmb() */
	WRITE_ONCE(s->y, 1);
}

static noinline void mp_rmb_1(struct ord_lane *s)
{
	WRITE_ONCE(s->r[0], READ_ONCE(s->y));
	smp_rmb();	/* the litmus fix: flag before data; pairs with smp_wmb() */
	WRITE_ONCE(s->r[1], READ_ONCE(s->x));
}

static noinline void mp_release_0(struct ord_lane *s)
{
	WRITE_ONCE(s->x, 1);
	smp_store_release(&s->y, 1);	/* pairs with smp_load_acquire() */
}

static noinline void mp_acquire_1(struct ord_lane *s)
{
	/* Pairs with smp_store_release() in mp_release_0(). */
	WRITE_ONCE(s->r[0], smp_load_acquire(&s->y));
	WRITE_ONCE(s->r[1], READ_ONCE(s->x));
}

/* One litmus test: each thread's half, and the outcome it must rule out. */
struct ord_test {
	void (*body[2])(struct ord_lane *s);
	int forbidden;		/* r0 * 2 + r1 */
};

#define ORD_SB_FORBIDDEN	0	/* r0 == 0 && r1 == 0 */
#define ORD_MP_FORBIDDEN	2	/* saw the flag, not the data */

/*
 * One trial. Thread 1 says it is ready, thread 0 resets every lane and
 * releases it, both run their half in each lane (thread 1 backwards),
 * thread 0 waits for thread 1's results.
 */
static bool ord_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct ord_test *test = run->mode->ops;
	struct ord_state *s = ord_of(run);
	unsigned long n = ++s->trial[t->id];
	unsigned int k, o;

	if (t->id == 1) {
		/* The handshake: each release pairs with the other's acquire. */
		smp_store_release(&s->ready, n);
		if (!ord_wait(run, &s->start, n))
			return false;
		for (k = ORD_LANES; k--; )
			test->body[1](&s->lane[k]);
		/* Publishes r[1] of every lane to thread 0. */
		smp_store_release(&s->done, n);
		return true;
	}
	if (!ord_wait(run, &s->ready, n))
		return false;
	for (k = 0; k < ORD_LANES; k++) {
		WRITE_ONCE(s->lane[k].x, 0);
		WRITE_ONCE(s->lane[k].y, 0);
		WRITE_ONCE(s->lane[k].r[0], 0);
		WRITE_ONCE(s->lane[k].r[1], 0);
	}
	/* Publishes the reset lanes to thread 1. */
	smp_store_release(&s->start, n);
	/* Vary the alignment of the two halves from trial to trial. */
	for (k = n % 4; k; k--)
		cpu_relax();
	for (k = 0; k < ORD_LANES; k++)
		test->body[0](&s->lane[k]);
	if (!ord_wait(run, &s->done, n))
		return false;
	for (k = 0; k < ORD_LANES; k++) {
		o = READ_ONCE(s->lane[k].r[0]) * 2 + READ_ONCE(s->lane[k].r[1]);
		s->hist[o]++;
		if (o == test->forbidden)
			racelab_anomaly(run);
	}
	return true;
}

static const struct racelab_mode ord_modes[] = {
	{
		.name = "sb-plain", .kind = RACELAB_RACY,
		.about = "store buffering, no barrier: r0 == r1 == 0 happens on x86",
		.ops = &(const struct ord_test) {
			.body = { sb_plain_0, sb_plain_1 },
			.forbidden = ORD_SB_FORBIDDEN,
		},
		.hidden = RACELAB_HIDDEN_KCSAN,
	},
	{
		.name = "sb-mb", .kind = RACELAB_FIXED,
		.about = "store buffering with smp_mb() between store and load",
		.ops = &(const struct ord_test) {
			.body = { sb_mb_0, sb_mb_1 },
			.forbidden = ORD_SB_FORBIDDEN,
		},
	},
	{
		.name = "mp-plain", .kind = RACELAB_RACY,
		.about = "message passing, no barrier: allowed, but x86-TSO never shows it",
		.ops = &(const struct ord_test) {
			.body = { mp_plain_0, mp_plain_1 },
			.forbidden = ORD_MP_FORBIDDEN,
		},
		.hidden = RACELAB_HIDDEN_TSO,
	},
	{
		.name = "mp-wmb-rmb", .kind = RACELAB_FIXED,
		.about = "message passing with smp_wmb()/smp_rmb()",
		.ops = &(const struct ord_test) {
			.body = { mp_wmb_0, mp_rmb_1 },
			.forbidden = ORD_MP_FORBIDDEN,
		},
	},
	{
		.name = "mp-release-acquire", .kind = RACELAB_FIXED,
		.about = "message passing with smp_store_release()/smp_load_acquire()",
		.ops = &(const struct ord_test) {
			.body = { mp_release_0, mp_acquire_1 },
			.forbidden = ORD_MP_FORBIDDEN,
		},
	},
};

static int ord_setup(struct racelab_run *run)
{
	struct ord_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->forbidden = ((const struct ord_test *)run->mode->ops)->forbidden;
	run->priv = s;
	return 0;
}

static void ord_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct ord_state *s = ord_of(run);
	u64 trials = s->hist[0] + s->hist[1] + s->hist[2] + s->hist[3];

	res->expected = trials;
	res->observed = trials - s->hist[s->forbidden];
	res->anomalies = s->hist[s->forbidden];
	snprintf(res->extra, sizeof(res->extra),
		 "trials=%llu lanes=%d r00=%llu r01=%llu r10=%llu r11=%llu forbidden=r%d%d",
		 trials, ORD_LANES, s->hist[0], s->hist[1], s->hist[2], s->hist[3],
		 s->forbidden >> 1, s->forbidden & 1);
}

static void ord_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_ordering_scenario = {
	.name = "ordering",
	.about = "store buffering and message passing litmus tests",
	/* Two threads spinning for each other: two CPUs, the store buffer. */
	.flags = RACELAB_SCN_PIN | RACELAB_SCN_NO_AMP,
	.modes = ord_modes,
	.nr_modes = ARRAY_SIZE(ord_modes),
	.plans = RACELAB_PLANS({ "auto", .racy_cpus = 2 }),
	.one_cpu_amplifier = "auto",
	.detect_amplifier = "auto",
	.min_cpus = 2,
	.min_threads = 2,
	.max_threads = 2,
	.step = ord_step,
	.setup = ord_setup,
	.verdict = ord_verdict,
	.teardown = ord_teardown,
};

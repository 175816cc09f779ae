// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "running-max": a maximum that goes back. The smallest complete
 * scenario, shown in full in the README ("Write a new scenario").
 *
 * Threads keep a shared running maximum. Each takes a ticket (every ticket
 * is larger than the ones before) and stores it if it beats the maximum it
 * read. Between that read and the store, another thread may store a larger
 * ticket, which the store then overwrites with a smaller one:
 *
 *   thread 0 (ticket 8)       thread 1 (ticket 9)
 *   m = max (5); 8 > 5
 *                             m = max (5); 9 > 5
 *                             max = 9
 *   max = 8                   <- the maximum went back from 9 to 8
 *
 * A maximum never goes back. Beside it the threads keep a floor, raised
 * with atomic operations to every value the maximum was seen to hold; a
 * thread that reads a maximum below the floor it read just before has
 * seen it go back: the anomaly. The thread that stored the smaller value
 * sees it itself at its next step, so the race shows on one CPU too.
 * READ_ONCE()/WRITE_ONCE() remove the data race but not the race: KCSAN
 * goes silent and the maximum still goes back.
 */
#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

struct rmax_state {
	long max;		/* the shared running maximum */
	spinlock_t lock;	/* mode spinlock */
	atomic_long_t ticket;	/* the proposals, ever larger */
	atomic_long_t floor;	/* the largest value max was seen to hold */
	atomic_long_t back;	/* times it was seen to go back */
};

/*
 * Each mode's update is a noinline function of its own, so that a KCSAN
 * report names it. It stores @v if @v beats the maximum it reads, and
 * returns the maximum it read last.
 */
static noinline long rmax_none_update(struct rmax_state *s, long v,
				      struct racelab_thread *t)
{
	long cur = s->max;

	if (v > cur) {
		racelab_window(t);
		s->max = v;
	}
	return cur;
}

/* Looks fixed: no data race left, KCSAN is silent; the window is still. */
static noinline long rmax_once_update(struct rmax_state *s, long v,
				      struct racelab_thread *t)
{
	long cur = READ_ONCE(s->max);

	if (v > cur) {
		racelab_window(t);
		WRITE_ONCE(s->max, v);
	}
	return cur;
}

static noinline long rmax_spinlock_update(struct rmax_state *s, long v,
					  struct racelab_thread *t)
{
	long cur;

	spin_lock(&s->lock);
	cur = s->max;
	if (v > cur) {
		racelab_window(t);
		s->max = v;
	}
	spin_unlock(&s->lock);
	return cur;
}

/* Store only if the maximum is still the one read; else look again. */
static noinline long rmax_cmpxchg_update(struct rmax_state *s, long v,
					 struct racelab_thread *t)
{
	long cur = READ_ONCE(s->max);

	while (v > cur) {
		racelab_window(t);
		if (try_cmpxchg(&s->max, &cur, v))
			break;
	}
	return cur;
}

/* A mode's operations: its update. */
struct rmax_ops {
	long (*update)(struct rmax_state *s, long v, struct racelab_thread *t);
};

static bool rmax_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rmax_ops *ops = run->mode->ops;
	struct rmax_state *s = run->priv;
	/* Acquire: the maximum read next is at least the floor read here. */
	long floor = atomic_long_read_acquire(&s->floor);
	long v = atomic_long_inc_return(&s->ticket);
	long cur = ops->update(s, v, t);
	long held = max(cur, v);	/* v was stored if it beat cur */

	if (cur < floor) {
		atomic_long_inc(&s->back);
		racelab_anomaly(run);
	}
	/* Raise the floor to what max held; never lower it. */
	floor = atomic_long_read(&s->floor);
	while (floor < held && !atomic_long_try_cmpxchg(&s->floor, &floor, held))
		;
	return true;
}

static const struct racelab_mode rmax_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "if (v > max) max = v, plain",
		.ops = &(const struct rmax_ops) { .update = rmax_none_update },
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS, .names = "rmax_none_update",
		},
	},
	{
		.name = "once", .kind = RACELAB_BROKEN_FIX,
		.about = "READ_ONCE()/WRITE_ONCE(): no data race, still goes back",
		.ops = &(const struct rmax_ops) { .update = rmax_once_update },
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_SERIAL_WINDOW,
		.about = "compare and store under one spinlock",
		.ops = &(const struct rmax_ops) { .update = rmax_spinlock_update },
	},
	{
		.name = "cmpxchg", .kind = RACELAB_FIXED,
		.about = "try_cmpxchg() loop: store only over the maximum read",
		.ops = &(const struct rmax_ops) { .update = rmax_cmpxchg_update },
	},
};

static int rmax_setup(struct racelab_run *run)
{
	struct rmax_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	spin_lock_init(&s->lock);
	run->priv = s;
	return 0;
}

/* The last ticket must be the maximum; every step back is an anomaly. */
static void rmax_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct rmax_state *s = run->priv;
	long back = atomic_long_read(&s->back);

	res->expected = atomic_long_read(&s->ticket);
	res->observed = s->max;
	/* A last step back that no thread read again counts too. */
	res->anomalies = back + (res->observed != res->expected);
	snprintf(res->extra, sizeof(res->extra), "went_back=%ld", back);
}

static void rmax_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_running_max_scenario = {
	.name = "running-max",
	.about = "a running maximum updated by compare-then-store goes back",
	.modes = rmax_modes,
	.nr_modes = ARRAY_SIZE(rmax_modes),
	.step = rmax_step,
	/* Unamplified, one CPU must preempt between the read and the store. */
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 }, { "delay:1000" }),
	.detect_amplifier = "none",
	.setup = rmax_setup,
	.verdict = rmax_verdict,
	.teardown = rmax_teardown,
};

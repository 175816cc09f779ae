// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "lost-wakeup": a waiter that sleeps through its own event.
 *
 * Thread 0 is the waker; every other thread is a waiter with a wait queue
 * of its own. Round after round, a waiter announces the event it waits for
 * next (want = n), and the waker, once it sees that, posts it (posted = n)
 * and wakes the waiter. Every sleep is bounded by LW_TIMEOUT_MS, so a lost
 * wakeup costs a timeout, never a hang.
 *
 * The racy waiter checks the event, and only then sets its task state and
 * sleeps. A wakeup that lands in between finds it still TASK_RUNNING and
 * does nothing; the waiter then sleeps until its timeout:
 *
 *   waiter                          waker
 *   add_wait_queue(&wq)
 *   if (posted < n)       -> true
 *                                   posted = n;
 *                                   wake_up(&wq)  <- waiter is running: no-op
 *   set_current_state(UNINTERRUPTIBLE)
 *   schedule_timeout()    <- sleeps until the timeout
 *
 * `waitqueue-active` is the broken fix: the waiter is right (it sets its
 * state, then checks again), but the waker skips wake_up() when
 * waitqueue_active() says nobody waits, with no barrier between its store
 * of the event and that load. That is store buffering (SB): the waker's
 * store may wait in its store buffer while its load sees the queue empty,
 * and the waiter, queued and barriered, still reads the old event. See the
 * comment above waitqueue_active() in include/linux/wait.h. On x86 the
 * store buffer holds a store for some nanoseconds, while the waiter's
 * queueing takes microseconds under emulation; so with an amplifier the
 * mode does what the store buffer does, for longer: it takes the load
 * first, keeps the store back for the window, then makes it. Without an
 * amplifier it runs the plain code (store, then load) and shows only what
 * the hardware does (the README has the figures).
 *
 * The anomaly is decided by order, not by time. Both sides tick one
 * fully ordered per-waiter clock: the waiter once queued with its state
 * set (before any re-check) and again when its sleep ends (still queued),
 * the waker once its wake-up is done (or skipped). A sleep that timed out
 * while no wake-up found the waiter asleep (its wait entry records one)
 * counts as a lost wakeup if the waker's wake-up for that event was done
 * before the waiter's first tick, or was skipped (the queue looked empty)
 * before its second. A host that stalls the waker past the timeout makes
 * timeouts, never these; so does one that stalls a woken waiter past it,
 * or a wake-up left over from the round before, which takes the entry
 * off the queue early. With a re-check after the first tick, the first
 * case would have seen the event; with a barrier on each side
 * (wq_has_sleeper()), the second is the SB outcome that the barriers
 * forbid: a fixed mode never counts one.
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "racelab.h"

#define LW_TIMEOUT_MS	3	/* every sleep ends by this, at the latest */
#define LW_SPIN		4096	/* the waker's polls before it sleeps */
#define LW_MIN_WAITS	100	/* fewer waits than this prove no clean verdict */

/*
 * One waiter's side: its wait queue, its event, and what both sides say
 * of each round. want and posted are the only words the two threads share
 * without the clock, besides the waker's record of its last wake-up.
 */
struct lw_slot {
	wait_queue_head_t wq;		/* the waiter sleeps here */
	wait_queue_head_t back;		/* the waker waits here for want */
	unsigned long want;		/* event the waiter waits for, released */
	unsigned long posted;		/* last event posted by the waker */
	atomic_long_t clock;		/* orders the two sides' ticks */
	/* The waker's record of its last wake-up, released by woken. */
	long wake_tick;			/* its tick, after it */
	bool skipped;			/* it saw the queue empty, woke no one */
	unsigned long woken;		/* event it was done with */
	/* The waiter's own counts. */
	unsigned long round;
	unsigned long waits;		/* events it saw */
	unsigned long slept;		/* sleeps */
	unsigned long timeouts;		/* sleeps that ended by the timeout */
	unsigned long lost;		/* of those, wake-ups lost */
	/* The waker's own count. */
	unsigned long skips;		/* wake-ups skipped (queue empty) */
} ____cacheline_aligned_in_smp;

struct lw_state {
	unsigned long round;		/* the waker's */
	unsigned int nr;		/* slots: one per thread, 0 unused */
	struct lw_slot slot[];
};

/*
 * One sleep of a waiter: whether it slept, how it ended, its tick once
 * queued with its state set, and its tick when the sleep ended, still
 * queued (0 if it was not taken).
 */
struct lw_sleep {
	bool slept;
	bool timed_out;
	bool woken;		/* a wake-up found it asleep */
	long tick;
	long end;
};

/*
 * A waiter's wait queue entry that remembers whether a wake-up found the
 * waiter in its sleep for the event. A wake-up that finds it running (the
 * racy mode's loss) does nothing; one that finds it asleep elsewhere (the
 * racy mode's amplifier sleeps in its window, queued) ends that other
 * sleep and is lost all the same: neither leaves a mark. One that arrives
 * late, after the timeout, or is left over from the round before, does,
 * and such a sleep is never judged a lost wake-up.
 */
struct lw_wait {
	struct wait_queue_entry entry;
	bool sleeping;		/* in its sleep for the event */
	bool woken;		/* a wake-up ended that sleep */
};

static int lw_wake_fn(struct wait_queue_entry *entry, unsigned int mode,
		      int sync, void *key)
{
	struct lw_wait *lw = container_of(entry, struct lw_wait, entry);
	int ret = default_wake_function(entry, mode, sync, key);

	if (ret) {
		/* Before the entry leaves: finish_wait() then sees it. */
		if (READ_ONCE(lw->sleeping))
			lw->woken = true;
		list_del_init_careful(&entry->entry);
	}
	return ret;
}

static void lw_init_wait(struct lw_wait *lw)
{
	init_waitqueue_func_entry(&lw->entry, lw_wake_fn);
	lw->entry.private = current;
	INIT_LIST_HEAD(&lw->entry.entry);
	lw->sleeping = false;
	lw->woken = false;
}

/* Leave the queue; then the mark is stable (see lw_wake_fn()). */
static void lw_finish_wait(struct lw_slot *w, struct lw_wait *lw,
			   struct lw_sleep *r)
{
	finish_wait(&w->wq, &lw->entry);
	r->woken = lw->woken;
}

static struct lw_state *lw_of(struct racelab_run *run)
{
	return run->priv;
}

/* A tick of @w's clock: fully ordered against both sides' accesses. */
static long lw_tick(struct lw_slot *w)
{
	return atomic_long_inc_return(&w->clock);
}

/*
 * Sleep until woken or the timeout, the task state already set. A wake-up
 * before @lw says it sleeps finds the task running, or sets it running:
 * then schedule_timeout() returns at once, before its timeout.
 */
static void lw_sleep(struct lw_slot *w, struct lw_wait *lw, struct lw_sleep *r)
{
	WRITE_ONCE(lw->sleeping, true);
	r->slept = true;
	r->timed_out = !schedule_timeout(msecs_to_jiffies(LW_TIMEOUT_MS));
	r->end = lw_tick(w);
}

/*
 * The waiters: each returns whether event @n was posted, and in @r how it
 * slept. Each calls racelab_window() between its first check of the event
 * and the point where its task state is set.
 */

/* Check, then set the state: a wake-up in between is lost. */
static noinline bool lw_racy_wait(struct lw_slot *w, struct racelab_thread *t,
				  unsigned long n, struct lw_sleep *r)
{
	struct lw_wait wait;
	bool done;

	lw_init_wait(&wait);
	add_wait_queue(&w->wq, &wait.entry);
	done = w->posted >= n;
	if (!done) {
		racelab_window(t);
		set_current_state(TASK_UNINTERRUPTIBLE);
		r->tick = lw_tick(w);
		lw_sleep(w, &wait, r);
	}
	lw_finish_wait(w, &wait, r);
	return done;
}

/* prepare_to_wait() sets the state, then the event is checked again. */
static noinline bool lw_prepare_wait(struct lw_slot *w,
				     struct racelab_thread *t, unsigned long n,
				     struct lw_sleep *r)
{
	struct lw_wait wait;
	bool done;

	if (READ_ONCE(w->posted) >= n)
		return true;
	racelab_window(t);
	lw_init_wait(&wait);
	prepare_to_wait(&w->wq, &wait.entry, TASK_UNINTERRUPTIBLE);
	r->tick = lw_tick(w);
	done = READ_ONCE(w->posted) >= n;
	if (!done)
		lw_sleep(w, &wait, r);
	lw_finish_wait(w, &wait, r);
	return done;
}

/* wait_event_timeout()'s condition: tick, then look (after its prepare). */
static bool lw_event_cond(struct lw_slot *w, unsigned long n,
			  struct lw_sleep *r)
{
	r->tick = lw_tick(w);
	return READ_ONCE(w->posted) >= n;
}

static noinline bool lw_event_wait(struct lw_slot *w, struct racelab_thread *t,
				   unsigned long n, struct lw_sleep *r)
{
	if (READ_ONCE(w->posted) >= n)
		return true;
	racelab_window(t);
	if (wait_event_timeout(w->wq, lw_event_cond(w, n, r),
			       msecs_to_jiffies(LW_TIMEOUT_MS)))
		return true;
	/* 0: the condition was still false after a timeout (no end tick). */
	r->slept = true;
	r->timed_out = true;
	return false;
}

/*
 * The wakers: each posts event @n to @w and wakes its waiter, and returns
 * true if it skipped the wake-up because the queue looked empty.
 */

static noinline bool lw_racy_wake(struct lw_slot *w, struct racelab_thread *t,
				  unsigned long n)
{
	w->posted = n;
	wake_up(&w->wq);
	return false;
}

static bool lw_wake(struct lw_slot *w, struct racelab_thread *t,
		    unsigned long n)
{
	WRITE_ONCE(w->posted, n);
	wake_up(&w->wq);
	return false;
}

/*
 * waitqueue_active() with no barrier after the store: the load may be
 * satisfied while the store still sits in the store buffer. With an
 * amplifier, the load is taken first and the store kept back for the
 * window: that reordering, widened.
 */
static noinline bool lw_active_wake(struct lw_slot *w, struct racelab_thread *t,
				    unsigned long n)
{
	bool active;

	if (t->run->cfg.amp != RACELAB_AMP_NONE) {
		/* The broken fix: the load is satisfied before the store. */
		active = waitqueue_active(&w->wq);
		racelab_window(t);
		WRITE_ONCE(w->posted, n);
	} else {
		WRITE_ONCE(w->posted, n);
		/* The broken fix: no smp_mb() between the store and this load. */
		active = waitqueue_active(&w->wq);
	}
	if (active)
		wake_up(&w->wq);
	return !active;
}

/* wq_has_sleeper(): smp_mb() between the store and the load. */
static noinline bool lw_sleeper_wake(struct lw_slot *w,
				     struct racelab_thread *t, unsigned long n)
{
	bool active;

	WRITE_ONCE(w->posted, n);
	racelab_window(t);
	active = wq_has_sleeper(&w->wq);
	if (active)
		wake_up(&w->wq);
	return !active;
}

/* A mode's waiter and waker. */
struct lw_ops {
	bool (*wait)(struct lw_slot *w, struct racelab_thread *t,
		     unsigned long n, struct lw_sleep *r);
	bool (*wake)(struct lw_slot *w, struct racelab_thread *t,
		     unsigned long n);
};

/*
 * Judge a sleep for event @n that ended by the timeout, no wake-up having
 * found the waiter asleep: lost if the waker's wake-up for @n was done
 * before the waiter's tick, or skipped before the sleep ended (a skip
 * after it, once the waiter left the queue, is right: the waiter's next
 * check sees the event).
 */
static void lw_judge(struct racelab_run *run, struct lw_slot *w,
		     unsigned long n, const struct lw_sleep *r)
{
	long wake_tick;

	if (r->woken)
		return;
	/* Pairs with smp_store_release() in lw_waker(). */
	if (smp_load_acquire(&w->woken) < n)
		return;
	wake_tick = READ_ONCE(w->wake_tick);
	if (wake_tick < r->tick ||
	    (READ_ONCE(w->skipped) && wake_tick < r->end)) {
		w->lost++;
		racelab_anomaly(run);
	}
}

/* A waiter: announce the next event, and wait until it is posted. */
static bool lw_waiter(struct racelab_run *run, struct racelab_thread *t)
{
	const struct lw_ops *ops = run->mode->ops;
	struct lw_slot *w = &lw_of(run)->slot[t->id];
	unsigned long n = ++w->round;

	/* Pairs with smp_load_acquire() in lw_await(). */
	smp_store_release(&w->want, n);
	wake_up(&w->back);
	for (;;) {
		struct lw_sleep r = { };
		bool done = ops->wait(w, t, n, &r);

		if (r.slept) {
			w->slept++;
			if (r.timed_out) {
				w->timeouts++;
				lw_judge(run, w, n, &r);
			}
		}
		if (done)
			break;
		if (racelab_should_stop(run) || !racelab_others_live(run))
			return false;
	}
	w->waits++;
	return true;
}

/* The waker waits for @w's waiter to announce event @n: polls, then sleeps. */
static bool lw_await(struct racelab_run *run, struct lw_slot *w,
		     unsigned long n)
{
	unsigned int k = num_online_cpus() > 1 ? LW_SPIN : 0;

	/* Pairs with smp_store_release() in lw_waiter(). */
	while (smp_load_acquire(&w->want) < n) {
		if (racelab_should_stop(run) || !racelab_others_live(run))
			return false;
		if (k) {
			k--;
			cpu_relax();
			continue;
		}
		/* Pairs with smp_store_release() in lw_waiter(). */
		wait_event_timeout(w->back, smp_load_acquire(&w->want) >= n,
				   msecs_to_jiffies(LW_TIMEOUT_MS));
	}
	return true;
}

/* The waker: one round, each waiter's event posted once it waits for it. */
static bool lw_waker(struct racelab_run *run, struct racelab_thread *t)
{
	const struct lw_ops *ops = run->mode->ops;
	struct lw_state *s = lw_of(run);
	unsigned long n = ++s->round;
	unsigned int i;

	for (i = 1; i < s->nr; i++) {
		struct lw_slot *w = &s->slot[i];
		bool skipped;

		if (!lw_await(run, w, n))
			return false;
		skipped = ops->wake(w, t, n);
		w->skips += skipped;
		WRITE_ONCE(w->skipped, skipped);
		WRITE_ONCE(w->wake_tick, lw_tick(w));
		/* Publishes skipped and wake_tick to lw_judge(). */
		smp_store_release(&w->woken, n);
	}
	return true;
}

static bool lw_step(struct racelab_run *run, struct racelab_thread *t)
{
	return t->id ? lw_waiter(run, t) : lw_waker(run, t);
}

static const struct racelab_mode lw_modes[] = {
	{
		.name = "check-then-sleep", .kind = RACELAB_RACY,
		.about = "waiter checks the event, then sets its state and sleeps",
		.ops = &(const struct lw_ops) {
			.wait = lw_racy_wait, .wake = lw_racy_wake,
		},
		/* The window between the check and the state: widened. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "lw_racy_wait|lw_racy_wake",
		},
	},
	{
		.name = "waitqueue-active", .kind = RACELAB_BROKEN_FIX,
		.about = "waker skips wake_up() if !waitqueue_active(), no barrier",
		.ops = &(const struct lw_ops) {
			.wait = lw_prepare_wait, .wake = lw_active_wake,
		},
		/* The store buffer's hold on the event's store: widened. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "wait-event", .kind = RACELAB_FIXED,
		.about = "wait_event_timeout(): state set, then the event checked",
		.ops = &(const struct lw_ops) {
			.wait = lw_event_wait, .wake = lw_wake,
		},
	},
	{
		.name = "prepare-recheck", .kind = RACELAB_FIXED,
		.about = "prepare_to_wait(), check again, schedule_timeout()",
		.ops = &(const struct lw_ops) {
			.wait = lw_prepare_wait, .wake = lw_wake,
		},
	},
	{
		.name = "wq-has-sleeper", .kind = RACELAB_FIXED,
		.about = "waker skips wake_up() if !wq_has_sleeper(): smp_mb() first",
		.ops = &(const struct lw_ops) {
			.wait = lw_prepare_wait, .wake = lw_sleeper_wake,
		},
	},
};

static int lw_setup(struct racelab_run *run)
{
	unsigned int i, nr = run->cfg.threads;
	struct lw_state *s;

	s = kzalloc(struct_size(s, slot, nr), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->nr = nr;
	for (i = 0; i < nr; i++) {
		init_waitqueue_head(&s->slot[i].wq);
		init_waitqueue_head(&s->slot[i].back);
		atomic_long_set(&s->slot[i].clock, 0);
	}
	run->priv = s;
	return 0;
}

static void lw_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct lw_state *s = lw_of(run);
	u64 waits = 0, slept = 0, timeouts = 0, lost = 0, skips = 0;
	unsigned int i;

	for (i = 1; i < s->nr; i++) {
		waits += s->slot[i].waits;
		slept += s->slot[i].slept;
		timeouts += s->slot[i].timeouts;
		lost += s->slot[i].lost;
		skips += s->slot[i].skips;
	}
	res->expected = waits;
	res->observed = waits - min(waits, lost);
	res->anomalies = lost;
	snprintf(res->extra, sizeof(res->extra),
		 "waits=%llu slept=%llu timeouts=%llu lost=%llu skipped_wakes=%llu timeout_ms=%d min_waits=%d",
		 waits, slept, timeouts, lost, skips, LW_TIMEOUT_MS,
		 LW_MIN_WAITS);
}

static void lw_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_lost_wakeup_scenario = {
	.name = "lost-wakeup",
	.about = "a wake-up that lands between the check and the sleep is lost",
	.modes = lw_modes,
	.nr_modes = ARRAY_SIZE(lw_modes),
	.step = lw_step,
	/* Thread 0 wakes, every other thread waits. */
	.min_threads = 2,
	.min_expected = LW_MIN_WAITS,
	/* On one CPU the waker runs only while the waiter sleeps in the window. */
	.plans = RACELAB_PLANS({ "auto", .racy_cpus = 2 },
			       { "sleep:100", .racy_cpus = 1 }),
	.one_cpu_amplifier = "sleep:100",
	.setup = lw_setup,
	.verdict = lw_verdict,
	.teardown = lw_teardown,
};

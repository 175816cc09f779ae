// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "priority-inversion": a high-priority thread waits for a
 * low-priority one, which waits for a medium-priority one that has nothing
 * to do with either.
 *
 * Three SCHED_FIFO kthreads share one CPU (RACELAB_SCN_ONE_CPU): low
 * (priority 1), medium (25) and high (50). Each round, low takes the lock
 * and cues medium; medium preempts low, cues high and spins; high preempts
 * medium and asks for the lock. With a plain mutex low is the owner, but
 * medium outranks it and keeps the CPU:
 *
 *   low (1)            medium (25)           high (50)
 *   mutex_lock()
 *   cue medium  ---->  cue high  ----------> mutex_lock(): sleeps
 *                      spin 200 us           (low owns it, low can't run)
 *                      done
 *   work 100 us, unlock -------------------> gets it: after medium's spin
 *
 * An rt_mutex lends high's priority to its owner while high waits
 * (priority inheritance): low runs at 50 over medium, unlocks, and high
 * gets the lock before medium spins.
 *
 * The anomaly is an ordering, not a duration: high got the lock after
 * medium had finished its spin (medium's round number, read by high once
 * it holds the lock). On one CPU the priorities decide that ordering
 * completely, on a fast host as on a slow one. The durations are
 * information only: hold_ns is low's own work under the lock, wait_ns
 * high's wait, excess_ns what the wait exceeded the hold by (about
 * medium's spin when inverted).
 *
 * RT throttling and the lockup detectors: every busy loop does 10 us steps,
 * calls cond_resched() and checks racelab_should_stop() between them; each
 * thread is SCHED_FIFO only inside its step (it goes back to SCHED_NORMAL
 * before returning), and low sleeps after each round for half as long as
 * the round kept the CPU: the three use 2/3 of it at most, below the 95%
 * sched_rt_runtime_us allows.
 *
 * No detector sees this: there is no data race (KCSAN), no lock-order or
 * context problem (lockdep), no memory error (KASAN).
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/rtmutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <uapi/linux/sched/types.h>

#include "racelab.h"

#define PRIO_HOLD_NS	(100 * NSEC_PER_USEC)	/* low's own work, locked */
#define PRIO_SPIN_NS	(200 * NSEC_PER_USEC)	/* medium's spin */
#define PRIO_STEP_NS	(10 * NSEC_PER_USEC)	/* one busy step */
#define PRIO_POLL_US	100	/* rt-trylock: sleep between two tries */
#define PRIO_GAP_MIN_US	50	/* low's sleep after a round, at least */
#define PRIO_GAP_MAX_US	5000	/* and at most */
#define PRIO_WAIT_MS	2	/* a sleep re-checks the run's end this often */

enum prio_role { PRIO_LOW, PRIO_MEDIUM, PRIO_HIGH, PRIO_ROLES };

struct prio_state {
	struct mutex mutex;		/* modes mutex, ceiling* */
	struct rt_mutex rt;		/* modes rt_mutex, rt-trylock */
	wait_queue_head_t wq[PRIO_ROLES];	/* each role sleeps on its own */
	/*
	 * Round numbers, each written by its role only: the round it is in
	 * (medium and high: waiting for their cue), its cue, and the round
	 * it finished.
	 */
	unsigned long round[PRIO_ROLES];
	unsigned long go[PRIO_ROLES];
	unsigned long done[PRIO_ROLES];
	/* High's record of the round, read by low once done[PRIO_HIGH] says. */
	bool inverted;
	u64 wait_ns;
	/* Low's tallies of the rounds that ran to their end. */
	u64 rounds;
	u64 anomalies;
	u64 wait_sum;
	u64 wait_max;
	u64 excess_sum;
	u64 excess_max;
};

/* Become @role: SCHED_FIFO at its priority. */
static void prio_become(enum prio_role role)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_FIFO,
		.sched_priority = MAX_RT_PRIO / 4,
	};

	switch (role) {
	case PRIO_LOW:
		sched_set_fifo_low(current);	/* 1 */
		break;
	case PRIO_MEDIUM:
		WARN_ON_ONCE(sched_setattr_nocheck(current, &attr));	/* 25 */
		break;
	case PRIO_HIGH:
	case PRIO_ROLES:
		sched_set_fifo(current);	/* 50 */
		break;
	}
}

/*
 * @ns of the caller's own work, in 10 us busy steps: a step stretched by a
 * preemption counts 20 us at most, the time between steps not at all.
 */
static void prio_busy(struct racelab_run *run, u64 ns)
{
	u64 done = 0, t0;

	while (done < ns && !racelab_should_stop(run)) {
		t0 = ktime_get_ns();
		ndelay(PRIO_STEP_NS);
		done += min_t(u64, ktime_get_ns() - t0, 2 * PRIO_STEP_NS);
		cond_resched();
	}
}

static bool prio_reached(const unsigned long *v, unsigned long r)
{
	/* Pairs with the smp_store_release() of a round number. */
	return (long)(smp_load_acquire(v) - r) >= 0;
}

/* Sleep until *@v reaches round @r; false if the run ends first. */
static bool prio_wait(struct racelab_run *run, wait_queue_head_t *wq,
		      const unsigned long *v, unsigned long r)
{
	while (!prio_reached(v, r)) {
		if (racelab_should_stop(run))
			return false;
		wait_event_idle_timeout(*wq, prio_reached(v, r) ||
					racelab_should_stop(run),
					msecs_to_jiffies(PRIO_WAIT_MS));
	}
	return true;
}

/*
 * A mode's locking: low's lock and unlock, high's. high_lock returns
 * false if the run ended before it got the lock.
 */
struct prio_ops {
	void (*low_lock)(struct prio_state *s);
	void (*low_unlock)(struct prio_state *s);
	bool (*high_lock)(struct racelab_run *run, struct prio_state *s);
	void (*high_unlock)(struct prio_state *s);
};

static void prio_mutex_lock(struct prio_state *s)
{
	mutex_lock(&s->mutex);
}

static void prio_mutex_unlock(struct prio_state *s)
{
	mutex_unlock(&s->mutex);
}

static bool prio_mutex_high_lock(struct racelab_run *run, struct prio_state *s)
{
	mutex_lock(&s->mutex);
	return true;
}

static void prio_rt_lock(struct prio_state *s)
{
	rt_mutex_lock(&s->rt);
}

static void prio_rt_unlock(struct prio_state *s)
{
	rt_mutex_unlock(&s->rt);
}

static bool prio_rt_high_lock(struct racelab_run *run, struct prio_state *s)
{
	rt_mutex_lock(&s->rt);
	return true;
}

/*
 * Looks fixed: it is an rt_mutex. But priority inheritance lends the
 * priority of a task blocked on the lock, and a task that polls with
 * rt_mutex_trylock() never blocks on it: the owner is never boosted.
 */
static bool prio_trylock_high_lock(struct racelab_run *run,
				   struct prio_state *s)
{
	while (!rt_mutex_trylock(&s->rt)) {
		if (racelab_should_stop(run))
			return false;
		usleep_range(PRIO_POLL_US, 2 * PRIO_POLL_US);
	}
	return true;
}

/* Priority ceiling by hand: low runs at high's priority around the lock. */
static void prio_ceiling_lock(struct prio_state *s)
{
	prio_become(PRIO_HIGH);
	mutex_lock(&s->mutex);
}

static void prio_ceiling_unlock(struct prio_state *s)
{
	mutex_unlock(&s->mutex);
	prio_become(PRIO_LOW);
}

/*
 * Looks the same, releases in the other order: back to its own priority
 * with the lock still held, low is preempted by medium right there.
 */
static void prio_ceiling_drop_first_unlock(struct prio_state *s)
{
	prio_become(PRIO_LOW);
	mutex_unlock(&s->mutex);
}

/* Low's tally of a round that ran to its end. */
static void prio_count(struct racelab_run *run, struct prio_state *s)
{
	u64 wait = READ_ONCE(s->wait_ns);
	u64 excess = wait > PRIO_HOLD_NS ? wait - PRIO_HOLD_NS : 0;

	s->rounds++;
	if (READ_ONCE(s->inverted)) {
		s->anomalies++;
		racelab_anomaly(run);
	}
	s->wait_sum += wait;
	s->wait_max = max(s->wait_max, wait);
	s->excess_sum += excess;
	s->excess_max = max(s->excess_max, excess);
}

/* Low: takes the lock, cues medium, works, unlocks; then sleeps. */
static bool prio_low(struct racelab_run *run, struct prio_state *s)
{
	const struct prio_ops *ops = run->mode->ops;
	unsigned long r = s->round[PRIO_LOW] + 1;
	u64 t0, busy_us;
	bool ok;

	s->round[PRIO_LOW] = r;
	/* Medium and high are FIFO and asleep, waiting for their cue. */
	if (!prio_wait(run, &s->wq[PRIO_LOW], &s->round[PRIO_MEDIUM], r) ||
	    !prio_wait(run, &s->wq[PRIO_LOW], &s->round[PRIO_HIGH], r))
		return false;
	prio_become(PRIO_LOW);
	t0 = ktime_get_ns();
	ops->low_lock(s);
	/* Medium's cue: it preempts us here, unless we run above it. */
	smp_store_release(&s->go[PRIO_MEDIUM], r);
	wake_up(&s->wq[PRIO_MEDIUM]);
	prio_busy(run, PRIO_HOLD_NS);
	ops->low_unlock(s);
	ok = prio_wait(run, &s->wq[PRIO_LOW], &s->done[PRIO_MEDIUM], r) &&
	     prio_wait(run, &s->wq[PRIO_LOW], &s->done[PRIO_HIGH], r);
	busy_us = div_u64(ktime_get_ns() - t0, NSEC_PER_USEC);
	sched_set_normal(current, 0);
	if (!ok)
		return false;
	prio_count(run, s);
	/* Off the CPU half as long as the round held it: FIFO below 2/3. */
	busy_us = clamp_t(u64, busy_us / 2, PRIO_GAP_MIN_US, PRIO_GAP_MAX_US);
	usleep_range(busy_us, busy_us + PRIO_GAP_MIN_US);
	return true;
}

/* Medium: on its cue, cues high, then spins. */
static bool prio_medium(struct racelab_run *run, struct prio_state *s)
{
	unsigned long r = s->round[PRIO_MEDIUM] + 1;
	bool ok;

	prio_become(PRIO_MEDIUM);
	/* Ready, and FIFO already: low may go. */
	smp_store_release(&s->round[PRIO_MEDIUM], r);
	wake_up(&s->wq[PRIO_LOW]);
	ok = prio_wait(run, &s->wq[PRIO_MEDIUM], &s->go[PRIO_MEDIUM], r);
	if (ok) {
		/* High preempts us here. */
		smp_store_release(&s->go[PRIO_HIGH], r);
		wake_up(&s->wq[PRIO_HIGH]);
		prio_busy(run, PRIO_SPIN_NS);
		/* Spun: high, once it holds the lock, reads this. */
		smp_store_release(&s->done[PRIO_MEDIUM], r);
		wake_up(&s->wq[PRIO_LOW]);
	}
	sched_set_normal(current, 0);
	return ok;
}

/* High: on its cue, asks for the lock; notes whether medium ran first. */
static bool prio_high(struct racelab_run *run, struct prio_state *s)
{
	const struct prio_ops *ops = run->mode->ops;
	unsigned long r = s->round[PRIO_HIGH] + 1;
	bool ok;
	u64 t0 = 0;

	prio_become(PRIO_HIGH);
	/* Ready, and FIFO already: low may go. */
	smp_store_release(&s->round[PRIO_HIGH], r);
	wake_up(&s->wq[PRIO_LOW]);
	ok = prio_wait(run, &s->wq[PRIO_HIGH], &s->go[PRIO_HIGH], r);
	if (ok) {
		t0 = ktime_get_ns();
		ok = ops->high_lock(run, s);
	}
	if (ok) {
		WRITE_ONCE(s->wait_ns, ktime_get_ns() - t0);
		/* Medium's spin ended while we waited for low: inverted. */
		WRITE_ONCE(s->inverted,
			   prio_reached(&s->done[PRIO_MEDIUM], r));
		ops->high_unlock(s);
		/* Publishes wait_ns and inverted to low. */
		smp_store_release(&s->done[PRIO_HIGH], r);
		wake_up(&s->wq[PRIO_LOW]);
	}
	sched_set_normal(current, 0);
	return ok;
}

static bool prio_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct prio_state *s = run->priv;

	switch (t->id) {
	case PRIO_LOW:
		return prio_low(run, s);
	case PRIO_MEDIUM:
		return prio_medium(run, s);
	default:
		return prio_high(run, s);
	}
}

static const struct racelab_mode prio_modes[] = {
	{
		.name = "mutex", .kind = RACELAB_RACY,
		.about = "a mutex: medium outruns its owner, high waits for both",
		.ops = &(const struct prio_ops) {
			.low_lock = prio_mutex_lock,
			.low_unlock = prio_mutex_unlock,
			.high_lock = prio_mutex_high_lock,
			.high_unlock = prio_mutex_unlock,
		},
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "rt-trylock", .kind = RACELAB_BROKEN_FIX,
		.about = "an rt_mutex polled with rt_mutex_trylock(): no waiter, no inheritance",
		.ops = &(const struct prio_ops) {
			.low_lock = prio_rt_lock,
			.low_unlock = prio_rt_unlock,
			.high_lock = prio_trylock_high_lock,
			.high_unlock = prio_rt_unlock,
		},
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "ceiling-drop-first", .kind = RACELAB_BROKEN_FIX,
		.about = "low at high's priority around a mutex, but drops it before unlocking",
		.ops = &(const struct prio_ops) {
			.low_lock = prio_ceiling_lock,
			.low_unlock = prio_ceiling_drop_first_unlock,
			.high_lock = prio_mutex_high_lock,
			.high_unlock = prio_mutex_unlock,
		},
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "rt_mutex", .kind = RACELAB_FIXED,
		.about = "an rt_mutex: priority inheritance runs the owner at high's priority",
		.ops = &(const struct prio_ops) {
			.low_lock = prio_rt_lock,
			.low_unlock = prio_rt_unlock,
			.high_lock = prio_rt_high_lock,
			.high_unlock = prio_rt_unlock,
		},
	},
	{
		.name = "ceiling", .kind = RACELAB_FIXED,
		.about = "priority ceiling by hand: low at high's priority, lock to unlock",
		.ops = &(const struct prio_ops) {
			.low_lock = prio_ceiling_lock,
			.low_unlock = prio_ceiling_unlock,
			.high_lock = prio_mutex_high_lock,
			.high_unlock = prio_mutex_unlock,
		},
	},
};

static int prio_setup(struct racelab_run *run)
{
	struct prio_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	unsigned int i;

	if (!s)
		return -ENOMEM;
	mutex_init(&s->mutex);
	rt_mutex_init(&s->rt);
	for (i = 0; i < PRIO_ROLES; i++)
		init_waitqueue_head(&s->wq[i]);
	run->priv = s;
	return 0;
}

/* Every round high must get the lock before medium's spin ends. */
static void prio_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct prio_state *s = run->priv;
	u64 n = max_t(u64, s->rounds, 1);

	res->expected = s->rounds;
	res->observed = s->rounds - s->anomalies;
	res->anomalies = s->anomalies;
	snprintf(res->extra, sizeof(res->extra),
		 "cpu=%d hold_ns=%llu medium_ns=%llu wait_ns=%llu wait_max_ns=%llu excess_ns=%llu excess_max_ns=%llu",
		 run->thr[0].cpu, (u64)PRIO_HOLD_NS, (u64)PRIO_SPIN_NS,
		 div64_u64(s->wait_sum, n), s->wait_max,
		 div64_u64(s->excess_sum, n), s->excess_max);
}

static void prio_teardown(struct racelab_run *run)
{
	struct prio_state *s = run->priv;

	if (s)
		mutex_destroy(&s->mutex);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_prio_inversion_scenario = {
	.name = "priority-inversion",
	.about = "a medium-priority spinner delays a high-priority lock waiter",
	/* Fixed window: the priorities order everything on one CPU. */
	.flags = RACELAB_SCN_ONE_CPU | RACELAB_SCN_NO_AMP,
	.modes = prio_modes,
	.nr_modes = ARRAY_SIZE(prio_modes),
	.step = prio_step,
	.plans = RACELAB_PLANS({ "none" }),
	.one_cpu_amplifier = "none",
	.detect_amplifier = "none",
	.min_threads = PRIO_ROLES,
	.max_threads = PRIO_ROLES,
	.setup = prio_setup,
	.verdict = prio_verdict,
	.teardown = prio_teardown,
};

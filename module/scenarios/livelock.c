// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "livelock": two threads that both keep trying and neither gets
 * anywhere.
 *
 * Each of two threads needs locks A and B. Thread 0 takes A and tries B,
 * thread 1 takes B and tries A; a thread whose trylock fails releases its
 * first lock and tries again at once. Nothing ever blocks for good (no
 * deadlock, lockdep has nothing to say: a trylock adds no dependency), yet
 * the two can fail in step, round after round:
 *
 *   thread 0                   thread 1
 *   lock(A)                    lock(B)
 *   trylock(B) fails           trylock(A) fails
 *   unlock(A)                  unlock(B)
 *   lock(A)                    lock(B)          <- the same again
 *
 * A round, counted without a clock, is a stretch of attempts that ends
 * either with a success (someone took both locks: progress) or as soon as
 * both threads have failed since the last round ended: a dead round. Each
 * attempt is accounted while its thread still holds one of the two locks,
 * so the accounting order is the real order of successes and failures. A
 * correct wound/wait protocol can give two dead rounds in a row (a wound
 * left over from a transaction that has since finished, then an -EDEADLK
 * that CONFIG_DEBUG_WW_MUTEX_SLOWPATH injects), never three: the older
 * transaction fails at most those two times before it wins. The anomaly
 * is a dead round that follows LL_GRACE_ROUNDS dead rounds with no
 * success in between: the retry repeated the collision. The progress rate
 * (successes per attempt) is in the verdict.
 *
 * Mutexes, not spinlocks: a mutex holder can be preempted, so the
 * collisions happen on one CPU too (a thread burns its time slice against
 * a lock its preempted partner holds), and a sleeping window is allowed.
 */
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/ww_mutex.h>

#include "racelab.h"

#define LL_THREADS	2
#define LL_GRACE_ROUNDS	2	/* dead rounds in a row a correct fix may show */
#define LL_BACKOFF_NS	2000	/* the fixed back-off; random: 0 to 2x */

static DEFINE_WW_CLASS(ll_ww_class);

struct ll_state {
	struct mutex a, b;		/* modes none, *-backoff, ordered */
	struct ww_mutex wa, wb;		/* mode ww-mutex */
	spinlock_t acct;		/* the round accounting below */
	u64 successes, failures;
	u64 dead_rounds, livelocked;	/* dead rounds; those past the grace */
	unsigned int failed;		/* threads failed this round, a bit each */
	unsigned int streak, max_streak;	/* dead rounds in a row */
	long done;			/* critical sections, under A and B */
};

/* Account one attempt; called with one of the two locks still held. */
static void ll_account(struct racelab_run *run, struct ll_state *s,
		       unsigned int id, bool success)
{
	bool anomaly = false;

	spin_lock(&s->acct);
	if (success) {
		s->successes++;
		s->failed = 0;
		s->streak = 0;
	} else {
		s->failures++;
		s->failed |= BIT(id);
		if (s->failed == BIT(LL_THREADS) - 1) {
			s->failed = 0;
			s->dead_rounds++;
			s->streak++;
			s->max_streak = max(s->max_streak, s->streak);
			if (s->streak > LL_GRACE_ROUNDS) {
				s->livelocked++;
				anomaly = true;
			}
		}
	}
	spin_unlock(&s->acct);
	if (anomaly)
		racelab_anomaly(run);
}

/* Holding A and B: the work both locks protect. */
static void ll_critical(struct ll_state *s)
{
	s->done++;
}

/* How a mode backs off after a failed trylock, with no lock held. */
enum ll_backoff { LL_NONE, LL_FIXED, LL_RANDOM };

/*
 * Take the first lock, try the second; on failure release and retry, after
 * the mode's back-off. Returns false if the run ended first.
 */
static bool ll_trylock_step(struct racelab_run *run, struct racelab_thread *t,
			    enum ll_backoff backoff)
{
	struct ll_state *s = run->priv;
	struct mutex *first = t->id & 1 ? &s->b : &s->a;
	struct mutex *second = t->id & 1 ? &s->a : &s->b;

	while (!racelab_should_stop(run)) {
		mutex_lock(first);
		racelab_window(t);
		if (mutex_trylock(second)) {
			ll_account(run, s, t->id & 1, true);
			ll_critical(s);
			mutex_unlock(second);
			mutex_unlock(first);
			return true;
		}
		ll_account(run, s, t->id & 1, false);
		mutex_unlock(first);
		if (backoff == LL_FIXED)
			ndelay(LL_BACKOFF_NS);
		else if (backoff == LL_RANDOM)
			ndelay(get_random_u32_below(2 * LL_BACKOFF_NS));
		/*
		 * Without preemption the other thread, asleep in its window
		 * with the lock we want, could never run again.
		 */
		cond_resched();
	}
	return false;
}

static noinline bool ll_none_step(struct racelab_run *run,
				  struct racelab_thread *t)
{
	return ll_trylock_step(run, t, LL_NONE);
}

static noinline bool ll_fixed_backoff_step(struct racelab_run *run,
					   struct racelab_thread *t)
{
	return ll_trylock_step(run, t, LL_FIXED);
}

static noinline bool ll_random_backoff_step(struct racelab_run *run,
					    struct racelab_thread *t)
{
	return ll_trylock_step(run, t, LL_RANDOM);
}

/* One global order: A, then B, both blocking. Nothing ever fails. */
static noinline bool ll_ordered_step(struct racelab_run *run,
				     struct racelab_thread *t)
{
	struct ll_state *s = run->priv;

	mutex_lock(&s->a);
	racelab_window(t);
	mutex_lock(&s->b);
	ll_account(run, s, t->id & 1, true);
	ll_critical(s);
	mutex_unlock(&s->b);
	mutex_unlock(&s->a);
	return true;
}

/*
 * Wound/wait: each thread locks in its own order inside an acquire
 * context. On -EDEADLK (wounded by an older context, or injected by
 * CONFIG_DEBUG_WW_MUTEX_SLOWPATH) it drops what it holds, sleeps on the
 * contended lock with ww_mutex_lock_slow() and goes on from there. The
 * context keeps its stamp across retries, so it gets older than any
 * newcomer and ends up winning.
 */
static noinline bool ll_ww_step(struct racelab_run *run,
				struct racelab_thread *t)
{
	struct ll_state *s = run->priv;
	struct ww_mutex *first = t->id & 1 ? &s->wb : &s->wa;
	struct ww_mutex *second = t->id & 1 ? &s->wa : &s->wb;
	struct ww_acquire_ctx ctx;
	bool done = false;

	ww_acquire_init(&ctx, &ll_ww_class);
	/* Acquire context is uncontended: it never fails. */
	ww_mutex_lock(first, &ctx);
	while (!racelab_should_stop(run)) {
		racelab_window(t);
		if (!ww_mutex_lock(second, &ctx)) {
			ww_acquire_done(&ctx);
			ll_account(run, s, t->id & 1, true);
			ll_critical(s);
			ww_mutex_unlock(second);
			done = true;
			break;
		}
		/* -EDEADLK: back off, then wait for the contended lock. */
		ll_account(run, s, t->id & 1, false);
		ww_mutex_unlock(first);
		ww_mutex_lock_slow(second, &ctx);
		swap(first, second);
	}
	ww_mutex_unlock(first);
	ww_acquire_fini(&ctx);
	return done;
}

static const struct racelab_mode ll_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "lock(first), trylock(second), on failure unlock and retry at once",
		.step = ll_none_step,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "fixed-backoff", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "the same, waiting 2 us after a failure: both wait alike, still in step",
		.step = ll_fixed_backoff_step,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "random-backoff", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "random 0-4 us back-off: probabilistic, repeats rare, not impossible",
		.step = ll_random_backoff_step,
	},
	{
		.name = "ordered", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "one global order, A then B, both blocking: nothing to retry",
		.step = ll_ordered_step,
	},
	{
		.name = "ww-mutex", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "ww_mutex wound/wait: -EDEADLK, back off, ww_mutex_lock_slow()",
		.step = ll_ww_step,
	},
};

static int ll_setup(struct racelab_run *run)
{
	struct ll_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	mutex_init(&s->a);
	mutex_init(&s->b);
	ww_mutex_init(&s->wa, &ll_ww_class);
	ww_mutex_init(&s->wb, &ll_ww_class);
	spin_lock_init(&s->acct);
	run->priv = s;
	return 0;
}

/*
 * Expected: the rounds (successes and dead rounds); observed: those that
 * were no livelock. The progress rate is successes per attempt.
 */
static void ll_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct ll_state *s = run->priv;
	u64 attempts = s->successes + s->failures;
	u64 rate = attempts ? div64_u64(s->successes * 10000, attempts) : 0;
	u32 rem;

	res->expected = s->successes + s->dead_rounds;
	res->observed = res->expected - s->livelocked;
	res->anomalies = s->livelocked + (s->done != s->successes);
	rate = div_u64_rem(rate, 100, &rem);
	snprintf(res->extra, sizeof(res->extra),
		 "attempts=%llu successes=%llu dead_rounds=%llu livelock_rounds=%llu max_dead_in_a_row=%u grace=%d progress_pct=%llu.%02u",
		 attempts, s->successes, s->dead_rounds, s->livelocked,
		 s->max_streak, LL_GRACE_ROUNDS, rate, rem);
}

static void ll_teardown(struct racelab_run *run)
{
	struct ll_state *s = run->priv;

	if (!s)
		return;
	mutex_destroy(&s->a);
	mutex_destroy(&s->b);
	ww_mutex_destroy(&s->wa);
	ww_mutex_destroy(&s->wb);
	kfree(s);
	run->priv = NULL;
}

/*
 * ww_mutex's own data race: __ww_mutex_wound() sets the holder's
 * ctx->wounded with a plain store while the holder reads it in its own
 * __ww_mutex_lock() (6.12), which KCSAN reports now and then in the fixed
 * mode. The kernel's race, on the kernel's side of the API: these are the
 * functions its reports name.
 */
static const char *const ll_kcsan_kernel[] = {
	"__ww_mutex_lock", "__ww_mutex_wound", "__ww_mutex_check_kill",
	"__ww_mutex_add_waiter", "__ww_mutex_die", "ww_mutex_lock", NULL
};

const struct racelab_scenario racelab_livelock_scenario = {
	.name = "livelock",
	.about = "two threads take their first lock, trylock the second, release and retry in step",
	.modes = ll_modes,
	.nr_modes = ARRAY_SIZE(ll_modes),
	.min_threads = LL_THREADS,
	.max_threads = LL_THREADS,
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 },
			       { "delay:1000", .racy_cpus = 2 }),
	.detect_amplifier = "none",
	.kcsan_kernel = ll_kcsan_kernel,
	.setup = ll_setup,
	.verdict = ll_verdict,
	.teardown = ll_teardown,
};

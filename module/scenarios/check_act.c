// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "check-then-act": two ATMs withdrawing from one account, two
 * passengers booking one seat.
 *
 * A pool holds `capacity` units: an account of 100 from which an ATM takes
 * 60, a flight with one free seat. A taker checks that enough is left,
 * then takes it, then gives it back (the next customer). If the check and
 * the act are not one indivisible step, two takers both pass the check:
 *
 *   ATM 0                    ATM 1
 *   if (balance >= 60)       if (balance >= 60)      both see 100
 *       balance -= 60;           balance -= 60;      -20: paid out 120
 *
 * The amplifier widens both the gap between check and act and the time the
 * taker holds what it took. Invariants, checked at every take: the units
 * held by takers never exceed the capacity (money paid out <= deposit, a
 * seat sold once) and the pool
 * never goes below zero.
 *
 * `split-lock` takes a lock for the check and again for the act: every
 * access is locked, so there is no data race (KCSAN stays silent), and the
 * invariant still breaks. Data race is a subset of race condition.
 */
#include <linux/atomic.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

struct ca_pool {
	struct racelab_run *run;
	const char *name;
	long capacity;
	long amount;		/* units one take needs */
	long avail;		/* plain: modes none, split-lock, spinlock */
	atomic_long_t aavail;	/* mode cmpxchg */
	atomic_long_t held;	/* units in takers' hands */
	atomic_long_t takes;
	atomic_long_t over;	/* takes that pushed held above capacity */
	atomic_long_t below_zero; /* acts that left avail < 0 */
};

struct ca_state {
	spinlock_t lock;	/* modes split-lock and spinlock */
	struct ca_pool pool[2];
	bool ok[RACELAB_SCRIPT_THREADS];	/* a replayed thread's check */
};

enum { CA_ACCOUNT, CA_SEAT };

static struct ca_state *ca_of(struct racelab_run *run)
{
	return run->priv;
}

/* The taker now holds the units: check the invariants. */
static void ca_took(struct ca_pool *p, long left)
{
	atomic_long_inc(&p->takes);
	if (atomic_long_add_return(p->amount, &p->held) > p->capacity) {
		atomic_long_inc(&p->over);
		racelab_anomaly(p->run);
	}
	if (left < 0)
		atomic_long_inc(&p->below_zero);
}

static void ca_untook(struct ca_pool *p)
{
	atomic_long_sub(p->amount, &p->held);
}

/*
 * The act and the give-back are each one locked step in every lock mode,
 * so the pool itself never loses an update: what breaks is only the
 * check-then-act. Always inlined, so a KCSAN report names the mode.
 */
static __always_inline void ca_act_locked(struct ca_state *s,
					  struct ca_pool *p)
{
	long left;

	spin_lock(&s->lock);
	left = p->avail - p->amount;
	p->avail = left;
	spin_unlock(&s->lock);
	ca_took(p, left);
}

static __always_inline void ca_give_locked(struct ca_state *s,
					   struct ca_pool *p)
{
	ca_untook(p);
	spin_lock(&s->lock);
	p->avail += p->amount;
	spin_unlock(&s->lock);
}

/* The check is a plain read, racing with the locked acts of others. */
static noinline bool ca_none_take(struct ca_state *s, struct ca_pool *p,
				  struct racelab_thread *t)
{
	if (p->avail < p->amount)
		return false;
	racelab_window(t);
	ca_act_locked(s, p);
	return true;
}

static noinline void ca_none_give(struct ca_state *s, struct ca_pool *p)
{
	ca_give_locked(s, p);
}

static noinline bool ca_split_lock_take(struct ca_state *s, struct ca_pool *p,
					struct racelab_thread *t)
{
	bool enough;

	spin_lock(&s->lock);
	enough = p->avail >= p->amount;
	spin_unlock(&s->lock);
	if (!enough)
		return false;
	racelab_window(t);
	ca_act_locked(s, p);
	return true;
}

static noinline bool ca_spinlock_take(struct ca_state *s, struct ca_pool *p,
				      struct racelab_thread *t)
{
	long left;

	spin_lock(&s->lock);
	if (p->avail < p->amount) {
		spin_unlock(&s->lock);
		return false;
	}
	racelab_window(t);
	left = p->avail - p->amount;
	p->avail = left;
	spin_unlock(&s->lock);
	ca_took(p, left);
	return true;
}

static noinline void ca_locked_give(struct ca_state *s, struct ca_pool *p)
{
	ca_give_locked(s, p);
}

static long ca_locked_left(struct ca_pool *p)
{
	return p->avail;
}

/*
 * The check is part of the compare-and-swap: it only succeeds if nobody
 * changed the balance since it was checked. atomic_dec_if_positive() and
 * atomic_add_unless() would do for takes of 1 (the seat), not of 60.
 */
static noinline bool ca_cmpxchg_take(struct ca_state *s, struct ca_pool *p,
				     struct racelab_thread *t)
{
	long old = atomic_long_read(&p->aavail);

	do {
		if (old < p->amount || racelab_should_stop(t->run))
			return false;
		racelab_window(t);
	} while (!atomic_long_try_cmpxchg(&p->aavail, &old, old - p->amount));
	ca_took(p, old - p->amount);
	return true;
}

static noinline void ca_cmpxchg_give(struct ca_state *s, struct ca_pool *p)
{
	ca_untook(p);
	/*
	 * The units leave the taker's hands before they are back in the
	 * pool: a taker that gets them must not count them held twice.
	 */
	smp_mb__before_atomic();
	atomic_long_add(p->amount, &p->aavail);
}

static long ca_cmpxchg_left(struct ca_pool *p)
{
	return atomic_long_read(&p->aavail);
}

/* One mode's way to take from and give back to a pool. */
struct ca_ops {
	bool (*take)(struct ca_state *s, struct ca_pool *p,
		     struct racelab_thread *t);
	void (*give)(struct ca_state *s, struct ca_pool *p);
	long (*left)(struct ca_pool *p);	/* what the pool holds */
};

/* Every customer tries the ATM, then the seat. */
static bool ca_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct ca_ops *ops = run->mode->ops;
	struct ca_state *s = ca_of(run);
	int i;

	for (i = 0; i < ARRAY_SIZE(s->pool); i++) {
		if (ops->take(s, &s->pool[i], t)) {
			racelab_window(t);	/* the customer holds it */
			ops->give(s, &s->pool[i]);
		}
	}
	return true;
}

static const struct racelab_mode ca_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "plain check of the balance, then a locked withdrawal",
		.ops = &(const struct ca_ops) {
			.take = ca_none_take, .give = ca_none_give,
			.left = ca_locked_left,
		},
		/* Unamplified it showed in 18 of 20 one-second runs. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "ca_none_take|ca_none_give",
		},
	},
	{
		.name = "split-lock", .kind = RACELAB_BROKEN_FIX,
		.about = "check under the lock, act under it again: no data race, still wrong",
		.ops = &(const struct ca_ops) {
			.take = ca_split_lock_take, .give = ca_locked_give,
			.left = ca_locked_left,
		},
		/* Unamplified: 0-15 anomalies a second on 6.1-rt. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_SERIAL_WINDOW,
		.about = "check and act in one critical section",
		.ops = &(const struct ca_ops) {
			.take = ca_spinlock_take, .give = ca_locked_give,
			.left = ca_locked_left,
		},
	},
	{
		.name = "cmpxchg", .kind = RACELAB_FIXED,
		.about = "atomic_long_try_cmpxchg() loop that checks balance >= amount",
		.ops = &(const struct ca_ops) {
			.take = ca_cmpxchg_take, .give = ca_cmpxchg_give,
			.left = ca_cmpxchg_left,
		},
	},
};

static int ca_setup(struct racelab_run *run)
{
	static const struct {
		const char *name;
		long capacity, amount;
	} pools[] = {
		[CA_ACCOUNT] = { "account", 100, 60 },
		[CA_SEAT] = { "seat", 1, 1 },
	};
	struct ca_state *s;
	int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	spin_lock_init(&s->lock);
	for (i = 0; i < ARRAY_SIZE(pools); i++) {
		struct ca_pool *p = &s->pool[i];

		p->run = run;
		p->name = pools[i].name;
		p->capacity = pools[i].capacity;
		p->amount = pools[i].amount;
		p->avail = p->capacity;
		atomic_long_set(&p->aavail, p->capacity);
	}
	run->priv = s;
	return 0;
}

static void ca_verdict(struct racelab_run *run, struct racelab_result *res)
{
	const struct ca_ops *ops = run->mode->ops;
	struct ca_state *s = ca_of(run);
	struct ca_pool *a = &s->pool[CA_ACCOUNT], *seat = &s->pool[CA_SEAT];
	u64 takes = atomic_long_read(&a->takes) + atomic_long_read(&seat->takes);
	u64 bad = atomic_long_read(&a->over) + atomic_long_read(&seat->over);

	res->expected = takes;
	res->observed = takes - bad;
	res->anomalies = bad;
	/*
	 * Every take was given back: a pool that does not hold its capacity
	 * at the end lost an update, a different race from check-then-act.
	 */
	snprintf(res->extra, sizeof(res->extra),
		 "withdrawals=%ld overdrawn=%ld below_zero=%ld bookings=%ld sold_twice=%ld account_end=%ld seat_end=%ld",
		 atomic_long_read(&a->takes), atomic_long_read(&a->over),
		 atomic_long_read(&a->below_zero), atomic_long_read(&seat->takes),
		 atomic_long_read(&seat->over), ops->left(a), ops->left(seat));
}

static void ca_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

/*
 * Replay on the account: C checks the balance, A withdraws if the check
 * said yes. The deposit covers one withdrawal.
 */
static void ca_script_exec(struct racelab_run *run, unsigned int thread,
			   char step)
{
	struct ca_state *s = ca_of(run);
	struct ca_pool *p = &s->pool[CA_ACCOUNT];

	if (step == 'C') {
		s->ok[thread] = p->avail >= p->amount;
	} else if (step == 'A' && s->ok[thread]) {
		p->avail -= p->amount;
		ca_took(p, p->avail);
	}
}

static void ca_script_verdict(struct racelab_run *run,
			      struct racelab_result *res)
{
	struct ca_pool *p = &ca_of(run)->pool[CA_ACCOUNT];

	res->expected = p->capacity / p->amount;
	res->observed = atomic_long_read(&p->takes);
	res->anomalies = atomic_long_read(&p->over);
	snprintf(res->extra, sizeof(res->extra), "withdrawals=%ld balance=%ld",
		 atomic_long_read(&p->takes), p->avail);
}

/* The tests' oracle: a 100 balance, checks and withdrawals of 60. */
static void ca_model_init(struct racelab_script_model *m)
{
	m->shared = 100;
}

static void ca_model_step(struct racelab_script_model *m, unsigned int thread,
			  char step)
{
	if (step == 'C') {
		m->local[thread] = m->shared >= 60;
	} else if (m->local[thread]) {
		m->shared -= 60;
		m->done++;
	}
}

static void ca_model_result(const struct racelab_script_model *m,
			    u64 *observed, bool *anomaly)
{
	*observed = m->done;
	*anomaly = m->done > 1;
}

static const struct racelab_script_ops ca_script = {
	.steps = "CA",
	.exec = ca_script_exec,
	.verdict = ca_script_verdict,
	.model_init = ca_model_init,
	.model_step = ca_model_step,
	.model_result = ca_model_result,
};

const struct racelab_scenario racelab_check_act_scenario = {
	.name = "check-then-act",
	.about = "two ATMs, one account; two passengers, one seat",
	.script = &ca_script,
	.knobs = (const struct racelab_knob *const[]) {
		&racelab_knob_schedule, NULL,
	},
	.modes = ca_modes,
	.nr_modes = ARRAY_SIZE(ca_modes),
	/* Every take is given back in one step: the pools end full. */
	.always = "account_end=100 seat_end=1",
	/* One CPU shows the unamplified check-then-act too slowly. */
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 }, { "delay:1000" },
			       { "sleep" }),
	.step = ca_step,
	.setup = ca_setup,
	.verdict = ca_verdict,
	.teardown = ca_teardown,
};

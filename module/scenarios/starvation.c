// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "starvation": a writer that readers never let in.
 *
 * Thread 0 writes (a pair of words that must agree, b == ~a) under the
 * write side of a reader/writer lock; the other threads read under the
 * read side. A reader-preferring lock lets a reader in whenever no writer
 * is inside, so while read sections overlap the lock is never free and
 * the writer waits for as long as they do:
 *
 *   reader                        writer
 *   read_lock() (count 1)
 *                                 write_lock(): count != 0, wait
 *   read_lock() again (count 2)   (a reader is inside: refused)
 *   read_unlock() (count 1)       (refused)
 *   read_lock() again (count 2)   (refused) ... for ever
 *
 * Readers overlap here by construction, so that one reader thread is
 * enough: each pass takes the read side for the next pass (a trylock)
 * before it leaves the current one, up to SV_CHAIN passes, then leaves and
 * comes back. A fair lock refuses that trylock once a writer waits, and
 * the reader leaves and queues behind the writer.
 *
 * The bound is counted in reader passes, never in time. An overtake is a
 * reader entry that overlaps another read section, made after the lock
 * had already refused someone during the writer's current wait, before
 * the writer got in. The refusal is the proof that the writer's request
 * was known to the lock: the writer's own failed attempt where the lock
 * does not queue writers, or a reader's failed trylock where it does. An
 * arrival stamp taken before calling the lock proves nothing: a writer
 * stalled between that stamp and the lock's own queueing (a preempted or
 * descheduled vCPU) lets any number of readers by, with a fair lock too.
 * A writer wait that more than SV_BOUND passes overtake, or that ends
 * without the lock (given up when the run ends), is the anomaly. With the
 * queued locks (rw_semaphore, rwlock_t in process context) a reader that
 * arrives after the writer is queued waits, or takes a lock that no
 * reader holds (an rwsem "steal", allowed until its hand-off, counted
 * apart as steals): never an overtake. The writer's wait in all passes
 * since it arrived, and in ns, is reported as information.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

#define SV_CHAIN	64	/* passes a reader chains before it leaves */
#define SV_BOUND	16	/* overtakes a waiting writer may see */
#define SV_PACE_NS	500	/* writer pause between writes */
#define SV_MAX_RETRIES	1000	/* a seqlock reader gives up after this */

/* The hand-rolled lock word: readers inside, and two writer bits. */
#define SV_WRITER	BIT(30)	/* a writer is inside */
#define SV_WAITING	BIT(29)	/* mode writer-flag: a writer waits */

struct sv_obj {
	unsigned long a, b;
	struct rcu_head rcu;
};

struct sv_state {
	unsigned long a, b;		/* the data: b == ~a */
	atomic_t rp;			/* modes reader-pref, writer-flag */
	struct rw_semaphore rwsem;	/* mode rwsem */
	rwlock_t rwlock;		/* modes rwlock, rwlock-trylock */
	seqlock_t seqlock;		/* mode seqlock */
	struct sv_obj __rcu *cur;	/* mode rcu */
	unsigned int since_gp;		/* mode rcu: kfree_rcu() since a wait */
	/* The writer's current wait, as readers see it. */
	unsigned long wgen;		/* number of the current wait */
	unsigned long wdone;		/* last wait that ended */
	unsigned long refused;		/* last wait a refusal proved */
	atomic_long_t passes, overtakes, steals, refusals, torn, gave_up;
	atomic_t inside;		/* reader threads holding the read side */
	/* Written by the writer only. */
	unsigned long waits, starved, abandoned, max_overtakes;
	unsigned long max_wait_passes;
	u64 max_wait_ns;
};

/*
 * One mode's lock. Lock modes give the read side (a blocking entry, a
 * chained trylock that records its refusal of wait @g, an unlock) and the
 * write side (false: given up, the run is over); modes without a read-side
 * lock give a whole write instead.
 */
struct sv_ops {
	bool (*rlock)(struct sv_state *s, struct racelab_run *run,
		      unsigned long g);
	bool (*rtrylock)(struct sv_state *s, unsigned long g);
	void (*runlock)(struct sv_state *s);
	bool (*wlock)(struct sv_state *s, struct racelab_run *run);
	void (*wunlock)(struct sv_state *s);
	bool (*read)(struct sv_state *s, struct racelab_thread *t);
	void (*write)(struct sv_state *s, unsigned long g);
};

/*
 * Before an entry: the current wait @g, and whether a refusal already
 * proved it known to the lock while it is still going on. Acquire: the
 * entry that follows sees the lock as the refusal saw it, or later.
 */
static bool sv_proof(struct sv_state *s, unsigned long *g)
{
	unsigned long refused;

	/* Pairs with smp_store_release() in sv_write(). */
	*g = smp_load_acquire(&s->wgen);
	/* Pairs with smp_store_release() in sv_refusal(). */
	refused = smp_load_acquire(&s->refused);
	return refused == *g && READ_ONCE(s->wdone) < *g;
}

/* A refused attempt on wait @g; returns the attempt's result, false. */
static bool sv_refusal(struct sv_state *s, unsigned long g)
{
	atomic_long_inc(&s->refusals);
	if (READ_ONCE(s->wdone) >= g || READ_ONCE(s->refused) == g)
		return false;
	/* After the failed attempt: pairs with sv_proof(). */
	smp_store_release(&s->refused, g);
	return false;
}

/* A reader got in: an overtake if wait @g was proven and still goes on. */
static void sv_entered(struct sv_state *s, unsigned long g, bool proof,
		       bool overlap)
{
	atomic_long_inc(&s->passes);
	/* Not if wait @g, or a later one, has ended since. */
	if (!proof || READ_ONCE(s->wdone) >= g)
		return;
	if (overlap)
		atomic_long_inc(&s->overtakes);
	else
		atomic_long_inc(&s->steals);
}

/* One read of the pair, the window between its two words. */
static void sv_check(struct racelab_run *run, struct sv_state *s,
		     unsigned long a, unsigned long b)
{
	if (b != ~a) {
		atomic_long_inc(&s->torn);
		racelab_anomaly(run);
	}
}

static void sv_pass(struct sv_state *s, struct racelab_thread *t)
{
	unsigned long a = s->a;

	racelab_window(t);
	sv_check(t->run, s, a, s->b);
}

/* A spinning waiter's turn: false to go on, true to give up. */
static bool sv_give_up(struct racelab_run *run, unsigned int *spins)
{
	if (racelab_should_stop(run) || !racelab_others_live(run))
		return true;
	cpu_relax();
	if ((++*spins & 63) == 0)
		cond_resched();
	return false;
}

/* The hand-rolled lock: one try of the read side, refused on @mask. */
static int sv_rp_tryread(struct sv_state *s, int mask)
{
	int v = atomic_add_return_acquire(1, &s->rp);

	if (!(v & mask))
		return 0;
	atomic_dec(&s->rp);
	return v;
}

/* Reader preference: a reader waits only while a writer is inside. */
static bool sv_rp_rlock(struct sv_state *s, struct racelab_run *run,
			unsigned long g)
{
	unsigned int spins = 0;

	while (sv_rp_tryread(s, SV_WRITER)) {
		if (racelab_should_stop(run))
			return false;
		if ((++spins & 63) == 0)
			cond_resched();
	}
	return true;
}

static bool sv_rp_rtrylock(struct sv_state *s, unsigned long g)
{
	if (sv_rp_tryread(s, SV_WRITER))
		return sv_refusal(s, g);
	return true;
}

static void sv_rp_runlock(struct sv_state *s)
{
	atomic_fetch_sub_release(1, &s->rp);
}

/* The writer gets in only when no reader is: it waits, refused. */
static noinline bool sv_rp_wlock(struct sv_state *s, struct racelab_run *run)
{
	unsigned int spins = 0;

	for (;;) {
		int old = 0;

		if (atomic_try_cmpxchg_acquire(&s->rp, &old, SV_WRITER))
			return true;
		sv_refusal(s, s->wgen);
		if (sv_give_up(run, &spins))
			return false;
	}
}

static void sv_rp_wunlock(struct sv_state *s)
{
	atomic_fetch_sub_release(SV_WRITER, &s->rp);
}

/*
 * Looks fixed: a waiting writer sets a flag and new readers wait for it.
 * But a reader already inside may re-enter past it (else a recursive
 * reader would deadlock against the waiting writer), as rwlock_t lets
 * readers in interrupts do: overlapping readers still keep it out.
 */
static bool sv_flag_rlock(struct sv_state *s, struct racelab_run *run,
			  unsigned long g)
{
	unsigned int spins = 0;
	int v;

	while ((v = sv_rp_tryread(s, SV_WRITER | SV_WAITING))) {
		if (v & SV_WAITING)
			sv_refusal(s, g);
		if (racelab_should_stop(run))
			return false;
		if ((++spins & 63) == 0)
			cond_resched();
	}
	return true;
}

static noinline bool sv_flag_wlock(struct sv_state *s, struct racelab_run *run)
{
	unsigned int spins = 0;

	for (;;) {
		int old = atomic_read(&s->rp);

		if (!(old & ~SV_WAITING) &&
		    atomic_try_cmpxchg_acquire(&s->rp, &old, SV_WRITER))
			return true;
		if (!(old & SV_WAITING))
			atomic_or(SV_WAITING, &s->rp);
		sv_refusal(s, s->wgen);
		if (sv_give_up(run, &spins)) {
			atomic_andnot(SV_WAITING, &s->rp);
			return false;
		}
	}
}

static bool sv_rwsem_rlock(struct sv_state *s, struct racelab_run *run,
			   unsigned long g)
{
	down_read(&s->rwsem);
	return true;
}

static bool sv_rwsem_rtrylock(struct sv_state *s, unsigned long g)
{
	if (!down_read_trylock(&s->rwsem))
		return sv_refusal(s, g);
	return true;
}

static void sv_rwsem_runlock(struct sv_state *s)
{
	up_read(&s->rwsem);
}

static bool sv_rwsem_wlock(struct sv_state *s, struct racelab_run *run)
{
	down_write(&s->rwsem);
	return true;
}

static void sv_rwsem_wunlock(struct sv_state *s)
{
	up_write(&s->rwsem);
}

static bool sv_rwlock_rlock(struct sv_state *s, struct racelab_run *run,
			    unsigned long g)
	__acquires(&s->rwlock)
{
	read_lock(&s->rwlock);
	return true;
}

/*
 * The trylocks return with the lock held on success, for the ops' unlock
 * to drop: sparse cannot follow a conditional hand-over through a
 * function pointer, so the success path tells it so with __release().
 */
static bool sv_rwlock_rtrylock(struct sv_state *s, unsigned long g)
{
	if (!read_trylock(&s->rwlock))
		return sv_refusal(s, g);
	__release(&s->rwlock);
	return true;
}

static void sv_rwlock_runlock(struct sv_state *s)
	__releases(&s->rwlock)
{
	read_unlock(&s->rwlock);
}

static bool sv_rwlock_wlock(struct sv_state *s, struct racelab_run *run)
	__acquires(&s->rwlock)
{
	write_lock(&s->rwlock);
	return true;
}

/*
 * Looks fixed: the kernel's fair rwlock_t. But a writer that polls
 * write_trylock() never queues, so the lock never holds readers back.
 */
static noinline bool sv_rwlock_poll_wlock(struct sv_state *s,
					  struct racelab_run *run)
{
	unsigned int spins = 0;

	for (;;) {
		if (write_trylock(&s->rwlock)) {
			__release(&s->rwlock);
			return true;
		}
		sv_refusal(s, s->wgen);
		if (sv_give_up(run, &spins))
			return false;
	}
}

static void sv_rwlock_wunlock(struct sv_state *s)
	__releases(&s->rwlock)
{
	write_unlock(&s->rwlock);
}

/* seqlock: readers never hold the writer back, they retry. */
static bool sv_seq_read(struct sv_state *s, struct racelab_thread *t)
{
	unsigned int seq, tries = 0;
	unsigned long a, b;

	do {
		if (racelab_should_stop(t->run))
			return false;
		if (tries++ == SV_MAX_RETRIES) {
			atomic_long_inc(&s->gave_up);
			return false;
		}
		seq = read_seqbegin(&s->seqlock);
		a = s->a;
		racelab_window(t);
		b = s->b;
	} while (read_seqretry(&s->seqlock, seq));
	sv_check(t->run, s, a, b);
	return true;
}

static void sv_seq_write(struct sv_state *s, unsigned long g)
{
	write_seqlock(&s->seqlock);
	WRITE_ONCE(s->wdone, g);
	s->a++;
	s->b = ~s->a;
	write_sequnlock(&s->seqlock);
}

/* RCU: the writer publishes a new pair and never waits for a reader. */
static bool sv_rcu_read(struct sv_state *s, struct racelab_thread *t)
{
	struct sv_obj *o;
	unsigned long a, b;

	rcu_read_lock();
	o = rcu_dereference(s->cur);
	a = o->a;
	racelab_window(t);
	b = o->b;
	rcu_read_unlock();
	sv_check(t->run, s, a, b);
	return true;
}

static void sv_rcu_write(struct sv_state *s, unsigned long g)
{
	struct sv_obj *o = kmalloc(sizeof(*o), GFP_KERNEL), *old;

	WRITE_ONCE(s->wdone, g);
	if (!o)
		return;
	o->a = ++s->a;
	o->b = ~o->a;
	old = rcu_replace_pointer(s->cur, o, true);
	kfree_rcu(old, rcu);
	racelab_kfree_rcu_bound(&s->since_gp);
}

/*
 * A reader's step: enter, then pass after pass, each taking the read side
 * for the next before it leaves its own, until SV_CHAIN passes, a refusal
 * or the end of the run.
 */
static bool sv_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct sv_ops *ops = run->mode->ops;
	struct sv_state *s = run->priv;
	unsigned long g;
	unsigned int i;
	bool proof;

	if (ops->read) {
		if (ops->read(s, t))
			atomic_long_inc(&s->passes);
		return true;
	}
	proof = sv_proof(s, &g);
	if (!ops->rlock(s, run, g))
		return false;
	sv_entered(s, g, proof, atomic_inc_return(&s->inside) > 1);
	for (i = 1; ; i++) {
		sv_pass(s, t);
		if (i == SV_CHAIN || racelab_should_stop(run))
			break;
		proof = sv_proof(s, &g);
		if (!ops->rtrylock(s, g))
			break;
		ops->runlock(s);	/* the previous pass's hold */
		sv_entered(s, g, proof, true);
	}
	atomic_dec(&s->inside);
	ops->runlock(s);
	return true;
}

/* The writer's step: one wait, one write, then a pause for the readers. */
static bool sv_write(struct racelab_run *run, struct racelab_thread *t)
{
	const struct sv_ops *ops = run->mode->ops;
	struct sv_state *s = run->priv;
	unsigned long g = s->wgen + 1, overtakes;
	long ov0 = atomic_long_read(&s->overtakes);
	long p0 = atomic_long_read(&s->passes);
	u64 t0 = ktime_get_ns();
	bool got = true;

	/* The counts above first: pairs with sv_proof(). */
	smp_store_release(&s->wgen, g);
	if (ops->write) {
		ops->write(s, g);
	} else {
		got = ops->wlock(s, run);
		WRITE_ONCE(s->wdone, g);
		if (got) {
			s->a++;
			s->b = ~s->a;
			ops->wunlock(s);
		}
	}
	overtakes = atomic_long_read(&s->overtakes) - ov0;
	s->waits++;
	s->max_overtakes = max(s->max_overtakes, overtakes);
	s->max_wait_passes = max_t(unsigned long, s->max_wait_passes,
				   atomic_long_read(&s->passes) - p0);
	s->max_wait_ns = max(s->max_wait_ns, ktime_get_ns() - t0);
	if (!got)
		s->abandoned++;
	if (overtakes > SV_BOUND || !got) {
		s->starved++;
		racelab_anomaly(run);
	}
	ndelay(SV_PACE_NS);
	racelab_window(t);
	racelab_window(t);
	return true;
}

#define SV_LOCK_OPS(rl, rt, ru, wl, wu)					\
	(&(const struct sv_ops) {					\
		.rlock = rl, .rtrylock = rt, .runlock = ru,		\
		.wlock = wl, .wunlock = wu,				\
	})

static const struct racelab_mode sv_modes[] = {
	{
		.name = "reader-pref", .kind = RACELAB_RACY,
		.about = "hand-rolled lock: readers enter whenever no writer is inside",
		.ops = SV_LOCK_OPS(sv_rp_rlock, sv_rp_rtrylock, sv_rp_runlock,
				   sv_rp_wlock, sv_rp_wunlock),
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "writer-flag", .kind = RACELAB_BROKEN_FIX,
		.about = "a waiting writer holds new readers back, readers inside re-enter past it",
		.ops = SV_LOCK_OPS(sv_flag_rlock, sv_rp_rtrylock, sv_rp_runlock,
				   sv_flag_wlock, sv_rp_wunlock),
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "rwlock-trylock", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "fair rwlock_t, but the writer polls write_trylock(): it never queues",
		.ops = SV_LOCK_OPS(sv_rwlock_rlock, sv_rwlock_rtrylock,
				   sv_rwlock_runlock, sv_rwlock_poll_wlock,
				   sv_rwlock_wunlock),
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "rwsem", .kind = RACELAB_FIXED,
		.about = "rw_semaphore: a waiting writer queues, later readers wait behind it",
		.ops = SV_LOCK_OPS(sv_rwsem_rlock, sv_rwsem_rtrylock,
				   sv_rwsem_runlock, sv_rwsem_wlock,
				   sv_rwsem_wunlock),
	},
	{
		.name = "rwlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "rwlock_t (queued, fair in process context): write_lock() queues",
		.ops = SV_LOCK_OPS(sv_rwlock_rlock, sv_rwlock_rtrylock,
				   sv_rwlock_runlock, sv_rwlock_wlock,
				   sv_rwlock_wunlock),
	},
	{
		.name = "seqlock", .kind = RACELAB_FIXED,
		.about = "seqlock_t: readers retry, the writer never waits for them",
		.ops = &(const struct sv_ops) {
			.read = sv_seq_read, .write = sv_seq_write,
		},
	},
	{
		.name = "rcu", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "RCU: the writer publishes a new pair, kfree_rcu() the old",
		.ops = &(const struct sv_ops) {
			.read = sv_rcu_read, .write = sv_rcu_write,
		},
	},
};

static int sv_setup(struct racelab_run *run)
{
	struct sv_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	struct sv_obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!s || !o) {
		kfree(s);
		kfree(o);
		return -ENOMEM;
	}
	s->b = ~s->a;
	o->b = ~o->a;
	RCU_INIT_POINTER(s->cur, o);
	atomic_set(&s->rp, 0);
	init_rwsem(&s->rwsem);
	rwlock_init(&s->rwlock);
	seqlock_init(&s->seqlock);
	run->priv = s;
	return 0;
}

/*
 * Expected: the writer's waits; observed: those that ended with the lock
 * within SV_BOUND overtakes. A torn pair (a reader inside with the writer)
 * would be an anomaly too.
 */
static void sv_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct sv_state *s = run->priv;
	u64 torn = atomic_long_read(&s->torn);

	res->expected = s->waits;
	res->observed = s->waits - s->starved;
	res->anomalies = s->starved + torn;
	snprintf(res->extra, sizeof(res->extra),
		 "writes=%lu starved=%lu abandoned=%lu bound=%d overtakes=%ld max_overtakes=%lu steals=%ld refusals=%ld max_wait_passes=%lu max_wait_ns=%llu passes=%ld torn=%llu gave_up=%ld",
		 s->waits - s->abandoned, s->starved, s->abandoned, SV_BOUND,
		 atomic_long_read(&s->overtakes), s->max_overtakes,
		 atomic_long_read(&s->steals), atomic_long_read(&s->refusals),
		 s->max_wait_passes, s->max_wait_ns,
		 atomic_long_read(&s->passes), torn,
		 atomic_long_read(&s->gave_up));
}

static void sv_teardown(struct racelab_run *run)
{
	struct sv_state *s = run->priv;

	if (!s)
		return;
	kfree(rcu_dereference_protected(s->cur, true));
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_starvation_scenario = {
	.name = "starvation",
	.about = "overlapping readers keep a writer out of a reader-preferring lock",
	.modes = sv_modes,
	.nr_modes = ARRAY_SIZE(sv_modes),
	.read = sv_read,
	.write = sv_write,
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 },
			       { "delay:1000", .racy_cpus = 2 }),
	.setup = sv_setup,
	.verdict = sv_verdict,
	.teardown = sv_teardown,
};

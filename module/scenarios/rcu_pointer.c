// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "rcu-pointer": a shared configuration object replaced while
 * readers use it.
 *
 * Thread 0 publishes new versions of an object whose two fields must agree
 * (b == ~a); the other threads read it. Editing the live object tears it:
 *
 *   writer                  reader
 *   p->a = v;
 *                           a = p->a; b = p->b;     b != ~a: torn
 *   p->b = ~v;
 *
 * Replacing it and freeing the old one at once is a use-after-free: a
 * reader that fetched the pointer just before the swap still reads it.
 * racelab never frees such an object for real: `free-too-early` poisons it
 * (the use-after-free becomes visible as poison) and keeps it in a
 * quarantine until a real grace period has passed, so the kernel under test
 * never touches freed memory.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

#define RP_ALIVE	0x600d0bcfU
#define RP_POISON	0x6b6b6b6b6b6b6b6bULL
#define RP_MAX_PENDING	1000	/* callbacks in flight before the writer waits */

struct rp_obj {
	u32 magic;
	u64 gen;
	u64 a;
	u64 b;		/* always ~a in a whole object */
	struct racelab_qentry q;	/* freed through RCU, or the quarantine */
};

struct rp_state {
	struct rp_obj __rcu *cur;
	rwlock_t lock;		/* mode rwlock */
	u64 gen;		/* writer only */
	atomic_long_t reads;
	atomic_long_t torn;
	atomic_long_t poisoned;
	atomic_long_t updates;
	struct racelab_quarantine quar;	/* call_rcu() and free-too-early */
	unsigned int since_gp;	/* writer only: kfree_rcu() since a wait */
};

static struct rp_state *rp_of(struct racelab_run *run)
{
	return run->priv;
}

static struct rp_obj *rp_new(struct rp_state *s)
{
	struct rp_obj *o = kmalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return NULL;
	o->magic = RP_ALIVE;
	o->gen = ++s->gen;
	o->a = o->gen * 0x9e3779b97f4a7c15ULL;
	o->b = ~o->a;
	return o;
}

static void rp_free(struct racelab_qentry *e)
{
	kfree(container_of(e, struct rp_obj, q));
}

/* Reader side: is the object alive and whole? The window splits the read. */
static __always_inline void rp_check(struct rp_state *s, struct rp_obj *o,
				     struct racelab_thread *t)
{
	u32 magic = o->magic;
	u64 a = o->a, b;

	racelab_window(t);
	b = o->b;
	atomic_long_inc(&s->reads);
	if (magic != RP_ALIVE || a == RP_POISON || b == RP_POISON) {
		atomic_long_inc(&s->poisoned);
		racelab_anomaly(t->run);
	} else if (b != ~a) {
		atomic_long_inc(&s->torn);
		racelab_anomaly(t->run);
	}
}

static noinline void rp_rcu_read(struct rp_state *s, struct racelab_thread *t)
{
	rcu_read_lock();
	rp_check(s, rcu_dereference(s->cur), t);
	rcu_read_unlock();
}

static noinline void rp_rwlock_read(struct rp_state *s,
				    struct racelab_thread *t)
{
	read_lock(&s->lock);
	rp_check(s, rcu_dereference_protected(s->cur, lockdep_is_held(&s->lock)),
		 t);
	read_unlock(&s->lock);
}

/* The single writer owns the pointer: no lock on the update side. */
static struct rp_obj *rp_cur(struct rp_state *s)
{
	return rcu_dereference_protected(s->cur, true);
}

/* Publish a new version; return the old one, or NULL without memory. */
static struct rp_obj *rp_replace(struct rp_state *s)
{
	struct rp_obj *o = rp_new(s), *old;

	if (!o)
		return NULL;
	old = rp_cur(s);
	rcu_assign_pointer(s->cur, o);
	return old;
}

static noinline bool rp_in_place_write(struct rp_state *s,
				       struct racelab_thread *t)
{
	struct rp_obj *o = rp_cur(s);
	u64 v = ++s->gen * 0x9e3779b97f4a7c15ULL;

	o->a = v;
	racelab_window(t);
	o->b = ~v;
	return true;
}

/* What kfree() would leave to a reader, made visible: poison. */
static noinline void rp_free_too_early_poison(struct racelab_qentry *e)
{
	struct rp_obj *o = container_of(e, struct rp_obj, q);

	o->magic = 0;
	o->a = RP_POISON;
	o->b = RP_POISON;
}

static noinline bool rp_free_too_early_write(struct rp_state *s,
					     struct racelab_thread *t)
{
	struct rp_obj *old;

	racelab_quarantine_wait(&s->quar, t->run);
	old = rp_replace(s);
	if (!old)
		return false;
	/* "kfree(old)" with no grace period: poison; the real free after one */
	racelab_quarantine_put(&s->quar, &old->q, rp_free_too_early_poison);
	return true;
}

static noinline bool rp_rwlock_write(struct rp_state *s,
				     struct racelab_thread *t)
{
	struct rp_obj *o = rp_new(s), *old;

	if (!o)
		return false;
	write_lock(&s->lock);
	old = rcu_dereference_protected(s->cur, lockdep_is_held(&s->lock));
	rcu_assign_pointer(s->cur, o);
	write_unlock(&s->lock);
	kfree(old);		/* no reader can hold it: they take the lock */
	return true;
}

static noinline bool rp_rcu_sync_write(struct rp_state *s,
				       struct racelab_thread *t)
{
	struct rp_obj *old = rp_replace(s);
	u64 t0;

	if (!old)
		return false;
	t0 = ktime_get_ns();
	synchronize_rcu();
	racelab_quarantine_gp_seen(&s->quar, ktime_get_ns() - t0);
	kfree(old);
	return true;
}

static noinline bool rp_rcu_call_write(struct rp_state *s,
				       struct racelab_thread *t)
{
	struct rp_obj *old;

	racelab_quarantine_wait(&s->quar, t->run);
	old = rp_replace(s);
	if (!old)
		return false;
	racelab_quarantine_put(&s->quar, &old->q, NULL);
	return true;
}

static noinline bool rp_kfree_rcu_write(struct rp_state *s,
					struct racelab_thread *t)
{
	struct rp_obj *old = rp_replace(s);

	if (!old)
		return false;
	kfree_rcu(old, q.rcu);
	/* Bound the objects waiting for a grace period, as the quarantine. */
	racelab_kfree_rcu_bound(&s->since_gp);
	return true;
}

/* One mode's reader and writer. */
struct rp_ops {
	void (*read)(struct rp_state *s, struct racelab_thread *t);
	bool (*write)(struct rp_state *s, struct racelab_thread *t);
};

static bool rp_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rp_ops *ops = run->mode->ops;

	ops->read(rp_of(run), t);
	return true;
}

static bool rp_write(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rp_ops *ops = run->mode->ops;
	struct rp_state *s = rp_of(run);

	if (!ops->write(s, t))
		return false;
	atomic_long_inc(&s->updates);
	return true;
}

/* Every reader's window is inside rcu_read_lock() or read_lock(). */
static const struct racelab_mode rp_modes[] = {
	{
		.name = "in-place", .kind = RACELAB_RACY,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "the writer edits the live object field by field",
		.ops = &(const struct rp_ops) {
			.read = rp_rcu_read, .write = rp_in_place_write,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "rp_in_place_write|rp_rcu_read",
		},
	},
	{
		.name = "free-too-early", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "rcu_assign_pointer() then free at once (poisoned, quarantined)",
		.ops = &(const struct rp_ops) {
			.read = rp_rcu_read, .write = rp_free_too_early_write,
		},
		/* A reader must still hold the old object: widen its read. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "rp_free_too_early_poison|rp_rcu_read",
		},
	},
	{
		.name = "rwlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "readers share a rwlock; the writer swaps and frees under it",
		.ops = &(const struct rp_ops) {
			.read = rp_rwlock_read, .write = rp_rwlock_write,
		},
	},
	{
		.name = "rcu-sync", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "rcu_assign_pointer(), synchronize_rcu(), kfree()",
		.ops = &(const struct rp_ops) {
			.read = rp_rcu_read, .write = rp_rcu_sync_write,
		},
	},
	{
		.name = "rcu-call", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "rcu_assign_pointer(), call_rcu() frees after a grace period",
		.ops = &(const struct rp_ops) {
			.read = rp_rcu_read, .write = rp_rcu_call_write,
		},
	},
	{
		.name = "kfree-rcu", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "rcu_assign_pointer(), kfree_rcu()",
		.ops = &(const struct rp_ops) {
			.read = rp_rcu_read, .write = rp_kfree_rcu_write,
		},
	},
};

static int rp_setup(struct racelab_run *run)
{
	struct rp_state *s;
	struct rp_obj *o;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	rwlock_init(&s->lock);
	racelab_quarantine_init(&s->quar, RP_MAX_PENDING, rp_free);
	o = rp_new(s);
	if (!o) {
		kfree(s);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(s->cur, o);
	run->priv = s;
	return 0;
}

static void rp_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct rp_state *s = rp_of(run);
	u64 reads = atomic_long_read(&s->reads);
	u64 torn = atomic_long_read(&s->torn);
	u64 poisoned = atomic_long_read(&s->poisoned);
	/* Callbacks still in flight report no latency: a stop waits for none. */
	u64 gps = atomic_long_read(&s->quar.gps);

	res->expected = reads;
	res->observed = reads - torn - poisoned;
	res->anomalies = torn + poisoned;
	snprintf(res->extra, sizeof(res->extra),
		 "reads=%llu torn=%llu poisoned=%llu updates=%ld gp_avg_ns=%llu gp_max_ns=%lld",
		 reads, torn, poisoned, atomic_long_read(&s->updates),
		 gps ? div64_u64(atomic64_read(&s->quar.gp_ns), gps) : 0,
		 atomic64_read(&s->quar.gp_max_ns));
}

static void rp_teardown(struct racelab_run *run)
{
	struct rp_state *s = rp_of(run);

	if (!s)
		return;
	racelab_quarantine_drain(&s->quar);	/* callbacks point at it */
	kfree(rcu_dereference_protected(s->cur, true));
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_rcu_pointer_scenario = {
	.name = "rcu-pointer",
	.about = "a shared object replaced while readers use it",
	.modes = rp_modes,
	.nr_modes = ARRAY_SIZE(rp_modes),
	.plans = RACELAB_PLANS({ "none" }, { "delay:1000" }),
	.read = rp_read,
	.write = rp_write,
	.setup = rp_setup,
	.verdict = rp_verdict,
	.teardown = rp_teardown,
};

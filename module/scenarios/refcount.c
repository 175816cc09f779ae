// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "refcount": a reference taken on an object found under RCU.
 *
 * Objects sit in an RCU-protected table, each with a unique key. Thread 0,
 * the owner, keeps replacing them: it publishes a new object in a slot and
 * drops the table's reference to the old one, which frees it when no
 * lookup holds a reference. The other threads look objects up under
 * rcu_read_lock() and take a reference before they use one.
 *
 * A lookup that finds an object whose count just reached zero must not
 * take a reference. Taking it anyway brings the object back to life while
 * its release is already under way (Documentation/core-api/kref.rst):
 *
 *   owner                          lookup
 *                                  rcu_read_lock(); p = slot[i]
 *   slot[i] = new
 *   put(p): 1 -> 0, release(p)
 *                                  get(p): 0 -> 1    <- resurrected
 *                                  use(p)            <- p is being freed
 *
 * kref_get_unless_zero() refuses a count of zero, which is enough when the
 * memory outlives the read section (kfree_rcu()). It is not enough in a
 * SLAB_TYPESAFE_BY_RCU cache, where freed memory is reused at once for a
 * new object of the same type: the count a lookup raises may be that of
 * the new object, so the lookup must check, after taking its reference,
 * that the object is still the one it looked up
 * (Documentation/RCU/rculist_nulls.rst):
 *
 *   owner                          lookup (key 7)
 *                                  rcu_read_lock(); p = slot[i], key 7
 *   slot[i] = new; put(p): freed
 *   q = alloc(): q == p, key 8
 *                                  get_unless_zero(p): 1 -> 2
 *                                  use(p) as key 7   <- it is key 8
 *
 * With a refcount_t (kref_get()), raising zero is caught by the kernel
 * itself: refcount_t saturates the count and warns "refcount_t: addition
 * on 0; use-after-free", once per boot. That is the experiment kref-get,
 * one per boot like lockdep's (its lookup goes on until it has raised
 * zero once, and no lookup takes a reference after that). atomic-get
 * shows the same race with a bare atomic_t, which nothing checks.
 *
 * Every anomaly is counted by the lookups themselves: a get that raised
 * zero (atomic_inc_return() == 1 on an object the table no longer holds),
 * a key that is not the one looked up, a poisoned object. racelab never
 * frees an object a lookup may still read: the racy mode's objects go
 * through the quarantine (poisoned, freed after a grace period), and a
 * type-safe cache's memory stays an object of this type until the cache
 * is destroyed.
 */
#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#include "racelab.h"

#define RC_SLOTS	8
#define RC_ALIVE	0x7e5c0b1eU
#define RC_POISON	0x6b6b6b6bU
#define RC_QUARANTINE	1000	/* objects in flight before the owner waits */

struct rc_obj {
	u32 magic;
	u64 key;		/* unique: which object this is */
	union {
		atomic_t count;	/* mode atomic-get: the bare counter */
		struct kref ref;
	};
	struct racelab_qentry q;
};

struct rc_state {
	struct rc_obj __rcu *slot[RC_SLOTS];
	struct kmem_cache *cache;	/* SLAB_TYPESAFE_BY_RCU modes */
	u64 next_key;			/* owner only */
	unsigned int next_slot;		/* owner only */
	unsigned int since_gp;		/* owner only: kfree_rcu() since a wait */
	atomic_long_t lookups;
	atomic_long_t got;		/* lookups that took a reference */
	atomic_long_t resurrected;
	atomic_long_t wrong;		/* held another object than looked up */
	atomic_long_t poisoned;
	atomic_long_t retries;		/* re-check failed: looked up again */
	atomic_long_t replaced;
	bool raised;			/* kref-get: a get raised zero */
	struct racelab_quarantine quar;	/* modes atomic-get, kref-get */
};

/*
 * A mode's operations: how a lookup takes a reference on @p, found with
 * key @key (false: none taken), and how the last reference frees @p.
 * @until_raised: an experiment: one lookup step goes on until a get
 * raised zero (or the run ends), and none takes a reference after it.
 */
struct rc_ops {
	bool (*get)(struct rc_state *s, struct rc_obj *p, u64 key,
		    struct racelab_thread *t);
	void (*put)(struct rc_state *s, struct rc_obj *p);
	bool typesafe;
	bool until_raised;
};

static struct rc_state *rc_of(struct racelab_run *run)
{
	return run->priv;
}

static void rc_free(struct racelab_qentry *e)
{
	kfree(container_of(e, struct rc_obj, q));
}

static void rc_poison(struct racelab_qentry *e)
{
	struct rc_obj *p = container_of(e, struct rc_obj, q);

	WRITE_ONCE(p->magic, RC_POISON);
}

/* The bare counter: inc without a look at zero, as code did before kref. */
static noinline bool rc_atomic_get(struct rc_state *s, struct rc_obj *p,
				   u64 key, struct racelab_thread *t)
{
	racelab_window(t);
	if (atomic_inc_return(&p->count) == 1) {
		/*
		 * Raised from zero: its release is under way and the
		 * quarantine holds it. Drop nothing: a put would release it
		 * twice. The read section keeps its memory.
		 */
		atomic_long_inc(&s->resurrected);
		racelab_anomaly(t->run);
		return false;
	}
	return true;
}

static void rc_atomic_put(struct rc_state *s, struct rc_obj *p)
{
	if (atomic_dec_and_test(&p->count))
		racelab_quarantine_put(&s->quar, &p->q, rc_poison);
}

/* kref_get(): refcount_t catches the zero, saturates it and warns. */
static noinline bool rc_kref_get(struct rc_state *s, struct rc_obj *p,
				 u64 key, struct racelab_thread *t)
{
	racelab_window(t);
	kref_get(&p->ref);
	if ((int)refcount_read(&p->ref.refcount) < 0) {
		/* Saturated: it was zero. Nothing may touch it again. */
		WRITE_ONCE(s->raised, true);
		atomic_long_inc(&s->resurrected);
		racelab_anomaly(t->run);
		return false;
	}
	return true;
}

static void rc_kref_put(struct rc_state *s, struct rc_obj *p)
{
	if (refcount_dec_and_test(&p->ref.refcount))
		racelab_quarantine_put(&s->quar, &p->q, rc_poison);
}

/* kref_get_unless_zero(), memory freed by kfree_rcu(): no reuse in sight. */
static noinline bool rc_unless_zero_get(struct rc_state *s, struct rc_obj *p,
					u64 key, struct racelab_thread *t)
{
	racelab_window(t);
	return kref_get_unless_zero(&p->ref);
}

static void rc_kfree_rcu_release(struct kref *ref)
{
	kfree_rcu(container_of(ref, struct rc_obj, ref), q.rcu);
}

static void rc_kfree_rcu_put(struct rc_state *s, struct rc_obj *p)
{
	kref_put(&p->ref, rc_kfree_rcu_release);
}

/* Type-safe cache, no re-check: the reference may be another object's. */
static noinline bool rc_typesafe_get(struct rc_state *s, struct rc_obj *p,
				     u64 key, struct racelab_thread *t)
{
	racelab_window(t);
	return kref_get_unless_zero(&p->ref);
}

static void rc_typesafe_put(struct rc_state *s, struct rc_obj *p);

/* Type-safe cache: after the reference, is it still the object looked up? */
static noinline bool rc_recheck_get(struct rc_state *s, struct rc_obj *p,
				    u64 key, struct racelab_thread *t)
{
	racelab_window(t);
	if (!kref_get_unless_zero(&p->ref))
		return false;
	/* The key is read after the count: pairs with refcount_set_release(). */
	smp_acquire__after_ctrl_dep();
	if (READ_ONCE(p->key) == key)
		return true;
	atomic_long_inc(&s->retries);
	rc_typesafe_put(s, p);	/* another's object: maybe its last reference */
	return false;
}

static void rc_typesafe_put(struct rc_state *s, struct rc_obj *p)
{
	/* Freed at once: the memory may be the next object already. */
	if (refcount_dec_and_test(&p->ref.refcount))
		kmem_cache_free(s->cache, p);
}

enum { RC_ATOMIC_GET, RC_KREF_GET, RC_TYPESAFE, RC_UNLESS_ZERO, RC_RECHECK };

static const struct rc_ops rc_mode_ops[] = {
	[RC_ATOMIC_GET] = { rc_atomic_get, rc_atomic_put },
	[RC_KREF_GET] = { rc_kref_get, rc_kref_put, .until_raised = true },
	[RC_TYPESAFE] = { rc_typesafe_get, rc_typesafe_put, true },
	[RC_UNLESS_ZERO] = { rc_unless_zero_get, rc_kfree_rcu_put },
	[RC_RECHECK] = { rc_recheck_get, rc_typesafe_put, true },
};

/* The window is inside the read section: it must not sleep. */
#define RC_FLAGS	RACELAB_MODE_ATOMIC_WINDOW

/* What refcount_t prints when a get raises zero (lib/refcount.c). */
#define RC_ADD_UAF	"refcount_t: addition on 0; use-after-free"

static const struct racelab_mode rc_modes[] = {
	{
		.name = "atomic-get", .kind = RACELAB_RACY,
		.about = "atomic_inc() on a count found under RCU: raises zero, resurrects",
		.flags = RC_FLAGS,
		.ops = &rc_mode_ops[RC_ATOMIC_GET],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "kref-get", .kind = RACELAB_RACY,
		.flags = RC_FLAGS | RACELAB_MODE_EXPERIMENT,
		.about = "kref_get() on a count found under RCU: refcount_t warns",
		.ops = &rc_mode_ops[RC_KREF_GET],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCHECK] = {
			.says = RACELAB_REPORTS,
			.names = RC_ADD_UAF "|refcount_warn_saturate|rc_kref_get",
		},
	},
	{
		.name = "typesafe-no-recheck", .kind = RACELAB_BROKEN_FIX,
		/* KASAN's SLUB_RCU_DEBUG reuses no memory under a reader. */
		.hidden = RACELAB_HIDDEN_SLUB_RCU_DEBUG,
		.about = "kref_get_unless_zero(), SLAB_TYPESAFE_BY_RCU, no key re-check",
		.flags = RC_FLAGS,
		.ops = &rc_mode_ops[RC_TYPESAFE],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "unless-zero", .kind = RACELAB_FIXED,
		.about = "kref_get_unless_zero() inside the read section, kfree_rcu()",
		.flags = RC_FLAGS,
		.ops = &rc_mode_ops[RC_UNLESS_ZERO],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
	},
	{
		.name = "typesafe-recheck", .kind = RACELAB_FIXED,
		.about = "type-safe cache, kref_get_unless_zero(), then the key re-checked",
		.flags = RC_FLAGS,
		.ops = &rc_mode_ops[RC_RECHECK],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
	},
};

static struct rc_obj *rc_alloc(struct rc_state *s, const struct rc_ops *ops)
{
	struct rc_obj *p;

	if (ops->typesafe)
		p = kmem_cache_alloc(s->cache, GFP_KERNEL);
	else
		p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	/*
	 * A lookup may read this memory now (a type-safe cache reuses it
	 * under readers): the fields first, then the count, with release.
	 */
	WRITE_ONCE(p->magic, RC_ALIVE);
	WRITE_ONCE(p->key, ++s->next_key);
	if (ops == &rc_mode_ops[RC_ATOMIC_GET])	/* no kref: a bare counter */
		atomic_set_release(&p->count, 1);
	else	/* refcount_set_release() is not in 6.1 */
		atomic_set_release(&p->ref.refcount.refs, 1);
	return p;
}

/* One lookup: a slot's object, a reference, a use, the reference back. */
static void rc_lookup(struct racelab_run *run, struct racelab_thread *t,
		      unsigned int i)
{
	const struct rc_ops *ops = run->mode->ops;
	struct rc_state *s = rc_of(run);
	struct rc_obj *p;
	u64 key;

	rcu_read_lock();
	p = rcu_dereference(s->slot[i]);
	if (!p || READ_ONCE(s->raised)) {
		rcu_read_unlock();
		return;
	}
	key = READ_ONCE(p->key);
	atomic_long_inc(&s->lookups);
	if (ops->get(s, p, key, t)) {
		/*
		 * Used inside the read section all the same: a lookup that
		 * raised a resurrected count holds a quarantined object,
		 * which only the read section keeps.
		 */
		atomic_long_inc(&s->got);
		if (READ_ONCE(p->magic) != RC_ALIVE) {
			atomic_long_inc(&s->poisoned);
			racelab_anomaly(run);
		} else if (READ_ONCE(p->key) != key) {
			atomic_long_inc(&s->wrong);
			racelab_anomaly(run);
		}
		ops->put(s, p);
	}
	rcu_read_unlock();
}

static bool rc_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rc_ops *ops = run->mode->ops;
	unsigned long n = t->ops + t->id;

	if (!ops->until_raised) {
		rc_lookup(run, t, n % RC_SLOTS);
		return true;
	}
	/*
	 * An experiment's one step: until it raised zero, or the run ends.
	 * One lookup thread only: a second one could meet the saturated
	 * count, or put a count it raised before the saturation, and print
	 * another of refcount_t's warnings.
	 */
	if (t->id != 1)
		return false;
	while (!READ_ONCE(rc_of(run)->raised) && !racelab_should_stop(run)) {
		rc_lookup(run, t, n++ % RC_SLOTS);
		cond_resched();
	}
	return false;	/* done: it raised zero once */
}

/* The owner: a new object in the next slot, the old one's reference put. */
static bool rc_write(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rc_ops *ops = run->mode->ops;
	struct rc_state *s = rc_of(run);
	unsigned int i = s->next_slot++ % RC_SLOTS;
	struct rc_obj *old, *p;

	if (!ops->typesafe && ops->put != rc_kfree_rcu_put)
		racelab_quarantine_wait(&s->quar, run);
	else if (!ops->typesafe || IS_ENABLED(CONFIG_SLUB_RCU_DEBUG))
		/* kfree_rcu(), or a type-safe free that SLUB_RCU_DEBUG delays */
		racelab_kfree_rcu_bound(&s->since_gp);
	p = rc_alloc(s, ops);
	if (!p)
		return false;
	old = rcu_dereference_protected(s->slot[i], true);
	rcu_assign_pointer(s->slot[i], p);
	if (old)
		ops->put(s, old);
	atomic_long_inc(&s->replaced);
	return racelab_others_live(run);
}

static int rc_setup(struct racelab_run *run)
{
	const struct rc_ops *ops = run->mode->ops;
	struct rc_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	racelab_quarantine_init(&s->quar, RC_QUARANTINE, rc_free);
	if (ops->typesafe) {
		s->cache = kmem_cache_create("racelab_refcount",
					     sizeof(struct rc_obj), 0,
					     SLAB_TYPESAFE_BY_RCU, NULL);
		if (!s->cache) {
			kfree(s);
			return -ENOMEM;
		}
	}
	run->priv = s;
	return 0;
}

static void rc_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct rc_state *s = rc_of(run);
	long resurrected = atomic_long_read(&s->resurrected);
	long wrong = atomic_long_read(&s->wrong);
	long poisoned = atomic_long_read(&s->poisoned);

	res->expected = atomic_long_read(&s->lookups);
	res->anomalies = resurrected + wrong + poisoned;
	res->observed = res->expected - res->anomalies;
	snprintf(res->extra, sizeof(res->extra),
		 "lookups=%ld got=%ld resurrected=%ld wrong_object=%ld poisoned=%ld rechecks_failed=%ld replaced=%ld",
		 atomic_long_read(&s->lookups), atomic_long_read(&s->got),
		 resurrected, wrong, poisoned, atomic_long_read(&s->retries),
		 atomic_long_read(&s->replaced));
}

static void rc_teardown(struct racelab_run *run)
{
	const struct rc_ops *ops = run->mode->ops;
	struct rc_state *s = rc_of(run);
	unsigned int i;

	if (!s)
		return;
	/* Every lookup has ended: the table's references are the last. */
	for (i = 0; i < RC_SLOTS; i++) {
		struct rc_obj *p = rcu_dereference_protected(s->slot[i], true);

		if (p)
			ops->put(s, p);
	}
	racelab_quarantine_drain(&s->quar);
	/* Destroying a type-safe cache waits for its grace period itself. */
	kmem_cache_destroy(s->cache);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_refcount_scenario = {
	.name = "refcount",
	.about = "a reference taken on an object found under RCU, as it dies",
	.modes = rc_modes,
	.nr_modes = ARRAY_SIZE(rc_modes),
	.read = rc_read,
	.write = rc_write,
	.min_threads = 2,
	.plans = RACELAB_PLANS({ "auto", 0, 2 }),
	.setup = rc_setup,
	.verdict = rc_verdict,
	.teardown = rc_teardown,
};

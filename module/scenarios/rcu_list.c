// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "rcu-list": readers walk a linked list while a writer adds and
 * removes entries.
 *
 * Thread 0 keeps a list of about RL_LEN entries: it appends a new one and
 * removes the oldest, under a spinlock. The other threads traverse it and
 * check every entry (alive, val and chk agree). The right way is
 * list_add_rcu()/list_del_rcu(), readers in rcu_read_lock(), and the
 * removed entry freed after a grace period (kfree_rcu()). `free-too-early`
 * reuses a removed entry at once: racelab poisons it instead of freeing it,
 * and frees it for real after a grace period, so a reader still on it sees
 * poison rather than freed memory. `in-place` rewrites a live entry field by
 * field. `reader-lock` makes readers take a rwlock instead of RCU.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

#define RL_LEN		16
#define RL_MAX_PENDING	256
/*
 * A reader preempted inside its RCU section resumes on a removed entry and
 * follows it through every entry added meanwhile: a long walk is legal.
 * The writer waits for a grace period every RACELAB_KFREE_RCU_MAX
 * kfree_rcu() updates, or with RL_MAX_PENDING entries in quarantine, which
 * waits for that reader, so a walk sees at most about RL_LEN + 2 * the
 * larger of the two entries. The bound only guards against a cycle.
 */
#define RL_WALK_MAX	BIT(14)
static_assert(RL_LEN + 2 * (RL_MAX_PENDING + RACELAB_KFREE_RCU_MAX) < RL_WALK_MAX);
#define RL_ALIVE	0xa11fe000U
#define RL_POISON	0x6b6b6b6b6b6b6b6bULL

struct rl_entry {
	struct list_head node;
	u32 magic;
	u64 val;
	u64 chk;		/* ~val in a whole entry */
	struct racelab_qentry q;	/* freed through RCU, or the quarantine */
};

struct rl_state {
	struct list_head head;
	spinlock_t lock;	/* writer side, RCU modes */
	rwlock_t rwlock;	/* mode reader-lock */
	unsigned int len;	/* under the writer's lock */
	u64 next_val;		/* writer only */
	atomic_long_t walks;
	atomic_long_t entries_seen;
	atomic_long_t torn;
	atomic_long_t poisoned;
	atomic_long_t too_long;	/* walks cut at RL_WALK_MAX (a cycle) */
	atomic_long_t longest;	/* longest walk, in entries */
	atomic_long_t updates;
	struct racelab_quarantine quar;	/* free-too-early */
	unsigned int since_gp;	/* writer only: kfree_rcu() since a wait */
};

static struct rl_state *rl_of(struct racelab_run *run)
{
	return run->priv;
}

static struct rl_entry *rl_new(struct rl_state *s)
{
	struct rl_entry *e = kmalloc(sizeof(*e), GFP_KERNEL);

	if (!e)
		return NULL;
	e->magic = RL_ALIVE;
	e->val = ++s->next_val;
	e->chk = ~e->val;
	return e;
}

static void rl_free(struct racelab_qentry *q)
{
	kfree(container_of(q, struct rl_entry, q));
}

static void rl_walked(struct rl_state *s, long n)
{
	long max = atomic_long_read(&s->longest);

	atomic_long_inc(&s->walks);
	while (n > max && !atomic_long_try_cmpxchg(&s->longest, &max, n))
		;
}

/* One entry as a reader sees it; the window is between its two halves. */
static __always_inline void rl_check(struct rl_state *s, struct rl_entry *e,
				     struct racelab_thread *t)
{
	u32 magic = e->magic;
	u64 val = e->val, chk;

	racelab_window(t);
	chk = e->chk;

	atomic_long_inc(&s->entries_seen);
	if (magic != RL_ALIVE || val == RL_POISON || chk == RL_POISON) {
		atomic_long_inc(&s->poisoned);
		racelab_anomaly(t->run);
	} else if (chk != ~val) {
		atomic_long_inc(&s->torn);
		racelab_anomaly(t->run);
	}
}

static noinline void rl_walk_rcu(struct rl_state *s, struct racelab_thread *t)
{
	struct rl_entry *e;
	unsigned int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(e, &s->head, node) {
		if (n++ == RL_WALK_MAX) {
			atomic_long_inc(&s->too_long);
			break;
		}
		if (racelab_should_stop(t->run))
			break;
		rl_check(s, e, t);
	}
	rcu_read_unlock();
	rl_walked(s, n);
}

/* Writer: append one entry; return the oldest once the list is full. */
static struct rl_entry *rl_rotate(struct rl_state *s, struct rl_entry *e)
{
	struct rl_entry *old = NULL;

	lockdep_assert_held(&s->lock);
	list_add_tail_rcu(&e->node, &s->head);
	if (++s->len > RL_LEN) {
		old = list_first_entry(&s->head, struct rl_entry, node);
		list_del_rcu(&old->node);
		s->len--;
	}
	return old;
}

static noinline void rl_locked_walk(struct rl_state *s,
				    struct racelab_thread *t)
{
	struct rl_entry *e;
	unsigned int n = 0;

	read_lock(&s->rwlock);
	list_for_each_entry(e, &s->head, node) {
		if (n++ == RL_WALK_MAX) {
			atomic_long_inc(&s->too_long);
			break;
		}
		if (racelab_should_stop(t->run))
			break;
		rl_check(s, e, t);
	}
	read_unlock(&s->rwlock);
	rl_walked(s, n);
}

static noinline bool rl_rcu_write(struct rl_state *s, struct racelab_thread *t)
{
	struct rl_entry *e = rl_new(s), *old;

	if (!e)
		return false;
	spin_lock(&s->lock);
	old = rl_rotate(s, e);
	spin_unlock(&s->lock);
	if (old)
		kfree_rcu(old, q.rcu);
	/*
	 * A writer that never waits outruns a slow reader: the reader never
	 * reaches the end of the list, no grace period ends and the
	 * kfree_rcu() backlog grows without bound. Wait now and then.
	 */
	racelab_kfree_rcu_bound(&s->since_gp);
	return true;
}

/* Reusing a removed entry before a grace period, made visible: poison. */
static noinline void rl_free_too_early_poison(struct racelab_qentry *q)
{
	struct rl_entry *e = container_of(q, struct rl_entry, q);

	/* ->node stays whole: a reader on the entry walks on. */
	e->magic = 0;
	e->val = RL_POISON;
	e->chk = RL_POISON;
}

static noinline bool rl_free_too_early_write(struct rl_state *s,
					     struct racelab_thread *t)
{
	struct rl_entry *e, *old;

	racelab_quarantine_wait(&s->quar, t->run);
	e = rl_new(s);
	if (!e)
		return false;
	spin_lock(&s->lock);
	old = rl_rotate(s, e);
	spin_unlock(&s->lock);
	/* "kfree(old)" with no grace period: poison; the real free after one */
	if (old)
		racelab_quarantine_put(&s->quar, &old->q,
				       rl_free_too_early_poison);
	return true;
}

static noinline bool rl_in_place_write(struct rl_state *s,
				       struct racelab_thread *t)
{
	struct rl_entry *e, *victim = NULL;
	u64 v = ++s->next_val;

	spin_lock(&s->lock);
	list_for_each_entry_rcu(e, &s->head, node, lockdep_is_held(&s->lock)) {
		victim = e;
		if (e->val & 1)
			break;
	}
	if (victim) {
		victim->val = v;
		racelab_window(t);
		victim->chk = ~v;
	}
	spin_unlock(&s->lock);
	return true;
}

static noinline bool rl_locked_write(struct rl_state *s,
				     struct racelab_thread *t)
{
	struct rl_entry *e = rl_new(s), *old = NULL;

	if (!e)
		return false;
	write_lock(&s->rwlock);
	list_add_tail(&e->node, &s->head);
	if (++s->len > RL_LEN) {
		old = list_first_entry(&s->head, struct rl_entry, node);
		list_del(&old->node);
		s->len--;
	}
	write_unlock(&s->rwlock);
	kfree(old);		/* readers hold the lock: none is on it */
	return true;
}

/* One mode's reader and writer. */
struct rl_ops {
	void (*read)(struct rl_state *s, struct racelab_thread *t);
	bool (*write)(struct rl_state *s, struct racelab_thread *t);
};

static bool rl_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rl_ops *ops = run->mode->ops;

	ops->read(rl_of(run), t);
	return true;
}

static bool rl_write(struct racelab_run *run, struct racelab_thread *t)
{
	const struct rl_ops *ops = run->mode->ops;
	struct rl_state *s = rl_of(run);

	if (!ops->write(s, t))
		return false;
	atomic_long_inc(&s->updates);
	return true;
}

static const struct racelab_mode rl_modes[] = {
	{
		.name = "in-place", .kind = RACELAB_RACY,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "the writer rewrites a live entry field by field",
		.ops = &(const struct rl_ops) {
			.read = rl_walk_rcu, .write = rl_in_place_write,
		},
		/* Narrow on every kernel: widen the reader's look at an entry. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "rl_in_place_write|rl_walk_rcu",
		},
	},
	{
		.name = "free-too-early", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "list_del_rcu() then reuse at once (poisoned, quarantined)",
		.ops = &(const struct rl_ops) {
			.read = rl_walk_rcu, .write = rl_free_too_early_write,
		},
		/* Narrow on every kernel: widen the reader's look at an entry. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_NOT_ASKED,
			.names = "rl_free_too_early_poison|rl_walk_rcu",
		},
	},
	{
		.name = "rcu", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "list_add_rcu/list_del_rcu under a spinlock, kfree_rcu()",
		.ops = &(const struct rl_ops) {
			.read = rl_walk_rcu, .write = rl_rcu_write,
		},
	},
	{
		.name = "reader-lock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "readers take a rwlock, the writer frees under it",
		.ops = &(const struct rl_ops) {
			.read = rl_locked_walk, .write = rl_locked_write,
		},
	},
};

static int rl_setup(struct racelab_run *run)
{
	struct rl_state *s;
	struct rl_entry *e;
	int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	INIT_LIST_HEAD(&s->head);
	spin_lock_init(&s->lock);
	rwlock_init(&s->rwlock);
	racelab_quarantine_init(&s->quar, RL_MAX_PENDING, rl_free);
	run->priv = s;
	for (i = 0; i < RL_LEN; i++) {
		e = rl_new(s);
		if (!e)
			return -ENOMEM;	/* teardown frees the rest */
		list_add_tail(&e->node, &s->head);
		s->len++;
	}
	return 0;
}

static void rl_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct rl_state *s = rl_of(run);
	u64 seen = atomic_long_read(&s->entries_seen);
	u64 torn = atomic_long_read(&s->torn);
	u64 poisoned = atomic_long_read(&s->poisoned);
	u64 too_long = atomic_long_read(&s->too_long);

	res->expected = seen;
	res->observed = seen - torn - poisoned;
	res->anomalies = torn + poisoned + too_long;
	snprintf(res->extra, sizeof(res->extra),
		 "walks=%ld entries_seen=%llu torn=%llu poisoned=%llu longest_walk=%ld walks_cut=%llu updates=%ld",
		 atomic_long_read(&s->walks), seen, torn, poisoned,
		 atomic_long_read(&s->longest), too_long,
		 atomic_long_read(&s->updates));
}

static void rl_teardown(struct racelab_run *run)
{
	struct rl_state *s = rl_of(run);
	struct rl_entry *e, *tmp;

	if (!s)
		return;
	racelab_quarantine_drain(&s->quar);	/* callbacks point at it */
	list_for_each_entry_safe(e, tmp, &s->head, node)
		kfree(e);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_rcu_list_scenario = {
	.name = "rcu-list",
	.about = "readers walk a list while a writer adds and removes entries",
	.modes = rl_modes,
	.nr_modes = ARRAY_SIZE(rl_modes),
	/* Unamplified on one CPU: 12 s, 109 runs to show (README, Figures). */
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 }, { "delay:1000" }),
	.read = rl_read,
	.write = rl_write,
	.setup = rl_setup,
	.verdict = rl_verdict,
	.teardown = rl_teardown,
};

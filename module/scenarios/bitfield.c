// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "bitfield": neighbours in one word.
 *
 * Each thread counts in a bit field of its own; nobody writes another's
 * field. But the fields share one word, and the CPU cannot store 13 bits
 * that start in the middle of a byte: the compiler loads the word, changes
 * the field and stores the whole word back. A neighbour's update that landed in between
 * is overwritten with its old value: a lost update in a field its owner
 * alone writes.
 *
 *   thread 0 (field a)        thread 1 (field b)
 *   w = word  (a=5 b=7)
 *                             w = word  (a=5 b=7)
 *   word = w with a=6
 *                             word = w with b=8   <- a is 5 again
 *
 * The updates are plain C, as a driver writes them: KCSAN sees the data
 * race on the word.
 *
 * Each thread checks its field after every update and counts what it
 * lost. The kernel's answer is one lock for the word (or atomic bit
 * operations); per-field locks protect nothing, and separate members are
 * separate memory locations that need no lock at all.
 *
 * The per-field locks are mutexes: a spinlock would disable preemption
 * across the window, and on one CPU the neighbour could never run inside
 * it (not even in a delay: the tick cannot preempt there), so the broken
 * fix would look like a fix. Under a mutex the window may be preempted or
 * sleep, as in a driver whose field locks are mutexes, and the word is
 * lost on one CPU as on several.
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/slab.h>

#include "racelab.h"

#define BF_FIELDS	4
#define BF_BITS		13	/* fields that share bytes: no narrow store */
#define BF_MASK		((1U << BF_BITS) - 1)

/* Four 13-bit fields in one word, as a driver's flags and counters. */
struct bf_word {
	u64 f0:BF_BITS;
	u64 f1:BF_BITS;
	u64 f2:BF_BITS;
	u64 f3:BF_BITS;
};

struct bf_state {
	struct bf_word word;		/* the shared word */
	atomic64_t packed;		/* the same four fields, for cmpxchg */
	u16 own[BF_FIELDS];		/* mode separate: a member each */
	spinlock_t lock;		/* mode spinlock: one for the word */
	struct mutex field_lock[BF_FIELDS];	/* lock-per-field */
	u16 mine[BF_FIELDS];		/* each thread's own count */
	atomic64_t lost;
};

static struct bf_state *bf_of(struct racelab_run *run)
{
	return run->priv;
}

static u16 bf_get(const struct bf_word *w, unsigned int f)
{
	switch (f) {
	case 0:
		return w->f0;
	case 1:
		return w->f1;
	case 2:
		return w->f2;
	default:
		return w->f3;
	}
}

/* One field's update: load the word, change 13 bits, store the word. */
static __always_inline void bf_inc(struct bf_word *w, unsigned int f,
				   struct racelab_thread *t)
{
	struct bf_word v = *w;

	switch (f) {
	case 0:
		v.f0++;
		break;
	case 1:
		v.f1++;
		break;
	case 2:
		v.f2++;
		break;
	default:
		v.f3++;
		break;
	}
	racelab_window(t);
	*w = v;
}

static noinline void bf_none_inc(struct bf_state *s, struct racelab_thread *t)
{
	bf_inc(&s->word, t->id, t);
}

/* Looks fixed: every field has a lock, but the word has none. */
static noinline void bf_lock_per_field_inc(struct bf_state *s,
					   struct racelab_thread *t)
{
	mutex_lock(&s->field_lock[t->id]);
	bf_inc(&s->word, t->id, t);
	mutex_unlock(&s->field_lock[t->id]);
}

static noinline void bf_spinlock_inc(struct bf_state *s,
				     struct racelab_thread *t)
{
	spin_lock(&s->lock);
	bf_inc(&s->word, t->id, t);
	spin_unlock(&s->lock);
}

/* The whole word, replaced only if nobody changed it meanwhile. */
static noinline void bf_cmpxchg_inc(struct bf_state *s,
				    struct racelab_thread *t)
{
	s64 old = atomic64_read(&s->packed), new;
	unsigned int shift = BF_BITS * t->id;

	do {
		racelab_window(t);
		new = (old & ~((s64)BF_MASK << shift)) |
		      ((((old >> shift) + 1) & BF_MASK) << shift);
	} while (!atomic64_try_cmpxchg(&s->packed, &old, new));
}

/* No shared word: a member of its own is a memory location of its own. */
static noinline void bf_separate_inc(struct bf_state *s,
				     struct racelab_thread *t)
{
	u16 v = READ_ONCE(s->own[t->id]);

	racelab_window(t);
	WRITE_ONCE(s->own[t->id], (v + 1) & BF_MASK);
}

/* One mode's update, and how to read a field back. */
struct bf_ops {
	void (*inc)(struct bf_state *s, struct racelab_thread *t);
	u16 (*field)(struct bf_state *s, unsigned int f);
};

/* A racy mode's owner looks at its field: marked, as a checker would. */
static noinline u16 bf_word_field(struct bf_state *s, unsigned int f)
{
	struct bf_word w = READ_ONCE(s->word);

	return bf_get(&w, f);
}

/* Under the word's lock, as every access of the fixed mode. */
static u16 bf_locked_field(struct bf_state *s, unsigned int f)
{
	struct bf_word w;

	spin_lock(&s->lock);
	w = s->word;
	spin_unlock(&s->lock);
	return bf_get(&w, f);
}

static u16 bf_packed_field(struct bf_state *s, unsigned int f)
{
	return (atomic64_read(&s->packed) >> (BF_BITS * f)) & BF_MASK;
}

static u16 bf_own_field(struct bf_state *s, unsigned int f)
{
	return READ_ONCE(s->own[f]);
}

/*
 * What the field's owner finds there, against what it counted, modulo the
 * field's range. Behind (by less than half the range): updates lost. Ahead:
 * a forward move, not a loss. With three threads or more, a neighbour's
 * stale copy can put back a value the owner wrote before it was lost (and
 * counted): a loss taken back is not a loss, and must not be counted as
 * (almost) a whole wrap of the field. Either way the owner goes on from
 * what is there, so each move is counted once.
 */
static void bf_check(struct racelab_run *run, struct bf_state *s,
		     unsigned int f, u16 found)
{
	u16 behind = (s->mine[f] - found) & BF_MASK;

	if (!behind)
		return;
	s->mine[f] = found;
	if (behind >= BF_MASK / 2)
		return;
	atomic64_add(behind, &s->lost);
	racelab_anomaly(run);
}

static bool bf_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct bf_ops *ops = run->mode->ops;
	struct bf_state *s = bf_of(run);

	ops->inc(s, t);
	s->mine[t->id] = (s->mine[t->id] + 1) & BF_MASK;
	bf_check(run, s, t->id, ops->field(s, t->id));
	return true;
}

static const struct racelab_mode bf_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "each thread its own bit field, all in one word, no lock",
		.ops = &(const struct bf_ops) {
			.inc = bf_none_inc, .field = bf_word_field,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "bf_none_inc|bf_word_field",
		},
	},
	{
		.name = "lock-per-field", .kind = RACELAB_BROKEN_FIX,
		/* A mutex each: the window may sleep, and races on one CPU. */
		.about = "a mutex per field: the word they share has none",
		.ops = &(const struct bf_ops) {
			.inc = bf_lock_per_field_inc, .field = bf_word_field,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "bf_lock_per_field_inc|bf_word_field",
		},
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_SERIAL_WINDOW,
		.about = "one spinlock for the word",
		.ops = &(const struct bf_ops) {
			.inc = bf_spinlock_inc, .field = bf_locked_field,
		},
	},
	{
		.name = "cmpxchg", .kind = RACELAB_FIXED,
		.about = "the word replaced with atomic64_try_cmpxchg()",
		.ops = &(const struct bf_ops) {
			.inc = bf_cmpxchg_inc, .field = bf_packed_field,
		},
	},
	{
		.name = "separate", .kind = RACELAB_FIXED,
		.about = "a u16 member each: separate memory locations, no lock",
		.ops = &(const struct bf_ops) {
			.inc = bf_separate_inc, .field = bf_own_field,
		},
	},
};

static int bf_setup(struct racelab_run *run)
{
	struct bf_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int i;

	if (!s)
		return -ENOMEM;
	spin_lock_init(&s->lock);
	for (i = 0; i < BF_FIELDS; i++)
		mutex_init(&s->field_lock[i]);
	run->priv = s;
	return 0;
}

/* Every update a thread made, against what its field kept. */
static void bf_verdict(struct racelab_run *run, struct racelab_result *res)
{
	const struct bf_ops *ops = run->mode->ops;
	struct bf_state *s = bf_of(run);
	unsigned int f;

	for (f = 0; f < run->cfg.threads; f++) {
		bf_check(run, s, f, ops->field(s, f));
		res->expected += run->thr[f].ops;
	}
	res->anomalies = atomic64_read(&s->lost);
	res->observed = res->expected - min(res->expected, res->anomalies);
	snprintf(res->extra, sizeof(res->extra), "lost=%lld",
		 atomic64_read(&s->lost));
}

static void bf_teardown(struct racelab_run *run)
{
	struct bf_state *s = bf_of(run);
	int i;

	/* Called after a failed setup too. */
	for (i = 0; s && i < BF_FIELDS; i++)
		mutex_destroy(&s->field_lock[i]);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_bitfield_scenario = {
	.name = "bitfield",
	.about = "each thread its own bit field; the word they share is lost",
	.modes = bf_modes,
	.nr_modes = ARRAY_SIZE(bf_modes),
	.step = bf_step,
	/* One field per thread. */
	.max_threads = BF_FIELDS,
	/* Unamplified, one CPU must preempt between a load and its store. */
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 }, { "delay:1000" }),
	.detect_amplifier = "none",
	.setup = bf_setup,
	.verdict = bf_verdict,
	.teardown = bf_teardown,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "counter": the lost update.
 *
 * Every thread adds 1 to a shared counter, iterations times. A plain
 * read-modify-write lets two threads read the same value and both write
 * value + 1: one increment is lost. Expected: threads * iterations (the
 * iterations actually done, should the run be stopped or time out).
 *
 *   thread 0          thread 1
 *   v = c   (5)
 *                     v = c   (5)
 *   c = v + 1 (6)
 *                     c = v + 1 (6)    <- lost update
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

struct counter_state {
	long value;		/* the plain shared counter */
	atomic_long_t atomic;	/* for the atomic_t modes */
	long __percpu *pcpu;	/* for the per-CPU mode */
	spinlock_t lock;	/* mode spinlock */
	struct mutex mutex;	/* mode mutex */
	struct mutex own[RACELAB_MAX_THREADS];	/* lock-per-thread */
	long local[RACELAB_SCRIPT_THREADS];	/* a replayed thread's v */
};

static struct counter_state *counter_of(struct racelab_run *run)
{
	return run->priv;
}

/*
 * Each mode's access is its own small noinline function, so that the
 * disassembly shows one load and one store and a KCSAN report names it.
 */
static noinline void counter_none_inc(struct counter_state *c,
				      struct racelab_thread *t)
{
	long v = c->value;

	racelab_window(t);
	c->value = v + 1;
}

static bool counter_none_step(struct racelab_run *run, struct racelab_thread *t)
{
	counter_none_inc(counter_of(run), t);
	return true;
}

/* Looks fixed: a lock around the update, but every thread has its own. */
static noinline void counter_lock_per_thread_inc(struct counter_state *c,
						 struct racelab_thread *t)
{
	long v;

	mutex_lock(&c->own[t->id]);
	v = c->value;
	racelab_window(t);
	c->value = v + 1;
	mutex_unlock(&c->own[t->id]);
}

static bool counter_lock_per_thread_step(struct racelab_run *run,
					 struct racelab_thread *t)
{
	counter_lock_per_thread_inc(counter_of(run), t);
	return true;
}

/* Looks fixed: both accesses are atomic, the read-modify-write is not. */
static noinline void counter_atomic_read_set_inc(struct counter_state *c,
						 struct racelab_thread *t)
{
	long v = atomic_long_read(&c->atomic);

	racelab_window(t);
	atomic_long_set(&c->atomic, v + 1);
}

static bool counter_atomic_read_set_step(struct racelab_run *run,
					 struct racelab_thread *t)
{
	counter_atomic_read_set_inc(counter_of(run), t);
	return true;
}

static noinline void counter_spinlock_inc(struct counter_state *c,
					  struct racelab_thread *t)
{
	long v;

	spin_lock(&c->lock);
	v = c->value;
	racelab_window(t);
	c->value = v + 1;
	spin_unlock(&c->lock);
}

static bool counter_spinlock_step(struct racelab_run *run,
				  struct racelab_thread *t)
{
	counter_spinlock_inc(counter_of(run), t);
	return true;
}

static noinline void counter_mutex_inc(struct counter_state *c,
				       struct racelab_thread *t)
{
	long v;

	mutex_lock(&c->mutex);
	v = c->value;
	racelab_window(t);
	c->value = v + 1;
	mutex_unlock(&c->mutex);
}

static bool counter_mutex_step(struct racelab_run *run,
			       struct racelab_thread *t)
{
	counter_mutex_inc(counter_of(run), t);
	return true;
}

/*
 * One indivisible instruction has no window: the amplifier runs just before
 * it, so that every mode pays the same cost per iteration.
 */
static noinline void counter_atomic_inc(struct counter_state *c,
					struct racelab_thread *t)
{
	racelab_window(t);
	atomic_long_inc(&c->atomic);
}

static bool counter_atomic_step(struct racelab_run *run,
				struct racelab_thread *t)
{
	counter_atomic_inc(counter_of(run), t);
	return true;
}

/* No sharing at all: each CPU counts on its own, summed at the end. */
static noinline void counter_percpu_inc(struct counter_state *c,
					struct racelab_thread *t)
{
	racelab_window(t);
	this_cpu_inc(*c->pcpu);
}

static bool counter_percpu_step(struct racelab_run *run,
				struct racelab_thread *t)
{
	counter_percpu_inc(counter_of(run), t);
	return true;
}

enum counter_mode {
	COUNTER_NONE,
	COUNTER_LOCK_PER_THREAD,
	COUNTER_ATOMIC_READ_SET,
	COUNTER_SPINLOCK,
	COUNTER_MUTEX,
	COUNTER_ATOMIC,
	COUNTER_PERCPU,
};

static const struct racelab_mode counter_modes[] = {
	[COUNTER_NONE] = {
		.name = "none", .kind = RACELAB_RACY,
		.about = "plain v = c; c = v + 1",
		.step = counter_none_step,
	},
	[COUNTER_LOCK_PER_THREAD] = {
		.name = "lock-per-thread", .kind = RACELAB_BROKEN_FIX,
		.about = "each thread locks its own mutex: protects nothing",
		.step = counter_lock_per_thread_step,
	},
	[COUNTER_ATOMIC_READ_SET] = {
		.name = "atomic-read-set", .kind = RACELAB_BROKEN_FIX,
		.about = "atomic_set(a, atomic_read(a) + 1): no data race, still lost",
		.step = counter_atomic_read_set_step,
	},
	[COUNTER_SPINLOCK] = {
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "read-modify-write under one spinlock",
		.step = counter_spinlock_step,
	},
	[COUNTER_MUTEX] = {
		.name = "mutex", .kind = RACELAB_FIXED,
		.about = "read-modify-write under one mutex",
		.step = counter_mutex_step,
	},
	[COUNTER_ATOMIC] = {
		.name = "atomic", .kind = RACELAB_FIXED,
		.about = "atomic_long_inc()",
		.step = counter_atomic_step,
	},
	[COUNTER_PERCPU] = {
		.name = "percpu", .kind = RACELAB_FIXED,
		.about = "this_cpu_inc() on per-CPU counters, summed at the end",
		.step = counter_percpu_step,
	},
};

static int counter_setup(struct racelab_run *run)
{
	struct counter_state *c;
	unsigned int i;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->pcpu = alloc_percpu(long);
	if (!c->pcpu) {
		kfree(c);
		return -ENOMEM;
	}
	spin_lock_init(&c->lock);
	mutex_init(&c->mutex);
	for (i = 0; i < RACELAB_MAX_THREADS; i++)
		mutex_init(&c->own[i]);
	atomic_long_set(&c->atomic, 0);
	run->priv = c;
	return 0;
}

static void counter_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct counter_state *c = counter_of(run);
	u64 observed = 0;
	int cpu;

	/* The threads are reaped: nothing writes the state any more. */
	switch (run->cfg.mode) {
	case COUNTER_ATOMIC_READ_SET:
	case COUNTER_ATOMIC:
		observed = atomic_long_read(&c->atomic);
		break;
	case COUNTER_PERCPU:
		for_each_possible_cpu(cpu)
			observed += *per_cpu_ptr(c->pcpu, cpu);
		break;
	default:
		observed = c->value;
		break;
	}
	res->expected = res->ops;
	res->observed = observed;
	/* Lost updates; a count above expected would be a bug of its own. */
	res->anomalies = observed < res->ops ? res->ops - observed :
					       observed - res->ops;
}

static void counter_teardown(struct racelab_run *run)
{
	struct counter_state *c = counter_of(run);
	unsigned int i;

	if (!c)
		return;
	mutex_destroy(&c->mutex);
	for (i = 0; i < RACELAB_MAX_THREADS; i++)
		mutex_destroy(&c->own[i]);
	free_percpu(c->pcpu);
	kfree(c);
	run->priv = NULL;
}

/* Replay: R reads the counter, M adds 1 to the thread's copy, W writes it. */
static void counter_script_exec(struct racelab_run *run, unsigned int thread,
				char step)
{
	struct counter_state *c = counter_of(run);

	switch (step) {
	case 'R':
		c->local[thread] = c->value;
		break;
	case 'M':
		c->local[thread]++;
		break;
	case 'W':
		c->value = c->local[thread];
		break;
	}
}

static void counter_script_verdict(struct racelab_run *run,
				   struct racelab_result *res)
{
	struct counter_state *c = counter_of(run);

	res->expected = RACELAB_SCRIPT_THREADS;
	res->observed = c->value;
	res->anomalies = res->expected - min_t(u64, res->expected, c->value);
	snprintf(res->extra, sizeof(res->extra), "value=%ld", c->value);
}

static const struct racelab_script_ops counter_script = {
	.steps = "RMW",
	.exec = counter_script_exec,
	.verdict = counter_script_verdict,
};

const struct racelab_scenario racelab_counter_scenario = {
	.name = "counter",
	.about = "lost update: concurrent counter++",
	.script = &counter_script,
	.modes = counter_modes,
	.nr_modes = ARRAY_SIZE(counter_modes),
	.setup = counter_setup,
	.verdict = counter_verdict,
	.teardown = counter_teardown,
};

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

/* Looks fixed: both accesses are atomic, the read-modify-write is not. */
static noinline void counter_atomic_read_set_inc(struct counter_state *c,
						 struct racelab_thread *t)
{
	long v = atomic_long_read(&c->atomic);

	racelab_window(t);
	atomic_long_set(&c->atomic, v + 1);
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

/* No sharing at all: each CPU counts on its own, summed at the end. */
static noinline void counter_percpu_inc(struct counter_state *c,
					struct racelab_thread *t)
{
	racelab_window(t);
	this_cpu_inc(*c->pcpu);
}

/* One mode's increment, and where its count ends up. */
struct counter_ops {
	void (*inc)(struct counter_state *c, struct racelab_thread *t);
	u64 (*total)(struct counter_state *c);
};

static u64 counter_plain_total(struct counter_state *c)
{
	return c->value;
}

static u64 counter_atomic_total(struct counter_state *c)
{
	return atomic_long_read(&c->atomic);
}

static u64 counter_percpu_total(struct counter_state *c)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(c->pcpu, cpu);
	return sum;
}

static bool counter_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct counter_ops *ops = run->mode->ops;

	ops->inc(counter_of(run), t);
	return true;
}

static const struct racelab_mode counter_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "plain v = c; c = v + 1",
		.ops = &(const struct counter_ops) {
			.inc = counter_none_inc, .total = counter_plain_total,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "counter_none_inc",
		},
	},
	{
		.name = "lock-per-thread", .kind = RACELAB_BROKEN_FIX,
		.about = "each thread locks its own mutex: protects nothing",
		.ops = &(const struct counter_ops) {
			.inc = counter_lock_per_thread_inc,
			.total = counter_plain_total,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "counter_lock_per_thread_inc",
		},
	},
	{
		.name = "atomic-read-set", .kind = RACELAB_BROKEN_FIX,
		.about = "atomic_set(a, atomic_read(a) + 1): no data race, still lost",
		.ops = &(const struct counter_ops) {
			.inc = counter_atomic_read_set_inc,
			.total = counter_atomic_total,
		},
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_SERIAL_WINDOW,
		.about = "read-modify-write under one spinlock",
		.ops = &(const struct counter_ops) {
			.inc = counter_spinlock_inc, .total = counter_plain_total,
		},
	},
	{
		.name = "mutex", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_SERIAL_WINDOW,
		.about = "read-modify-write under one mutex",
		.ops = &(const struct counter_ops) {
			.inc = counter_mutex_inc, .total = counter_plain_total,
		},
	},
	{
		.name = "atomic", .kind = RACELAB_FIXED,
		.about = "atomic_long_inc()",
		.ops = &(const struct counter_ops) {
			.inc = counter_atomic_inc, .total = counter_atomic_total,
		},
	},
	{
		.name = "percpu", .kind = RACELAB_FIXED,
		.about = "this_cpu_inc() on per-CPU counters, summed at the end",
		.ops = &(const struct counter_ops) {
			.inc = counter_percpu_inc, .total = counter_percpu_total,
		},
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
	const struct counter_ops *ops = run->mode->ops;
	/* The threads are reaped: nothing writes the state any more. */
	u64 observed = ops->total(counter_of(run));

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

/* The tests' oracle: the same steps on paper. */
static void counter_model_init(struct racelab_script_model *m)
{
	m->shared = 0;
}

static void counter_model_step(struct racelab_script_model *m,
			       unsigned int thread, char step)
{
	if (step == 'R')
		m->local[thread] = m->shared;
	else if (step == 'M')
		m->local[thread]++;
	else
		m->shared = m->local[thread];
}

static void counter_model_result(const struct racelab_script_model *m,
				 u64 *observed, bool *anomaly)
{
	*observed = m->shared;
	*anomaly = m->shared != RACELAB_SCRIPT_THREADS;
}

static const struct racelab_script_ops counter_script = {
	.steps = "RMW",
	.exec = counter_script_exec,
	.verdict = counter_script_verdict,
	.model_init = counter_model_init,
	.model_step = counter_model_step,
	.model_result = counter_model_result,
};

const struct racelab_scenario racelab_counter_scenario = {
	.name = "counter",
	.about = "lost update: concurrent counter++",
	.script = &counter_script,
	.knobs = (const struct racelab_knob *const[]) {
		&racelab_knob_schedule, NULL,
	},
	.modes = counter_modes,
	.nr_modes = ARRAY_SIZE(counter_modes),
	.plans = RACELAB_PLANS({ "none" }, { "delay:1000" }, { "sleep" }),
	.detect_amplifier = "none",
	.step = counter_step,
	.setup = counter_setup,
	.verdict = counter_verdict,
	.teardown = counter_teardown,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "irq-counter": a counter shared with an interrupt on one CPU.
 *
 * Each thread owns a counter and a pinned hrtimer that fires in hard
 * interrupt context on the thread's own CPU (HRTIMER_MODE_REL_PINNED_HARD),
 * as a driver's statistics are bumped by its process-context path and by
 * its interrupt handler. Both add 1 to the counter. A process-context
 * read-modify-write that the interrupt lands in loses the handler's
 * increment, with no second CPU involved:
 *
 *   thread (process context)     hard interrupt, same CPU
 *   v = value      (5)
 *                                value++        (6)
 *   value = v + 1  (6)   <- the handler's increment is lost
 *
 * Each side also counts its own increments privately (the thread its
 * increments, the handler its runs): expected is their sum, observed the
 * counter, anomalies the difference.
 *
 * Each thread arms its timer at the start of a step and cancels it
 * (hrtimer_cancel()) before the step returns, with migration disabled in
 * between: the timer fires only on the thread's CPU, and only while the
 * step runs; no callback outlives a step. The period grows with the
 * threads that share a CPU, so that the interrupt rate of a CPU stays
 * bounded (TCG must not drown in interrupts).
 *
 *   none              plain v = value; value = v + 1: the race
 *   preempt-disable   looks fixed: no preemption, but interrupts still land
 *   spin-lock         looks fixed: spin_lock() with interrupts on. A
 *                     handler that spins on the lock its own interrupted
 *                     context holds deadlocks the CPU; this one takes it
 *                     only when that context is outside its lock section,
 *                     and otherwise spin_trylock()s: a failure is the
 *                     anomaly ("would deadlock"). Lockdep reports the
 *                     lock's inconsistent irq usage: a detector experiment
 *   spin-lock-irqsave the fix: spin_lock_irqsave() in process context
 *   local-irq-save    the fix for CPU-local data: local_irq_save()
 *   this-cpu-inc      the fix: this_cpu_inc() on a per-CPU counter, one
 *                     instruction that no interrupt splits
 */
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"
#include "racelab_compat.h"

/* A CPU's timer interrupts come this often, whatever its thread count. */
#define IRQC_PERIOD_NS		(40 * NSEC_PER_USEC)
/* A step ends once its timer fired this often, with one increment done. */
#define IRQC_FIRES		2
/* ... or after this many fires, whatever the handler could do. */
#define IRQC_MAX_FIRES		64

static struct lock_class_key irqc_lock_key;

struct irqc_state;

/* One thread's counter and the timer that shares it, on its CPU. */
struct irqc_slot {
	struct hrtimer timer;
	struct irqc_state *s;
	struct racelab_run *run;
	spinlock_t lock;		/* the spin-lock modes' */
	struct task_struct *owner;	/* spin-lock: the task holding lock */
	long value;			/* the counter: thread and timer add 1 */
	unsigned long proc;		/* thread's increments: only it writes */
	unsigned long irq;		/* handler runs: only the handler writes */
	unsigned long added;		/* runs that could add: the handler's */
	unsigned long would_deadlock;	/* spin-lock: trylock on our own holder */
} ____cacheline_aligned_in_smp;

struct irqc_state {
	long __percpu *pcpu;		/* this-cpu-inc's counter */
	ktime_t period;
	unsigned int nr;
	struct irqc_slot slot[];
};

/* A mode's two sides: the thread's increment and the handler's. */
struct irqc_ops {
	void (*inc)(struct irqc_state *s, struct irqc_slot *sl,
		    struct racelab_thread *t);
	bool (*irq)(struct irqc_state *s, struct irqc_slot *sl);
	bool percpu;			/* counts in s->pcpu, not sl->value */
	bool until_held;		/* a step waits for one would-deadlock */
};

/*
 * x86 compiles a plain value++ to one addq to memory, which no interrupt
 * on its own CPU can split (another CPU can). Kernel code is not always
 * that lucky (a load/store architecture, a value computed in between): the
 * modes write the load and the store apart, with the window between, and
 * barrier() keeps the compiler from folding them into one instruction.
 */
static noinline void irqc_none_inc(struct irqc_state *s, struct irqc_slot *sl,
				   struct racelab_thread *t)
{
	long v = sl->value;

	racelab_window(t);
	barrier();
	sl->value = v + 1;
}

/* Looks fixed: nothing preempts the update, the interrupt still lands. */
static noinline void irqc_preempt_inc(struct irqc_state *s,
				      struct irqc_slot *sl,
				      struct racelab_thread *t)
{
	long v;

	preempt_disable();
	v = sl->value;
	racelab_window(t);
	barrier();
	sl->value = v + 1;
	preempt_enable();
}

/* Looks fixed: a lock, taken with interrupts on. */
static noinline void irqc_spin_lock_inc(struct irqc_state *s,
					struct irqc_slot *sl,
					struct racelab_thread *t)
{
	long v;

	/* From before it is taken to after it is released: see the handler. */
	WRITE_ONCE(sl->owner, current);
	spin_lock(&sl->lock);
	v = sl->value;
	racelab_window(t);
	sl->value = v + 1;
	spin_unlock(&sl->lock);
	WRITE_ONCE(sl->owner, NULL);
}

static noinline void irqc_irqsave_inc(struct irqc_state *s,
				      struct irqc_slot *sl,
				      struct racelab_thread *t)
{
	unsigned long flags;
	long v;

	spin_lock_irqsave(&sl->lock, flags);
	v = sl->value;
	racelab_window(t);
	sl->value = v + 1;
	spin_unlock_irqrestore(&sl->lock, flags);
}

/* The counter is the CPU's own: masking its interrupts is enough. */
static noinline void irqc_local_irq_inc(struct irqc_state *s,
					struct irqc_slot *sl,
					struct racelab_thread *t)
{
	unsigned long flags;
	long v;

	local_irq_save(flags);
	v = sl->value;
	racelab_window(t);
	sl->value = v + 1;
	local_irq_restore(flags);
}

/*
 * One instruction, no window: the amplifier runs just before it, so that
 * every mode pays the same cost per increment.
 */
static noinline void irqc_this_cpu_inc(struct irqc_state *s,
				       struct irqc_slot *sl,
				       struct racelab_thread *t)
{
	racelab_window(t);
	this_cpu_inc(*s->pcpu);
}

/*
 * The handlers' sides, which return whether they could add. Nothing
 * interrupts a hard interrupt handler.
 */
static bool irqc_plain_irq(struct irqc_state *s, struct irqc_slot *sl)
{
	sl->value++;
	return true;
}

static bool irqc_locked_irq(struct irqc_state *s, struct irqc_slot *sl)
{
	spin_lock(&sl->lock);
	sl->value++;
	spin_unlock(&sl->lock);
	return true;
}

/*
 * The buggy driver's handler takes the lock with spin_lock(). That spins
 * forever when the task it interrupted holds the lock: the CPU it needs to
 * release it is this one. Only that task and this handler, on its CPU,
 * take this lock, and the task cannot be preempted while it holds it. So
 * when the interrupted task is outside its lock section (owner is set
 * from before spin_lock() to after spin_unlock()), the lock is free and
 * spin_lock() is safe: that is the acquisition lockdep sees in a hard
 * interrupt (a trylock it would not count: a trylock cannot deadlock).
 * Inside it, the handler only tries; a failure is the would-deadlock.
 */
static bool irqc_trylock_irq(struct irqc_state *s, struct irqc_slot *sl)
{
	/* current is the task this interrupt interrupted. */
	if (READ_ONCE(sl->owner) != current)
		return irqc_locked_irq(s, sl);
	if (spin_trylock(&sl->lock)) {	/* before its spin_lock(), or after */
		sl->value++;
		spin_unlock(&sl->lock);
		return true;
	}
	WRITE_ONCE(sl->would_deadlock, sl->would_deadlock + 1);
	racelab_anomaly(sl->run);
	return false;
}

static bool irqc_percpu_irq(struct irqc_state *s, struct irqc_slot *sl)
{
	this_cpu_inc(*s->pcpu);
	return true;
}

static enum hrtimer_restart irqc_timer_fn(struct hrtimer *timer)
{
	struct irqc_slot *sl = container_of(timer, struct irqc_slot, timer);
	const struct irqc_ops *ops = sl->run->mode->ops;

	if (ops->irq(sl->s, sl))
		WRITE_ONCE(sl->added, sl->added + 1);
	/* A run, counted whether or not it could add: the handler's own. */
	WRITE_ONCE(sl->irq, sl->irq + 1);
	hrtimer_forward_now(timer, sl->s->period);
	return HRTIMER_RESTART;
}

static void irqc_inc(const struct irqc_ops *ops, struct irqc_state *s,
		     struct irqc_slot *sl, struct racelab_thread *t)
{
	ops->inc(s, sl, t);
	sl->proc++;
}

/*
 * A step: one increment with the timer idle (so that lockdep sees the
 * lock taken with interrupts on before the handler takes it), then
 * increments while the timer fires, until it fired IRQC_FIRES times and
 * its handler could add at least once (and, for spin-lock, found its
 * interrupted task holding the lock once), or fired IRQC_MAX_FIRES times.
 */
static bool irqc_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct irqc_ops *ops = run->mode->ops;
	struct irqc_state *s = run->priv;
	struct irqc_slot *sl = &s->slot[t->id];
	unsigned long fired0, added0, held0;
	unsigned long fired;
	unsigned int i;

	migrate_disable();
	irqc_inc(ops, s, sl, t);
	/* Each only grows: a read that misses a run sees it next time. */
	fired0 = READ_ONCE(sl->irq);
	added0 = READ_ONCE(sl->added);
	held0 = READ_ONCE(sl->would_deadlock);
	hrtimer_start(&sl->timer, s->period, HRTIMER_MODE_REL_PINNED_HARD);
	for (i = 1; !racelab_should_stop(run); i++) {
		irqc_inc(ops, s, sl, t);
		fired = READ_ONCE(sl->irq) - fired0;
		if ((fired >= IRQC_FIRES && READ_ONCE(sl->added) != added0 &&
		     (!ops->until_held ||
		      READ_ONCE(sl->would_deadlock) != held0)) ||
		    fired >= IRQC_MAX_FIRES)
			break;
		if (!(i & 63))
			cond_resched();
	}
	hrtimer_cancel(&sl->timer);
	migrate_enable();
	/* The timer is idle: a counter behind its two counts lost some. */
	if (!ops->percpu && sl->value != sl->proc + sl->irq)
		racelab_anomaly(run);
	return true;
}

/*
 * A mode's expectations. KCSAN cannot see this race: with
 * CONFIG_KCSAN_INTERRUPT_WATCHER off (the default, and the lab's KCSAN
 * kernel), KCSAN disables interrupts while it watches an access, so the
 * interrupt that would hit the watchpoint never lands there, and no other
 * CPU touches the counter. With the option on, it could report: not asked.
 */
#define IRQC_KCSAN							\
	.expect[RACELAB_KCSAN] = {					\
		.says = IS_ENABLED(CONFIG_KCSAN_INTERRUPT_WATCHER) ?	\
			RACELAB_NOT_ASKED : RACELAB_SILENT,		\
	}

/* What lockdep's report of spin-lock must say. */
#define IRQC_INCONSISTENT \
	"inconsistent lock state|{HARDIRQ-ON-W} -> {IN-HARDIRQ-W}"

enum {
	IRQC_NONE, IRQC_PREEMPT, IRQC_SPIN_LOCK, IRQC_IRQSAVE, IRQC_LOCAL_IRQ,
	IRQC_THIS_CPU,
};

static const struct racelab_mode irqc_modes[] = {
	[IRQC_NONE] = {
		.name = "none", .kind = RACELAB_RACY,
		.about = "plain v = value; value = v + 1, the timer's handler adds too",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_none_inc, .irq = irqc_plain_irq,
		},
		IRQC_KCSAN,
	},
	[IRQC_PREEMPT] = {
		.name = "preempt-disable", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "preempt_disable() around it: the interrupt still lands",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_preempt_inc, .irq = irqc_plain_irq,
		},
		IRQC_KCSAN,
	},
	[IRQC_SPIN_LOCK] = {
		.name = "spin-lock", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_EXPERIMENT |
			 RACELAB_MODE_LOCKDEP_OFF,
		.about = "spin_lock() with interrupts on: the handler would deadlock",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_spin_lock_inc, .irq = irqc_trylock_irq,
			/* Its experiment is one step: let it show both. */
			.until_held = true,
		},
		/* Held across most of an increment: the interrupt finds it held. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = IRQC_INCONSISTENT "|racelab_irqc_lock",
		},
	},
	[IRQC_IRQSAVE] = {
		.name = "spin-lock-irqsave", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "spin_lock_irqsave() in process context, spin_lock() in the handler",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_irqsave_inc, .irq = irqc_locked_irq,
		},
	},
	[IRQC_LOCAL_IRQ] = {
		.name = "local-irq-save", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "local_irq_save(): the CPU's own interrupt cannot land",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_local_irq_inc, .irq = irqc_plain_irq,
		},
	},
	[IRQC_THIS_CPU] = {
		.name = "this-cpu-inc", .kind = RACELAB_FIXED,
		.about = "this_cpu_inc() on a per-CPU counter, both sides",
		.ops = &(const struct irqc_ops) {
			.inc = irqc_this_cpu_inc, .irq = irqc_percpu_irq,
			.percpu = true,
		},
	},
};

/*
 * Without CONFIG_PROVE_LOCKING, spin-lock still runs and still counts its
 * would-deadlock events: only its lockdep report is missing, so it is not
 * refused there. On PREEMPT_RT a spinlock_t sleeps and must not be taken
 * in a hard interrupt at all: both spin-lock modes are refused there.
 */
static int irqc_validate(const struct racelab_cfg *cfg, const char **why)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT) &&
	    (cfg->mode == IRQC_SPIN_LOCK || cfg->mode == IRQC_IRQSAVE)) {
		*why = "on PREEMPT_RT a spinlock_t sleeps: never in a hard interrupt";
		return -EINVAL;
	}
	return 0;
}

static int irqc_setup(struct racelab_run *run)
{
	const struct racelab_cfg *cfg = &run->cfg;
	unsigned int i, cpus;
	struct irqc_state *s;

	s = kzalloc(struct_size(s, slot, cfg->threads), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->pcpu = alloc_percpu(long);
	if (!s->pcpu) {
		kfree(s);
		return -ENOMEM;
	}
	/* Threads are bound round robin (RACELAB_SCN_PIN): per CPU, this many. */
	cpus = cfg->pinned ? cpumask_weight(&cfg->cpus) : num_online_cpus();
	s->period = ns_to_ktime(IRQC_PERIOD_NS *
				DIV_ROUND_UP(cfg->threads, max(cpus, 1U)));
	s->nr = cfg->threads;
	for (i = 0; i < s->nr; i++) {
		struct irqc_slot *sl = &s->slot[i];

		sl->s = s;
		sl->run = run;
		spin_lock_init(&sl->lock);
		lockdep_set_class_and_name(&sl->lock, &irqc_lock_key,
					   "racelab_irqc_lock");
		racelab_hrtimer_setup(&sl->timer, irqc_timer_fn, CLOCK_MONOTONIC,
				      HRTIMER_MODE_REL_PINNED_HARD);
	}
	run->priv = s;
	return 0;
}

static void irqc_verdict(struct racelab_run *run, struct racelab_result *res)
{
	const struct irqc_ops *ops = run->mode->ops;
	struct irqc_state *s = run->priv;
	u64 proc = 0, irq = 0, value = 0, wd = 0, lost;
	unsigned int i;
	int cpu;

	/* The threads are reaped, each cancelled its timer: all is still. */
	for (i = 0; i < s->nr; i++) {
		proc += s->slot[i].proc;
		irq += s->slot[i].irq;
		value += s->slot[i].value;
		wd += s->slot[i].would_deadlock;
	}
	if (ops->percpu) {
		value = 0;
		for_each_possible_cpu(cpu)
			value += *per_cpu_ptr(s->pcpu, cpu);
	}
	res->expected = proc + irq;
	res->observed = value;
	/* Lost updates and would-deadlocks; above expected would be a bug. */
	res->anomalies = value < proc + irq ? proc + irq - value :
					      value - proc - irq;
	lost = res->anomalies > wd ? res->anomalies - wd : 0;
	snprintf(res->extra, sizeof(res->extra),
		 "process_incs=%llu irq_incs=%llu lost=%llu would_deadlock=%llu period_us=%lld",
		 proc, irq, lost, wd, ktime_to_us(s->period));
}

static void irqc_teardown(struct racelab_run *run)
{
	struct irqc_state *s = run->priv;
	unsigned int i;

	if (!s)
		return;
	/* Every step cancelled its own; a thread that never ran armed none. */
	for (i = 0; i < s->nr; i++)
		hrtimer_cancel(&s->slot[i].timer);
	free_percpu(s->pcpu);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_irq_counter_scenario = {
	.name = "irq-counter",
	.about = "a counter shared by a thread and its own CPU's hard interrupt",
	.flags = RACELAB_SCN_PIN,
	.modes = irqc_modes,
	.nr_modes = ARRAY_SIZE(irqc_modes),
	.step = irqc_step,
	/* One CPU shows it: the interrupt comes to the thread's own CPU. */
	.plans = RACELAB_PLANS({ "none" }, { "delay:1000" }),
	.one_cpu_amplifier = "none",
	.validate = irqc_validate,
	.setup = irqc_setup,
	.verdict = irqc_verdict,
	.teardown = irqc_teardown,
};

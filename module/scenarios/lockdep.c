// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "lockdep": lock-debugging experiments, one per boot.
 *
 * Each racy mode makes one of the kernel's lock checkers report a bug that
 * has not happened (yet), and each fixed mode does the same work the right
 * way. Lockdep reports only once and then turns itself off for the rest of
 * the boot: run one experiment per boot (the lab does).
 *
 *   abba                 A then B on one path, B then A on another, one
 *                        after the other: nothing deadlocks, lockdep sees
 *                        the cycle ("possible circular locking dependency")
 *   irq-unsafe           a spinlock taken with interrupts on, then from a
 *                        hard interrupt ("inconsistent lock state")
 *   sleep-in-atomic      might_sleep() under a spinlock ("sleeping function
 *                        called from invalid context"); nothing sleeps
 *   rcu-outside-reader   rcu_dereference() outside rcu_read_lock()
 *                        ("suspicious RCU usage")
 *   real-deadlock        two threads really deadlock on AB-BA; the run's
 *                        time limit or a stop ends it: kthread_stop()
 *                        interrupts mutex_lock_interruptible() (-EINTR)
 *                        and every other wait here is interruptible too
 *
 * The experiments need the matching debug options and are refused with
 * -EINVAL (and a message) on a kernel without them, like lib/test_lockup.c.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

/* Distinct classes with names that the reports will show. */
static struct lock_class_key ld_key_a, ld_key_b, ld_key_irq, ld_key_atomic;

struct ld_state {
	struct mutex a;		/* racelab_lock_A */
	struct mutex b;		/* racelab_lock_B */
	spinlock_t irq_lock;	/* also taken in hard interrupt context */
	spinlock_t atomic_lock;	/* held around might_sleep() */
	struct hrtimer timer;
	struct completion fired;
	int __rcu *ptr;
	int value;
	struct completion holds[2];	/* real-deadlock: first lock taken */
	atomic_t interrupted;		/* real-deadlock: waits cut by -EINTR */
	atomic_t reports_expected;	/* racy steps done */
};

enum {
	LD_ABBA, LD_ORDERED, LD_IRQ_UNSAFE, LD_IRQSAVE, LD_SLEEP_IN_ATOMIC,
	LD_SLEEP_OUTSIDE, LD_RCU_OUTSIDE, LD_RCU_READER, LD_REAL_DEADLOCK,
};

static struct ld_state *ld_of(struct racelab_run *run)
{
	return run->priv;
}

static noinline void ld_a_then_b(struct ld_state *s)
{
	mutex_lock(&s->a);
	mutex_lock(&s->b);
	mutex_unlock(&s->b);
	mutex_unlock(&s->a);
}

static noinline void ld_b_then_a(struct ld_state *s)
{
	mutex_lock(&s->b);
	mutex_lock(&s->a);
	mutex_unlock(&s->a);
	mutex_unlock(&s->b);
}

static bool ld_abba_step(struct racelab_run *run, struct racelab_thread *t)
{
	if (t->id)
		return false;	/* one thread does the experiment */
	ld_a_then_b(ld_of(run));
	ld_b_then_a(ld_of(run));
	return false;	/* one report is the experiment: once */
}

static bool ld_ordered_step(struct racelab_run *run, struct racelab_thread *t)
{
	if (t->id)
		return false;	/* one thread does the experiment */
	ld_a_then_b(ld_of(run));
	ld_a_then_b(ld_of(run));
	return true;
}

static enum hrtimer_restart ld_timer_fn(struct hrtimer *timer)
{
	struct ld_state *s = container_of(timer, struct ld_state, timer);

	spin_lock(&s->irq_lock);	/* hard interrupt context */
	s->value++;
	spin_unlock(&s->irq_lock);
	complete(&s->fired);
	return HRTIMER_NORESTART;
}

/* The process-context hold ends before the timer is armed: no overlap. */
static void ld_fire_timer(struct ld_state *s)
{
	reinit_completion(&s->fired);
	hrtimer_start(&s->timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
	wait_for_completion(&s->fired);
}

static bool ld_irq_unsafe_step(struct racelab_run *run,
			       struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	spin_lock(&s->irq_lock);	/* interrupts on: {HARDIRQ-ON-W} */
	s->value++;
	spin_unlock(&s->irq_lock);
	ld_fire_timer(s);
	return false;	/* once */
}

static bool ld_irqsave_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);
	unsigned long flags;

	if (t->id)
		return false;	/* one thread does the experiment */
	spin_lock_irqsave(&s->irq_lock, flags);
	s->value++;
	spin_unlock_irqrestore(&s->irq_lock, flags);
	ld_fire_timer(s);
	return true;
}

/* might_sleep() says "I may sleep here"; nothing actually sleeps. */
static bool ld_sleep_in_atomic_step(struct racelab_run *run,
				    struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	spin_lock(&s->atomic_lock);
	might_sleep();
	spin_unlock(&s->atomic_lock);
	return false;	/* once: it would splat every second */
}

static bool ld_sleep_outside_step(struct racelab_run *run,
				  struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	might_sleep();
	spin_lock(&s->atomic_lock);
	s->value++;
	spin_unlock(&s->atomic_lock);
	return true;
}

static noinline int ld_read_outside(struct ld_state *s)
{
	return *rcu_dereference(s->ptr);	/* no rcu_read_lock() */
}

static bool ld_rcu_outside_step(struct racelab_run *run,
				struct racelab_thread *t)
{
	if (t->id)
		return false;	/* one thread does the experiment */
	WRITE_ONCE(ld_of(run)->value, ld_read_outside(ld_of(run)));
	return false;	/* once */
}

static bool ld_rcu_reader_step(struct racelab_run *run,
			       struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);
	int v;

	if (t->id)
		return false;	/* one thread does the experiment */
	rcu_read_lock();
	v = *rcu_dereference(s->ptr);
	rcu_read_unlock();
	mutex_lock(&s->a);	/* the update side: protected by the mutex */
	v += *rcu_dereference_protected(s->ptr, lockdep_is_held(&s->a));
	mutex_unlock(&s->a);
	WRITE_ONCE(s->value, v);
	return true;
}

/*
 * Thread 0 takes A, thread 1 takes B; each waits until the other holds its
 * first lock, then asks for the other one. Both wait forever, until the
 * runner's time limit stops them.
 */
static bool ld_real_deadlock_step(struct racelab_run *run,
				  struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);
	struct mutex *first = t->id ? &s->b : &s->a;
	struct mutex *second = t->id ? &s->a : &s->b;

	if (t->id > 1)
		return false;
	/* Every wait is interruptible: kthread_stop() ends the deadlock. */
	if (mutex_lock_interruptible(first)) {
		atomic_inc(&s->interrupted);
		return false;
	}
	complete(&s->holds[t->id]);
	if (wait_for_completion_interruptible(&s->holds[!t->id]) ||
	    mutex_lock_interruptible(second))
		atomic_inc(&s->interrupted);
	else
		mutex_unlock(second);
	mutex_unlock(first);
	return false;		/* one round only */
}

/* What lockdep's reports of the racy experiments must say. */
#define LD_CIRCULAR	"possible circular locking dependency detected"
#define LD_LOCKS	"racelab_lock_A|racelab_lock_B"
#define LD_INCONSISTENT	"inconsistent lock state|{HARDIRQ-ON-W} -> {IN-HARDIRQ-W}"
#define LD_IRQ_LOCK	"racelab_irq_lock"

static const struct racelab_mode ld_modes[] = {
	[LD_ABBA] = {
		.name = "abba", .kind = RACELAB_RACY,
		.about = "A->B then B->A, one after the other: a possible deadlock",
		.step = ld_abba_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_CIRCULAR "|" LD_LOCKS,
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
	[LD_ORDERED] = {
		.name = "ordered", .kind = RACELAB_FIXED,
		.about = "always A then B",
		.step = ld_ordered_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_IRQ_UNSAFE] = {
		.name = "irq-unsafe", .kind = RACELAB_RACY,
		.about = "spin_lock() in process context, the same lock in hardirq",
		.step = ld_irq_unsafe_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_INCONSISTENT "|" LD_IRQ_LOCK,
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
	[LD_IRQSAVE] = {
		.name = "irqsave", .kind = RACELAB_FIXED,
		.about = "spin_lock_irqsave() in process context",
		.step = ld_irqsave_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_SLEEP_IN_ATOMIC] = {
		.name = "sleep-in-atomic", .kind = RACELAB_RACY,
		.about = "might_sleep() under a spinlock",
		.step = ld_sleep_in_atomic_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = "BUG: sleeping function called from invalid context",
		},
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_SLEEP_OUTSIDE] = {
		.name = "sleep-outside", .kind = RACELAB_FIXED,
		.about = "might_sleep() before the spinlock is taken",
		.step = ld_sleep_outside_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_RCU_OUTSIDE] = {
		.name = "rcu-outside-reader", .kind = RACELAB_RACY,
		.about = "rcu_dereference() outside rcu_read_lock()",
		.step = ld_rcu_outside_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = "WARNING: suspicious RCU usage",
		},
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_RCU_READER] = {
		.name = "rcu-reader", .kind = RACELAB_FIXED,
		.about = "rcu_dereference() inside rcu_read_lock(), _protected() under the lock",
		.step = ld_rcu_reader_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_REAL_DEADLOCK] = {
		.name = "real-deadlock", .kind = RACELAB_RACY,
		.about = "two threads deadlock on AB-BA until the time limit stops them",
		.step = ld_real_deadlock_step,
		/* Each thread waits for its partner's first lock. */
		.min_threads = 2,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_CIRCULAR "|" LD_LOCKS,
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
};

/* The debug option each experiment needs to say anything at all. */
static bool ld_supported(unsigned int mode, const char **need)
{
	switch (mode) {
	case LD_SLEEP_IN_ATOMIC:
	case LD_SLEEP_OUTSIDE:
		*need = "this experiment needs CONFIG_DEBUG_ATOMIC_SLEEP";
		return IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP);
	case LD_RCU_OUTSIDE:
	case LD_RCU_READER:
		*need = "this experiment needs CONFIG_PROVE_RCU";
		return IS_ENABLED(CONFIG_PROVE_RCU);
	default:
		*need = "this experiment needs CONFIG_PROVE_LOCKING";
		return IS_ENABLED(CONFIG_PROVE_LOCKING);
	}
}

static int ld_validate(const struct racelab_cfg *cfg, const char **why)
{
	const char *need;

	if (!ld_supported(cfg->mode, &need)) {
		*why = need;	/* the option this experiment needs */
		return -EINVAL;
	}
	return 0;
}

static int ld_setup(struct racelab_run *run)
{
	struct ld_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	__mutex_init(&s->a, "racelab_lock_A", &ld_key_a);
	__mutex_init(&s->b, "racelab_lock_B", &ld_key_b);
	spin_lock_init(&s->irq_lock);
	lockdep_set_class_and_name(&s->irq_lock, &ld_key_irq, "racelab_irq_lock");
	spin_lock_init(&s->atomic_lock);
	lockdep_set_class_and_name(&s->atomic_lock, &ld_key_atomic,
				   "racelab_atomic_lock");
	hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	s->timer.function = ld_timer_fn;
	init_completion(&s->fired);
	init_completion(&s->holds[0]);
	init_completion(&s->holds[1]);
	s->value = 1;
	RCU_INIT_POINTER(s->ptr, &s->value);
	run->priv = s;
	return 0;
}

static void ld_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct ld_state *s = ld_of(run);
	bool racy = run->mode->kind != RACELAB_FIXED;

	/* The report itself is in the kernel log: the lab checks it there. */
	res->expected = res->ops;
	res->observed = res->ops;
	res->anomalies = 0;
	snprintf(res->extra, sizeof(res->extra),
		 "report_expected=%s interrupted_waits=%d debug_locks=%d",
		 racy ? "yes" : "no", atomic_read(&s->interrupted),
		 debug_locks);
}

static void ld_teardown(struct racelab_run *run)
{
	struct ld_state *s = ld_of(run);

	if (!s)
		return;
	hrtimer_cancel(&s->timer);
	mutex_destroy(&s->a);
	mutex_destroy(&s->b);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_lockdep_scenario = {
	.name = "lockdep",
	.about = "lock-debugging experiments, one per boot",
	.modes = ld_modes,
	.nr_modes = ARRAY_SIZE(ld_modes),
	.detect_amplifier = "none",
	.flags = RACELAB_SCN_NO_AMP,
	.validate = ld_validate,
	.setup = ld_setup,
	.verdict = ld_verdict,
	.teardown = ld_teardown,
};

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
 *   aa                   one mutex taken twice by one thread ("possible
 *                        recursive locking detected"), then a real
 *                        self-deadlock that the time limit ends the same way
 *   seqcount-preemptible a seqcount_t writer with preemption on: a reader
 *                        that preempts it spins on an odd sequence (the
 *                        WARNING of lockdep_assert_preemption_disabled())
 *   ww-no-ctx            two ww_mutexes of one class taken without an
 *                        acquire context: nothing orders them ("possible
 *                        recursive locking detected")
 *   bh-unsafe            a spinlock taken with softirqs on, then from a
 *                        timer (softirq): "inconsistent lock state"
 *
 * The experiments need the matching debug options and are refused with
 * -EINVAL (and a message) on a kernel without them, like lib/test_lockup.c.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/ww_mutex.h>

#include "racelab.h"
#include "racelab_compat.h"

/* Distinct classes with names that the reports will show. */
static struct lock_class_key ld_key_a, ld_key_b, ld_key_irq, ld_key_atomic;
static struct lock_class_key ld_key_bh;
static DEFINE_WW_CLASS(racelab_ww_class);

struct ld_state {
	struct mutex a;		/* racelab_lock_A */
	struct mutex b;		/* racelab_lock_B */
	struct mutex a_child;	/* aa-nested: of A's class, taken under A */
	struct hrtimer aa_kick;	/* aa: ends the spin on itself */
	struct task_struct *aa_task;
	spinlock_t irq_lock;	/* also taken in hard interrupt context */
	spinlock_t atomic_lock;	/* held around might_sleep() */
	struct hrtimer timer;
	struct completion fired;
	int __rcu *ptr;
	int value;
	struct completion holds[2];	/* real-deadlock: first lock taken */
	atomic_t interrupted;		/* real-deadlock: waits cut by -EINTR */
	seqcount_t seq;			/* seqcount-preemptible */
	seqlock_t seqlock;		/* seqlock-writer */
	struct ww_mutex ww[2];		/* of racelab_ww_class */
	spinlock_t bh_lock;		/* also taken in a timer (softirq) */
	struct timer_list bh_timer;
	struct completion bh_fired;
	atomic_t reports_expected;	/* racy steps done */
};

enum {
	LD_ABBA, LD_ORDERED, LD_IRQ_UNSAFE, LD_IRQSAVE, LD_SLEEP_IN_ATOMIC,
	LD_SLEEP_OUTSIDE, LD_RCU_OUTSIDE, LD_RCU_READER, LD_REAL_DEADLOCK,
	LD_AA, LD_AA_NESTED, LD_SEQ_PREEMPTIBLE, LD_SEQLOCK, LD_WW_NO_CTX,
	LD_WW_CTX, LD_BH_UNSAFE, LD_BH_SAFE,
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

/*
 * The same mutex twice. Lockdep reports before the second wait begins; the
 * wait then really never ends by itself, until kthread_stop() interrupts it.
 *
 * Before it sleeps, the second mutex_lock_interruptible() spins on the
 * owner while the owner is on a CPU (CONFIG_MUTEX_SPIN_ON_OWNER), with
 * preemption off, until need_resched(): the owner is the spinner itself,
 * and no signal ends that spin. A timer asks for a reschedule every
 * LD_AA_KICK_MS, which sends it to sleep, where kthread_stop() reaches it.
 */
#define LD_AA_KICK_MS	5

static enum hrtimer_restart ld_aa_kick(struct hrtimer *timer)
{
	struct ld_state *s = container_of(timer, struct ld_state, aa_kick);

	set_tsk_need_resched(READ_ONCE(s->aa_task));
	hrtimer_forward_now(timer, ms_to_ktime(LD_AA_KICK_MS));
	return HRTIMER_RESTART;
}

static noinline bool ld_aa_step(struct racelab_run *run,
				struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	WRITE_ONCE(s->aa_task, current);
	hrtimer_start(&s->aa_kick, ms_to_ktime(LD_AA_KICK_MS),
		      HRTIMER_MODE_REL);
	mutex_lock(&s->a);
	if (mutex_lock_interruptible(&s->a))
		atomic_inc(&s->interrupted);
	else
		mutex_unlock(&s->a);	/* never: a mutex is not recursive */
	mutex_unlock(&s->a);
	hrtimer_cancel(&s->aa_kick);
	return false;	/* once */
}

/* Two locks of one class, parent then child, told apart by a subclass. */
static bool ld_aa_nested_step(struct racelab_run *run,
			      struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	mutex_lock(&s->a);
	mutex_lock_nested(&s->a_child, SINGLE_DEPTH_NESTING);
	mutex_unlock(&s->a_child);
	mutex_unlock(&s->a);
	return true;
}

/*
 * A seqcount_t has no lock of its own: its writers must keep preemption
 * off, or a reader that preempts one spins on the odd count for as long
 * as the writer stays off the CPU.
 */
static noinline void ld_seq_preemptible_write(struct ld_state *s)
{
	write_seqcount_begin(&s->seq);	/* preemption on: the WARNING */
	s->value++;
	write_seqcount_end(&s->seq);
}

static bool ld_seq_preemptible_step(struct racelab_run *run,
				    struct racelab_thread *t)
{
	if (t->id)
		return false;	/* one thread does the experiment */
	ld_seq_preemptible_write(ld_of(run));
	return false;	/* once: the WARNING is once per boot */
}

/* A seqlock_t: its writer takes a spinlock, which keeps preemption off. */
static bool ld_seqlock_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	write_seqlock(&s->seqlock);
	s->value++;
	write_sequnlock(&s->seqlock);
	return true;
}

/* Two w/w mutexes without a context: nothing orders them for lockdep. */
static noinline bool ld_ww_no_ctx_step(struct racelab_run *run,
				       struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	ww_mutex_lock(&s->ww[0], NULL);
	ww_mutex_lock(&s->ww[1], NULL);
	ww_mutex_unlock(&s->ww[1]);
	ww_mutex_unlock(&s->ww[0]);
	return false;	/* once */
}

/* Both in one acquire context; alone, no -EDEADLK backs it off. */
static bool ld_ww_ctx_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);
	struct ww_acquire_ctx ctx;
	int ret;

	if (t->id)
		return false;	/* one thread does the experiment */
	ww_acquire_init(&ctx, &racelab_ww_class);
	ret = ww_mutex_lock(&s->ww[0], &ctx);
	if (!ret) {
		ret = ww_mutex_lock(&s->ww[1], &ctx);
		ww_acquire_done(&ctx);
		if (!ret)
			ww_mutex_unlock(&s->ww[1]);
		ww_mutex_unlock(&s->ww[0]);
	}
	ww_acquire_fini(&ctx);
	return true;
}

static void ld_bh_timer_fn(struct timer_list *timer)
{
	struct ld_state *s = racelab_timer_container_of(s, timer, bh_timer);

	spin_lock(&s->bh_lock);		/* softirq context */
	s->value++;
	spin_unlock(&s->bh_lock);
	complete(&s->bh_fired);
}

/* The process-context hold ends before the timer is armed: no overlap. */
static void ld_fire_bh_timer(struct ld_state *s)
{
	reinit_completion(&s->bh_fired);
	mod_timer(&s->bh_timer, jiffies + 1);
	wait_for_completion(&s->bh_fired);
}

static bool ld_bh_unsafe_step(struct racelab_run *run,
			      struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	spin_lock(&s->bh_lock);		/* softirqs on: {SOFTIRQ-ON-W} */
	s->value++;
	spin_unlock(&s->bh_lock);
	ld_fire_bh_timer(s);
	return false;	/* once */
}

static bool ld_bh_safe_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct ld_state *s = ld_of(run);

	if (t->id)
		return false;	/* one thread does the experiment */
	spin_lock_bh(&s->bh_lock);
	s->value++;
	spin_unlock_bh(&s->bh_lock);
	ld_fire_bh_timer(s);
	return true;
}

/* What lockdep's reports of the racy experiments must say. */
#define LD_CIRCULAR	"possible circular locking dependency detected"
#define LD_LOCKS	"racelab_lock_A|racelab_lock_B"
#define LD_INCONSISTENT	"inconsistent lock state|{HARDIRQ-ON-W} -> {IN-HARDIRQ-W}"
#define LD_IRQ_LOCK	"racelab_irq_lock"
#define LD_RECURSIVE	"possible recursive locking detected"
#define LD_SOFTIRQ	"inconsistent lock state|{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}"

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
	[LD_AA] = {
		.name = "aa", .kind = RACELAB_RACY,
		.about = "one mutex taken twice: a self-deadlock until the time limit",
		.step = ld_aa_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_RECURSIVE "|racelab_lock_A|ld_aa_step",
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
	[LD_AA_NESTED] = {
		.name = "aa-nested", .kind = RACELAB_FIXED,
		.about = "two mutexes of one class, the inner by mutex_lock_nested()",
		.step = ld_aa_nested_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_SEQ_PREEMPTIBLE] = {
		.name = "seqcount-preemptible", .kind = RACELAB_RACY,
		.about = "write_seqcount_begin() on a seqcount_t, preemption on",
		.step = ld_seq_preemptible_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = "WARNING: CPU|seqlock.h|ld_seq_preemptible_write",
		},
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_SEQLOCK] = {
		.name = "seqlock-writer", .kind = RACELAB_FIXED,
		.about = "write_seqlock(): the writer's spinlock keeps preemption off",
		.step = ld_seqlock_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_WW_NO_CTX] = {
		.name = "ww-no-ctx", .kind = RACELAB_RACY,
		.about = "two ww_mutexes of one class locked with a NULL context",
		.step = ld_ww_no_ctx_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_RECURSIVE "|racelab_ww_class_mutex",
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
	[LD_WW_CTX] = {
		.name = "ww-ctx", .kind = RACELAB_FIXED,
		.about = "both in one ww_acquire_ctx: init, lock, lock, done, fini",
		.step = ld_ww_ctx_step,
		.flags = RACELAB_MODE_EXPERIMENT,
	},
	[LD_BH_UNSAFE] = {
		.name = "bh-unsafe", .kind = RACELAB_RACY,
		.about = "spin_lock() in process context, the same lock in a timer",
		.step = ld_bh_unsafe_step,
		.expect[RACELAB_LOCKDEP] = {
			.says = RACELAB_REPORTS,
			.names = LD_SOFTIRQ "|racelab_bh_lock",
		},
		.flags = RACELAB_MODE_EXPERIMENT | RACELAB_MODE_LOCKDEP_OFF,
	},
	[LD_BH_SAFE] = {
		.name = "bh-safe", .kind = RACELAB_FIXED,
		.about = "spin_lock_bh() in process context",
		.step = ld_bh_safe_step,
		.flags = RACELAB_MODE_EXPERIMENT,
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
	__mutex_init(&s->a_child, "racelab_lock_A", &ld_key_a);
	racelab_hrtimer_setup(&s->aa_kick, ld_aa_kick, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL);
	spin_lock_init(&s->irq_lock);
	lockdep_set_class_and_name(&s->irq_lock, &ld_key_irq, "racelab_irq_lock");
	spin_lock_init(&s->atomic_lock);
	lockdep_set_class_and_name(&s->atomic_lock, &ld_key_atomic,
				   "racelab_atomic_lock");
	racelab_hrtimer_setup(&s->timer, ld_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_HARD);
	seqcount_init(&s->seq);
	seqlock_init(&s->seqlock);
	ww_mutex_init(&s->ww[0], &racelab_ww_class);
	ww_mutex_init(&s->ww[1], &racelab_ww_class);
	spin_lock_init(&s->bh_lock);
	lockdep_set_class_and_name(&s->bh_lock, &ld_key_bh, "racelab_bh_lock");
	timer_setup(&s->bh_timer, ld_bh_timer_fn, 0);
	init_completion(&s->bh_fired);
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
	hrtimer_cancel(&s->aa_kick);
	timer_shutdown_sync(&s->bh_timer);
	ww_mutex_destroy(&s->ww[0]);
	ww_mutex_destroy(&s->ww[1]);
	mutex_destroy(&s->a);
	mutex_destroy(&s->b);
	mutex_destroy(&s->a_child);
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

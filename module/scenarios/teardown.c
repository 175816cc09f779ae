// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "teardown": an object freed while its timer and its work item
 * still run.
 *
 * Each thread creates objects that own a self-re-arming timer_list and a
 * work_struct, lets them run, and tears each one down. The timer re-arms
 * itself and queues the work; the work re-arms the timer. The owner tears
 * the object down as soon as it sees a callback start (the timer's on
 * odd objects, the work's on even ones), so the teardown meets a callback
 * between its check of the object and its re-arm:
 *
 *   owner                          timer callback (softirq)
 *                                  o is alive: go on
 *   timer_delete(&o->timer);       (not pending: it is running)
 *   cancel_work(&o->work);         (not queued yet)
 *   kfree(o);
 *                                  queue_work(wq, &o->work);
 *                                  mod_timer(&o->timer, jiffies + 1);
 *                                  ... both run again on freed memory
 *
 * timer_delete_sync() and cancel_work_sync() wait for a running callback,
 * but not for the one the other re-arms: the work re-arms the timer after
 * timer_delete_sync() returned, and cancel_work_sync() waits for exactly
 * that work. The order that works is timer_shutdown_sync() first: the
 * timer is gone and cannot be re-armed (mod_timer() on it does nothing),
 * so the work cannot bring it back; then cancel_work_sync(): the work
 * waits out its last run and nothing can queue it any more. The other
 * order, cancel_work_sync() then timer_shutdown_sync(), lets the timer
 * queue the work again between the two calls.
 *
 * The module-unload version, where the callback outlives the code it
 * points to, is modelled, never done: a "module exit" sets a stopping
 * flag and waits (bounded) for a completion that the last work run
 * signals, then marks the module's text gone. The work still runs its own
 * instructions after complete(), and those instructions check the mark.
 *
 * racelab never touches freed memory. A torn-down object is poisoned, not
 * freed: each callback checks the poison before anything else, counts a
 * run on a poisoned object in the run's shared state (never in the
 * object) and neither re-arms nor queues. The poisoned object waits in a
 * bounded limbo, then timer_shutdown_sync() and cancel_work_sync() end
 * its timer and work for real, and only then is it kfree()d. The shared
 * quarantine (one RCU grace period) would not do: a pending timer or a
 * queued work item outlives any grace period. Fixed modes go through the
 * same limbo, so their 0 is measured, not assumed. Run teardown empties
 * the limbo the same way and destroys the run's workqueue: every timer is
 * shut down and every work item done before run->priv is freed, and the
 * runner calls teardown for every run, before the module can unload.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "racelab.h"
#include "racelab_compat.h"

#define TD_ALIVE	0x7ea2d0a1U
#define TD_POISON	0x6b6b6b6bU
#define TD_LIMBO_MAX	256	/* poisoned objects kept at most */
#define TD_LIMBO_JIFFIES 5	/* time a stray callback has to show */
#define TD_REAP_BATCH	4	/* aged objects a step frees at most */
#define TD_WAIT_MS	20	/* the owner waits this long for a callback */
#define TD_EXIT_MS	50	/* a module exit waits this long at most */

struct td_state;

struct td_obj {
	u32 magic;		/* TD_ALIVE, or TD_POISON once torn down */
	u32 payload;		/* poisoned too: what kfree() would leave */
	bool stopping;		/* unload modes: the module exit began */
	unsigned long timer_seen;	/* timer runs on this object */
	unsigned long work_seen;	/* work runs on this object */
	struct completion exited;	/* unload modes: the last work ran */
	struct timer_list timer;	/* owned by the timer core till reaped */
	struct work_struct work;	/* owned by the workqueue till reaped */
	struct list_head limbo;
	unsigned long limbo_at;	/* jiffies it entered the limbo */
	bool on_timer;		/* the owner waits for the timer, or the work */
	u64 deadline;		/* the owner waits until then at most */
};

struct td_state {
	struct racelab_run *run;
	struct workqueue_struct *wq;
	spinlock_t lock;		/* the limbo */
	struct list_head limbo;		/* poisoned objects, oldest first */
	unsigned int nr_limbo;
	unsigned int limbo_peak;
	atomic_long_t objects;
	atomic_long_t timer_runs;	/* on a live object */
	atomic_long_t work_runs;
	atomic_long_t timer_poison;	/* on a poisoned object: anomalies */
	atomic_long_t work_poison;
	atomic_long_t after_unload;	/* a work's code ran after the exit */
	atomic_long_t pending_timer;	/* found pending when reaped */
	atomic_long_t pending_work;
	atomic_long_t missed;		/* no callback started in time */
};

/*
 * The run's state, for a callback whose object is poisoned: it must not
 * read anything but the poison from it. One run of a scenario at a time;
 * set before the first object exists, cleared after the last is dead.
 */
static struct td_state *td_cur;

/* The amplifier, inside a callback: between its check and its re-arm. */
static void td_window(struct td_state *s)
{
	if (s->run->cfg.amp == RACELAB_AMP_DELAY)
		ndelay(s->run->cfg.amp_arg);
}

static void td_timer_fn(struct timer_list *tl)
{
	struct td_obj *o = racelab_timer_container_of(o, tl, timer);
	struct td_state *s = td_cur;

	if (READ_ONCE(o->magic) != TD_ALIVE) {
		atomic_long_inc(&s->timer_poison);
		racelab_anomaly(s->run);
		return;		/* no re-arm, no queue from a freed object */
	}
	atomic_long_inc(&s->timer_runs);
	WRITE_ONCE(o->timer_seen, o->timer_seen + 1);
	td_window(s);
	queue_work(s->wq, &o->work);
	/* A module exit began: the work signals it, the timer stops. */
	if (!READ_ONCE(o->stopping))
		mod_timer(&o->timer, jiffies + 1);
}

static void td_work_fn(struct work_struct *w)
{
	struct td_obj *o = container_of(w, struct td_obj, work);
	struct td_state *s = td_cur;

	if (READ_ONCE(o->magic) != TD_ALIVE) {
		atomic_long_inc(&s->work_poison);
		racelab_anomaly(s->run);
		return;
	}
	atomic_long_inc(&s->work_runs);
	WRITE_ONCE(o->work_seen, o->work_seen + 1);
	if (READ_ONCE(o->stopping)) {
		complete(&o->exited);
		/* Still this function's code, in the module's text. */
		td_window(s);
		if (READ_ONCE(o->magic) != TD_ALIVE) {
			atomic_long_inc(&s->after_unload);
			racelab_anomaly(s->run);
		}
		return;
	}
	td_window(s);
	mod_timer(&o->timer, jiffies + 1);
}

/* What kfree() would leave, made visible: every field of ours poisoned. */
static noinline void td_poison(struct td_obj *o)
{
	WRITE_ONCE(o->payload, TD_POISON);
	WRITE_ONCE(o->magic, TD_POISON);
}

/* The teardowns under test: each ends with the object "freed". */

static noinline void td_delete_kill(struct td_obj *o)
{
	timer_delete(&o->timer);
	cancel_work(&o->work);
}

static noinline void td_delete_sync_kill(struct td_obj *o)
{
	timer_delete_sync(&o->timer);
	cancel_work_sync(&o->work);	/* the work it waits for re-arms */
}

static noinline void td_cancel_first_kill(struct td_obj *o)
{
	cancel_work_sync(&o->work);
	timer_shutdown_sync(&o->timer);	/* the timer queued the work again */
}

static noinline void td_shutdown_sync_kill(struct td_obj *o)
{
	timer_shutdown_sync(&o->timer);	/* dead, and cannot be re-armed */
	cancel_work_sync(&o->work);	/* nothing left to queue it */
}

/* A module exit that trusts the callback's "I am done". */
static noinline void td_unload_completion_kill(struct td_obj *o)
{
	WRITE_ONCE(o->stopping, true);
	wait_for_completion_timeout(&o->exited, msecs_to_jiffies(TD_EXIT_MS));
}

/* The cores, not the callback, say when the callback's code is done. */
static noinline void td_unload_flush_kill(struct td_obj *o)
{
	WRITE_ONCE(o->stopping, true);
	wait_for_completion_timeout(&o->exited, msecs_to_jiffies(TD_EXIT_MS));
	timer_shutdown_sync(&o->timer);
	cancel_work_sync(&o->work);
}

/* A mode's teardown of one object. */
struct td_ops {
	void (*kill)(struct td_obj *o);
};

/* End the timer and work of a poisoned object for real, then free it. */
static void td_reap_one(struct td_state *s, struct td_obj *o)
{
	if (timer_shutdown_sync(&o->timer))
		atomic_long_inc(&s->pending_timer);
	if (cancel_work_sync(&o->work))
		atomic_long_inc(&s->pending_work);
	kfree(o);
}

/* The oldest object of the limbo, if it is old enough or the limbo full. */
static struct td_obj *td_limbo_pop(struct td_state *s, bool all)
{
	struct td_obj *o;

	spin_lock(&s->lock);
	o = list_first_entry_or_null(&s->limbo, struct td_obj, limbo);
	if (o && (all || s->nr_limbo >= TD_LIMBO_MAX ||
		  time_after_eq(jiffies, o->limbo_at + TD_LIMBO_JIFFIES))) {
		list_del(&o->limbo);
		s->nr_limbo--;
	} else {
		o = NULL;
	}
	spin_unlock(&s->lock);
	return o;
}

static void td_limbo_put(struct td_state *s, struct td_obj *o)
{
	o->limbo_at = jiffies;
	spin_lock(&s->lock);
	list_add_tail(&o->limbo, &s->limbo);
	s->nr_limbo++;
	s->limbo_peak = max(s->limbo_peak, s->nr_limbo);
	spin_unlock(&s->lock);
}

/*
 * First arm the timer on another CPU than the owner's, where there is one:
 * a timer on the owner's own CPU runs whole in the interrupt that stops
 * the owner, which never sees it mid-way. Its re-arms stay there, or move
 * to the CPU of the work that re-arms it.
 */
static void td_arm(struct td_obj *o)
{
	unsigned int cpu;

	cpus_read_lock();
	cpu = cpumask_next(raw_smp_processor_id(), cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	o->timer.expires = jiffies + 1;
	add_timer_on(&o->timer, cpu);
	cpus_read_unlock();
}

/* A new object, its timer armed: the thread's object until torn down. */
static struct td_obj *td_create(struct td_state *s)
{
	struct td_obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return NULL;
	o->magic = TD_ALIVE;
	o->on_timer = atomic_long_inc_return(&s->objects) & 1;
	o->deadline = ktime_get_ns() + TD_WAIT_MS * NSEC_PER_MSEC;
	init_completion(&o->exited);
	timer_setup(&o->timer, td_timer_fn, 0);
	INIT_WORK(&o->work, td_work_fn);
	td_arm(o);
	return o;
}

/*
 * One step of the thread's object: create it; or look whether the callback
 * the owner waits for has started (each step looks once: a step stays
 * short, the runner's loop is the spin); or tear it down, right as the
 * callback runs, or after TD_WAIT_MS without one.
 */
static bool td_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct td_ops *ops = run->mode->ops;
	struct td_state *s = run->priv;
	struct td_obj *o = t->priv;
	unsigned int i;

	if (!o) {
		/* Outside the race: free the aged, or the oldest if full. */
		for (i = 0; i < TD_REAP_BATCH && (o = td_limbo_pop(s, false)); i++)
			td_reap_one(s, o);
		t->priv = td_create(s);
		return t->priv;
	}
	if (!READ_ONCE(*(o->on_timer ? &o->timer_seen : &o->work_seen))) {
		if (ktime_get_ns() < o->deadline) {
			cpu_relax();
			return true;
		}
		atomic_long_inc(&s->missed);
	}
	ops->kill(o);
	/* "kfree(o)": poisoned, and kept until its callbacks are dead. */
	td_poison(o);
	td_limbo_put(s, o);
	t->priv = NULL;
	return true;
}

static const struct racelab_mode td_modes[] = {
	{
		.name = "delete", .kind = RACELAB_RACY,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "timer_delete(), cancel_work(), free: the callbacks run on",
		.ops = &(const struct td_ops) { .kill = td_delete_kill },
		.expect[RACELAB_KASAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "delete-sync", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "timer_delete_sync(), cancel_work_sync(): the work re-arms the timer",
		.ops = &(const struct td_ops) { .kill = td_delete_sync_kill },
		.expect[RACELAB_KASAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "cancel-first", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "cancel_work_sync(), timer_shutdown_sync(): the timer requeues the work",
		.ops = &(const struct td_ops) { .kill = td_cancel_first_kill },
		.expect[RACELAB_KASAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "shutdown-sync", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "timer_shutdown_sync(), then cancel_work_sync()",
		.ops = &(const struct td_ops) { .kill = td_shutdown_sync_kill },
	},
	{
		.name = "unload-completion", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "module exit waits for the work's complete(): its code runs after",
		.ops = &(const struct td_ops) { .kill = td_unload_completion_kill },
		.expect[RACELAB_KASAN] = { .says = RACELAB_SILENT },
		.expect[RACELAB_LOCKDEP] = { .says = RACELAB_SILENT },
	},
	{
		.name = "unload-flush", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "module exit: complete(), then timer_shutdown_sync(), cancel_work_sync()",
		.ops = &(const struct td_ops) { .kill = td_unload_flush_kill },
	},
};

static int td_setup(struct racelab_run *run)
{
	struct td_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->wq = alloc_workqueue("racelab_teardown", WQ_UNBOUND, 0);
	if (!s->wq) {
		kfree(s);
		return -ENOMEM;
	}
	s->run = run;
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->limbo);
	td_cur = s;
	run->priv = s;
	return 0;
}

/*
 * Every callback run is counted once: on a live object, or on a poisoned
 * one (the anomaly); a run whose code went on after the module exit
 * counts as an anomaly too.
 */
static void td_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct td_state *s = run->priv;
	u64 tp = atomic_long_read(&s->timer_poison);
	u64 wp = atomic_long_read(&s->work_poison);
	u64 au = atomic_long_read(&s->after_unload);

	res->expected = atomic_long_read(&s->timer_runs) +
			atomic_long_read(&s->work_runs) + tp + wp;
	res->anomalies = tp + wp + au;
	res->observed = res->expected - res->anomalies;
	snprintf(res->extra, sizeof(res->extra),
		 "objects=%ld timer_on_poison=%llu work_on_poison=%llu after_unload=%llu pending_at_reap=%ld/%ld missed=%ld limbo_peak=%u",
		 atomic_long_read(&s->objects), tp, wp, au,
		 atomic_long_read(&s->pending_timer),
		 atomic_long_read(&s->pending_work),
		 atomic_long_read(&s->missed), s->limbo_peak);
}

/*
 * The threads are gone: end every timer and work for real, then the
 * workqueue (drained, empty by now), and only then the state they point at.
 */
static void td_teardown(struct racelab_run *run)
{
	struct td_state *s = run->priv;
	struct td_obj *o;
	unsigned int i;

	if (!s)
		return;
	/* Objects the threads left mid-way: alive, ended the right way. */
	for (i = 0; i < run->cfg.threads; i++) {
		o = run->thr[i].priv;
		if (!o)
			continue;
		td_shutdown_sync_kill(o);
		kfree(o);
		run->thr[i].priv = NULL;
	}
	while ((o = td_limbo_pop(s, true)))
		td_reap_one(s, o);
	destroy_workqueue(s->wq);
	td_cur = NULL;
	kfree(s);
	run->priv = NULL;
}

/*
 * The timer queues the work while the owner cancels it, as lawful as it is
 * in the fixes: 6.12's queue_work_on() reads work->data plainly in
 * clear_pending_if_disabled() while the cancel or the worker updates it,
 * which KCSAN reports now and then. The kernel's race, on the kernel's
 * side of the API: these are the functions its reports name.
 */
static const char *const td_kcsan_kernel[] = {
	"clear_pending_if_disabled", "work_grab_pending", "try_to_grab_pending",
	"__cancel_work", "queue_work_on", "__queue_work", "insert_work",
	"process_one_work", NULL
};

const struct racelab_scenario racelab_teardown_scenario = {
	.name = "teardown",
	.about = "an object freed while its self-re-arming timer and its work still run",
	.modes = td_modes,
	.nr_modes = ARRAY_SIZE(td_modes),
	.step = td_step,
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 },
			       { "delay:1000", .racy_cpus = 2 }),
	.min_expected = 32,
	.kcsan_kernel = td_kcsan_kernel,
	.setup = td_setup,
	.verdict = td_verdict,
	.teardown = td_teardown,
};

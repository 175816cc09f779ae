// SPDX-License-Identifier: GPL-2.0
/*
 * racelab runner: spawns the racing kthreads of one run, releases them
 * together through a sleeping start gate, waits for them, reaps them and
 * asks the scenario for its verdict. It knows no scenario by name.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "racelab_core.h"

/**
 * racelab_amplify() - widen the race window of the calling thread
 * @t: the running thread
 *
 * A busy delay keeps the CPU; a sleep forces a context switch, so the
 * window is open to another thread even on a single CPU.
 */
void racelab_amplify(struct racelab_thread *t)
{
	const struct racelab_cfg *cfg = &t->run->cfg;

	/* A run that is over costs at most the window in progress. */
	if (racelab_should_stop(t->run))
		return;
	switch (cfg->amp) {
	case RACELAB_AMP_DELAY:
		ndelay(cfg->amp_arg);
		break;
	case RACELAB_AMP_SLEEP:
		usleep_range(cfg->amp_arg, cfg->amp_arg + 1);
		break;
	case RACELAB_AMP_NONE:
	case RACELAB_AMP_AUTO:	/* resolved before a run starts */
		break;
	}
}

/**
 * __racelab_anomaly() - record when the first anomaly of a run was seen
 * @run: the run
 */
void __racelab_anomaly(struct racelab_run *run)
{
	u64 t = ktime_get_ns() - READ_ONCE(run->t_start);

	atomic64_cmpxchg(&run->first_anomaly_ns, 0, max_t(u64, t, 1));
}

/*
 * One iteration of @t: the mode's own step, the scenario's, or the
 * thread's role in a reader/writer scenario: thread 0 writes for as long
 * as any reader reads, every other thread reads.
 */
static bool racelab_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct racelab_scenario *scn = run->scn;

	if (run->mode->step)
		return run->mode->step(run, t);
	if (!scn->write)
		return scn->step(run, t);
	if (t->id)
		return scn->read(run, t);
	return scn->write(run, t) && racelab_others_live(run);
}

static int racelab_thread_fn(void *arg)
{
	struct racelab_thread *t = arg;
	struct racelab_run *run = t->run;
	unsigned long i, limit = run->cfg.iterations;

	/*
	 * The rendezvous: every thread is running and waits here before any
	 * iterates, so that all start together once the gate opens.
	 */
	if (atomic_inc_return(&run->ready) == run->cfg.threads)
		wake_up(&run->done);
	/* Pairs with smp_store_release() in racelab_execute(). */
	wait_event_interruptible(run->gate, smp_load_acquire(&run->go) ||
				 kthread_should_stop());
	/* A writer serves its readers: it ends when they are done. */
	if (run->scn->write && t->id == 0)
		limit = 0;
	for (i = 0; !limit || i < limit; i++) {
		if (racelab_should_stop(run))
			break;
		if (!racelab_step(run, t))
			break;
		WRITE_ONCE(t->ops, i + 1);
		if ((i & 63) == 63)
			cond_resched();
	}
	t->t_end = ktime_get_ns();
	/* Fully ordered: t_end and the shared state are visible to the runner. */
	if (atomic_dec_and_test(&run->live))
		wake_up(&run->done);
	/*
	 * Exit now, all threads in parallel: the runner holds a reference to
	 * the task, and kthread_stop() of an exited kthread returns at once.
	 */
	return 0;
}

/* The n-th CPU (modulo the weight) of @mask. */
static int racelab_nth_cpu(const struct cpumask *mask, unsigned int n)
{
	unsigned int w = cpumask_weight(mask);
	int cpu;

	n %= w;
	for_each_cpu(cpu, mask)
		if (n-- == 0)
			return cpu;
	return -1;
}

/**
 * racelab_clocksource() - name of the current clocksource
 * @buf: where to put it
 * @len: size of @buf
 *
 * Every ns figure is printed with the clocksource it was measured on: a
 * jiffies clock under emulation makes them worthless. There is no kernel
 * API for it, so read what user space reads.
 */
void racelab_clocksource(char *buf, size_t len)
{
	static const char path[] =
		"/sys/devices/system/clocksource/clocksource0/current_clocksource";
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	strscpy(buf, "unknown", len);
	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return;
	n = kernel_read(f, buf, len - 1, &pos);
	filp_close(f, NULL);
	if (n <= 0) {
		strscpy(buf, "unknown", len);
		return;
	}
	buf[n] = '\0';
	strim(buf);
}

const char *racelab_kind_name(enum racelab_kind kind)
{
	switch (kind) {
	case RACELAB_RACY:
		return "racy";
	case RACELAB_BROKEN_FIX:
		return "broken-fix";
	case RACELAB_FIXED:
		return "fixed";
	}
	return "?";
}
EXPORT_SYMBOL_GPL(racelab_kind_name);

/**
 * racelab_verdict_name() - one word for the outcome of a run
 * @res: the result
 *
 * Return: "stopped" (stop, rmmod), "race" (anomalies seen), "inconclusive"
 * (none seen, on too small a sample) or "clean". A run that ends at its
 * duration_ms or its iteration cap ended normally.
 */
const char *racelab_verdict_name(const struct racelab_result *res)
{
	if (res->stopped)
		return "stopped";
	if (res->anomalies)
		return "race";
	return res->inconclusive ? "inconclusive" : "clean";
}
EXPORT_SYMBOL_GPL(racelab_verdict_name);

/*
 * The fairness figure: the most iterations one thread did over the fewest,
 * to two decimals ("1.00": even); "inf" when a thread did none.
 */
static void racelab_fairness(const struct racelab_result *res, char *buf,
			     size_t len)
{
	u64 hundredths;
	u32 rem;

	if (!res->min_thread_ops || res->min_thread_ops == U64_MAX) {
		scnprintf(buf, len, "inf");
		return;
	}
	hundredths = div64_u64(res->max_thread_ops * 100, res->min_thread_ops);
	hundredths = div_u64_rem(hundredths, 100, &rem);
	scnprintf(buf, len, "%llu.%02u", hundredths, rem);
}

static void racelab_format(const struct racelab_run *run,
			   struct racelab_result *res)
{
	const struct racelab_cfg *cfg = &run->cfg;
	char cpus[32], clk[32], fair[24];
	u64 per_thread = div_u64(res->ops, cfg->threads);
	const char *ended;
	int n;

	res->mode = run->mode;
	res->threads = cfg->script.nr ? RACELAB_SCRIPT_THREADS : cfg->threads;
	/* The window that ran; "auto:" if the mode chose it. */
	n = run->amp_auto ? scnprintf(res->amp, sizeof(res->amp), "auto:") : 0;
	racelab_cfg_show(run->scn, cfg, "amplifier", res->amp + n,
			 sizeof(res->amp) - n);
	if (!cfg->pinned && (run->scn->flags & RACELAB_SCN_ONE_CPU))
		scnprintf(cpus, sizeof(cpus), "%d", run->thr[0].cpu);
	else if (!cfg->pinned && (run->scn->flags & RACELAB_SCN_PIN))
		scnprintf(cpus, sizeof(cpus), "%*pbl",
			  cpumask_pr_args(cpu_online_mask));
	else
		racelab_cfg_show(run->scn, cfg, "cpus", cpus, sizeof(cpus));
	racelab_clocksource(clk, sizeof(clk));
	if (cfg->script.nr) {
		char sched[3 * RACELAB_SCRIPT_MAX + 1];

		/* A replay: the schedule says everything, timing means nothing. */
		racelab_script_show(&cfg->script, sched, sizeof(sched), ',');
		snprintf(res->line, sizeof(res->line),
			 "scenario=%s mode=schedule kind=%s threads=%u schedule=%s expected=%llu observed=%llu anomalies=%llu verdict=%s %s",
			 run->scn->name, racelab_kind_name(RACELAB_RACY),
			 res->threads, sched, res->expected, res->observed,
			 res->anomalies, racelab_verdict_name(res), res->extra);
		return;
	}

	racelab_fairness(res, fair, sizeof(fair));
	if (res->stopped)
		ended = "stop";
	else if (res->expired)
		ended = "deadline";
	else
		ended = "iterations";
	snprintf(res->line, sizeof(res->line),
		 "scenario=%s mode=%s kind=%s threads=%u cpus=%s duration_ms=%u iterations=%lu amplifier=%s expected=%llu observed=%llu anomalies=%llu verdict=%s ended=%s first_anomaly_ns=%llu ops=%llu min_thread_ops=%llu max_thread_ops=%llu fairness=%s ns_per_op=%llu duration_ns=%llu stop_ns=%llu clocksource=%s%s%s",
		 run->scn->name, run->mode->name,
		 racelab_kind_name(run->mode->kind), cfg->threads, cpus,
		 cfg->duration_ms, cfg->iterations, res->amp, res->expected,
		 res->observed, res->anomalies, racelab_verdict_name(res),
		 ended, res->first_anomaly_ns, res->ops, res->min_thread_ops,
		 res->max_thread_ops, fair,
		 per_thread ? div64_u64(res->duration_ns, per_thread) : 0,
		 res->duration_ns, res->stop_ns, clk,
		 res->extra[0] ? " " : "", res->extra);
}

/* Ask @run to stop, keeping when it was first asked (stop_ns). */
static void racelab_request_stop(struct racelab_run *run)
{
	if (!READ_ONCE(run->stop))
		WRITE_ONCE(run->t_stop, ktime_get_ns());
	WRITE_ONCE(run->stop, true);
}

/* Publish or retract the run so stats and abort can reach it. */
static void racelab_publish(struct racelab_slot *slot, struct racelab_run *run)
{
	mutex_lock(&slot->lock);
	slot->run = run;
	if (run && slot->abort)
		racelab_request_stop(run);
	mutex_unlock(&slot->lock);
}

/*
 * End the run's threads and drop them. The ones still iterating finish
 * their step and exit together; kthread_stop() returns at once for those
 * gone, and interrupts the waits of one stuck in a real deadlock.
 */
static void racelab_reap(struct racelab_run *run, unsigned int created)
{
	unsigned int i;

	for (i = 0; i < created; i++) {
		kthread_stop(run->thr[i].task);
		put_task_struct(run->thr[i].task);
	}
}

/**
 * racelab_run_alloc() - a zeroed run with @threads thread slots
 * @threads: number of slots
 *
 * A power-of-two size: kmalloc() aligns it naturally, so each thread slot
 * really starts a cache line (the 96- and 192-byte caches do not).
 *
 * Return: the run, to kfree(), or NULL.
 */
struct racelab_run *racelab_run_alloc(unsigned int threads)
{
	struct racelab_run *run;

	return kzalloc(roundup_pow_of_two(struct_size(run, thr, threads)),
		       GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(racelab_run_alloc);

/* A run of @cfg, its amplifier resolved for its mode. */
static void racelab_run_init(struct racelab_run *run,
			     const struct racelab_scenario *scn,
			     const struct racelab_cfg *cfg)
{
	run->scn = scn;
	run->mode = &scn->modes[cfg->mode];
	run->cfg = *cfg;
	run->amp_auto = cfg->amp == RACELAB_AMP_AUTO;
	run->cfg.amp = racelab_mode_amp(run->mode, cfg, &run->cfg.amp_arg);
	init_waitqueue_head(&run->gate);
	init_waitqueue_head(&run->done);
}

/* A replay: two threads take turns as the schedule says. */
static int racelab_execute_script(struct racelab_slot *slot,
				  const struct racelab_cfg *cfg,
				  struct racelab_result *res)
{
	const struct racelab_scenario *scn = slot->scn;
	struct racelab_run *run;
	int err;

	run = kzalloc(struct_size(run, thr, RACELAB_SCRIPT_THREADS), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	racelab_run_init(run, scn, cfg);
	err = scn->setup(run);
	if (!err)
		err = racelab_script_run(scn->name, &cfg->script, scn->script,
					 run);
	if (!err) {
		memset(res, 0, sizeof(*res));
		scn->script->verdict(run, res);
		racelab_format(run, res);
	}
	scn->teardown(run);
	kfree(run);
	return err;
}

/**
 * racelab_execute() - do one run of a claimed slot and fill in its verdict
 * @slot: the scenario's slot, claimed with racelab_claim()
 * @cfg:  a validated configuration
 * @res:  the result
 *
 * Return: 0, or a negative errno if the run could not be started.
 */
int racelab_execute(struct racelab_slot *slot, const struct racelab_cfg *cfg,
		    struct racelab_result *res)
{
	const struct racelab_scenario *scn = slot->scn;
	struct racelab_run *run;
	unsigned int i, created = 0;
	int err, ret;

	if (cfg->script.nr)
		return racelab_execute_script(slot, cfg, res);

	run = racelab_run_alloc(cfg->threads);
	if (!run)
		return -ENOMEM;
	racelab_run_init(run, scn, cfg);
	atomic_set(&run->live, cfg->threads);

	err = scn->setup(run);
	if (err)
		goto out_teardown;

	/* Published first: creating 64 threads takes a while, stop may come. */
	racelab_publish(slot, run);
	for (i = 0; i < cfg->threads && !READ_ONCE(run->stop); i++) {
		struct racelab_thread *t = &run->thr[i];
		struct task_struct *task;

		t->run = run;
		t->id = i;
		if (scn->flags & RACELAB_SCN_ONE_CPU)
			t->cpu = cpumask_first(cfg->pinned ? &cfg->cpus :
					       cpu_online_mask);
		else if (cfg->pinned)
			t->cpu = racelab_nth_cpu(&cfg->cpus, i);
		else if (scn->flags & RACELAB_SCN_PIN)
			t->cpu = racelab_nth_cpu(cpu_online_mask, i);
		else
			t->cpu = -1;
		task = kthread_create(racelab_thread_fn, t, "racelab-%s/%u",
				      scn->name, i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			goto out_stop;
		}
		if (t->cpu >= 0)
			kthread_bind(task, t->cpu);
		get_task_struct(task);	/* it may exit before kthread_stop() */
		t->task = task;
		created++;
		wake_up_process(task);
	}

	/* Every thread at the rendezvous before the gate opens. */
	wait_event_idle(run->done, atomic_read(&run->ready) == created ||
			READ_ONCE(run->stop));
	run->t_start = ktime_get_ns();
	/* The configuration and t_start are visible to threads seeing go. */
	smp_store_release(&run->go, true);
	wake_up_all(&run->gate);

	/*
	 * An hrtimer, not jiffies: under emulation the guest loses ticks and
	 * jiffies ran at half speed, doubling every run. The wait is
	 * interruptible so a long run is no hung task; nothing signals a
	 * kthread but kthread_stop(). At duration_ms every thread ends within
	 * its current step; kthread_stop() also ends the interruptible waits
	 * of a thread stuck in a real deadlock.
	 */
	ret = wait_event_interruptible_hrtimeout(run->done,
						 !atomic_read(&run->live) ||
						 READ_ONCE(run->stop),
						 ms_to_ktime(cfg->duration_ms));
	if (ret == -ETIME)
		WRITE_ONCE(run->expired, true);
	else if (ret)		/* a signal: the caller is being stopped */
		racelab_request_stop(run);
	racelab_reap(run, created);
	racelab_publish(slot, NULL);

	memset(res, 0, sizeof(*res));
	res->min_thread_ops = U64_MAX;
	for (i = 0; i < cfg->threads; i++) {
		struct racelab_thread *t = &run->thr[i];

		res->ops += t->ops;
		res->min_thread_ops = min_t(u64, res->min_thread_ops, t->ops);
		res->max_thread_ops = max_t(u64, res->max_thread_ops, t->ops);
		if (t->t_end > run->t_start)
			res->duration_ns = max(res->duration_ns,
					       t->t_end - run->t_start);
	}
	res->stopped = READ_ONCE(run->stop);
	if (res->stopped && run->t_start && run->t_stop > run->t_start)
		res->stop_ns = run->t_stop - run->t_start;
	res->expired = READ_ONCE(run->expired);
	res->first_anomaly_ns = atomic64_read(&run->first_anomaly_ns);
	scn->verdict(run, res);
	if (scn->min_expected && res->expected < scn->min_expected)
		res->inconclusive = true;
	racelab_format(run, res);
	scn->teardown(run);
	kfree(run);
	return 0;

out_stop:
	/* Threads never released through the gate see kthread_should_stop(). */
	racelab_reap(run, created);
	racelab_publish(slot, NULL);
out_teardown:
	scn->teardown(run);
	kfree(run);
	return err;
}

/**
 * racelab_claim() - reserve a slot for one run
 * @slot: the scenario's slot
 *
 * Return: 0, or -EBUSY if a run is claimed already.
 */
int racelab_claim(struct racelab_slot *slot)
{
	int err = 0;

	mutex_lock(&slot->lock);
	if (slot->busy) {
		err = -EBUSY;
	} else {
		slot->busy = true;
		slot->abort = false;
	}
	mutex_unlock(&slot->lock);
	return err;
}

/**
 * racelab_release() - end a claimed run, keeping its result
 * @slot: the scenario's slot
 * @res:  result of the run, or NULL if it could not be started
 */
void racelab_release(struct racelab_slot *slot,
		     const struct racelab_result *res)
{
	if (res)
		pr_info("%s\n", res->line);
	mutex_lock(&slot->lock);
	if (res) {
		slot->last = *res;
		slot->has_last = true;
		slot->runs++;
	}
	slot->busy = false;
	mutex_unlock(&slot->lock);
}

/**
 * racelab_abort() - stop the slot's run, whether it has started or not
 * @slot: the scenario's slot
 */
void racelab_abort(struct racelab_slot *slot)
{
	mutex_lock(&slot->lock);
	if (slot->busy)
		slot->abort = true;
	if (slot->run) {
		racelab_request_stop(slot->run);
		wake_up(&slot->run->done);
	}
	mutex_unlock(&slot->lock);
}

/**
 * racelab_run_sync() - validate @cfg, do one run and wait for its verdict
 * @slot: the scenario's slot
 * @cfg:  configuration of the run
 * @res:  the result
 *
 * Return: 0, -EINVAL for a configuration the knobs would refuse, -EBUSY if
 * the scenario is running already, or another negative errno.
 */
int racelab_run_sync(struct racelab_slot *slot, const struct racelab_cfg *cfg,
		     struct racelab_result *res)
{
	const char *why = NULL;
	int err;

	err = racelab_cfg_validate(slot->scn, cfg, &why);
	if (err) {
		pr_notice("%s: run refused: %s\n", slot->scn->name, why);
		return err;
	}
	err = racelab_claim(slot);
	if (err)
		return err;
	err = racelab_execute(slot, cfg, res);
	racelab_release(slot, err ? NULL : res);
	return err;
}
EXPORT_SYMBOL_GPL(racelab_run_sync);

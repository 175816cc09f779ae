/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racelab - kernel race conditions on demand: the scenario API.
 *
 * This is all a scenario author reads. The core (runner, knobs, statistics,
 * debugfs and /proc, in module/core/) knows no race by name. Each scenario
 * is one file in module/scenarios/ that provides a struct racelab_scenario:
 * its shared state, a table of modes (one struct racelab_mode per variant,
 * in the spirit of locktorture's lock_torture_ops) and a verdict function
 * that turns the final state into expected/observed/anomalies. One line in
 * module/scenarios/list.h registers it.
 */
#ifndef _RACELAB_H
#define _RACELAB_H

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define RACELAB_MAX_THREADS	64
#define RACELAB_MAX_ITERATIONS	1000000000UL
#define RACELAB_MAX_DURATION_MS	600000U
#define RACELAB_DEFAULT_DURATION_MS 1000U
/* Threads x sleep in a window that one lock serializes: stop stays prompt. */
#define RACELAB_MAX_SERIAL_SLEEP_US 50000U
#define RACELAB_MAX_DELAY_NS	100000U
#define RACELAB_MAX_SLEEP_US	10000U
#define RACELAB_KNOB_MAX	64	/* longest knob value accepted, bytes */
#define RACELAB_EXTRA_MAX	256
#define RACELAB_VERDICT_MAX	800

#define RACELAB_SCRIPT_MAX	16	/* steps in a schedule */
#define RACELAB_SCRIPT_THREADS	2
/* Each thread runs every step once: a thread's steps, at most. */
#define RACELAB_SCRIPT_STEPS	(RACELAB_SCRIPT_MAX / RACELAB_SCRIPT_THREADS)

/**
 * struct racelab_script - a schedule: which thread runs which step, in order
 * @nr:     steps
 * @thread: thread of each step
 * @step:   letter of each step, as in racelab_script_ops.steps
 */
struct racelab_script {
	unsigned int nr;
	u8 thread[RACELAB_SCRIPT_MAX];
	char step[RACELAB_SCRIPT_MAX];
};

/* What a mode is meant to show. */
enum racelab_kind {
	RACELAB_RACY,		/* the race itself */
	RACELAB_BROKEN_FIX,	/* looks fixed, is not */
	RACELAB_FIXED,		/* a correct fix: never an anomaly */
};

/* What happens inside the race window, between read and write. */
enum racelab_amp {
	RACELAB_AMP_NONE,
	RACELAB_AMP_DELAY,	/* busy-wait of amp_arg ns (ndelay) */
	RACELAB_AMP_SLEEP,	/* a context switch that surely happens */
	RACELAB_AMP_AUTO,	/* the mode's own window (knob only, never run) */
};

/* Mode flags. */
#define RACELAB_MODE_ATOMIC_WINDOW	BIT(0)	/* window runs in atomic context */
#define RACELAB_MODE_SERIAL_WINDOW	BIT(1)	/* one lock held across windows */
#define RACELAB_MODE_EXPERIMENT		BIT(2)	/* a detector experiment: one per boot */
#define RACELAB_MODE_LOCKDEP_OFF	BIT(3)	/* its lockdep report turns lockdep off */

/* Where a racy mode cannot show its race: it is not asked to, there. */
#define RACELAB_HIDDEN_TSO	BIT(0)	/* x86-TSO keeps the order it needs */
#define RACELAB_HIDDEN_KCSAN	BIT(1)	/* KCSAN's barriers drain the window */
/* KASAN's SLUB_RCU_DEBUG delays a SLAB_TYPESAFE_BY_RCU free a grace period */
#define RACELAB_HIDDEN_SLUB_RCU_DEBUG	BIT(2)

/*
 * The detectors the lab runs. RACELAB_KCHECK is the kernel's own runtime
 * checks, which print a WARNING: refcount_t's saturation ("refcount_t:
 * addition on 0; use-after-free"). Like lockdep's, such a report is once
 * per boot: a mode that expects one is an experiment.
 */
enum racelab_detector {
	RACELAB_KCSAN,
	RACELAB_LOCKDEP,
	RACELAB_KASAN,
	RACELAB_KCHECK,
	RACELAB_NR_DETECTORS,
};

/* What a detector must say of a mode's runs. */
enum racelab_says {
	RACELAB_NOT_ASKED,	/* nothing either way (a fixed mode: silent) */
	RACELAB_REPORTS,	/* a report, with the names it must contain */
	RACELAB_SILENT,		/* silence, while the invariant still breaks */
};

/**
 * struct racelab_expect - what one detector must say of a mode
 * @says:  RACELAB_REPORTS or RACELAB_SILENT; RACELAB_NOT_ASKED by default
 * @names: with RACELAB_REPORTS, what the report must contain, '|'
 *         separated: KCSAN names one of these functions on each side (the
 *         mode's own noinline functions); lockdep prints its header and
 *         every lock name given
 */
struct racelab_expect {
	enum racelab_says says;
	const char *names;
};

/* Scenario flags. */
#define RACELAB_SCN_PIN		BIT(0)	/* pin thread i to online CPU i by default */
#define RACELAB_SCN_NO_AMP	BIT(1)	/* takes no amplifier: its window is fixed */
/* Every thread on one CPU: the first of cpus, or the first online one. */
#define RACELAB_SCN_ONE_CPU	BIT(2)

struct racelab_cfg;
struct racelab_run;
struct racelab_scenario;
struct racelab_thread;

/**
 * struct racelab_mode - one way of doing a scenario's shared access
 * @name:  name written to the mode knob
 * @kind:  racy, broken-fix or fixed
 * @flags: RACELAB_MODE_* flags
 * @about: one line saying what the mode does
 * @step:  optional: this mode's own step, for scenarios whose modes share
 *         nothing (the lockdep experiments); otherwise the scenario's
 * @ops:   the scenario's own operations for this mode (its reader and
 *         writer, take and give...), read through run->mode->ops
 * @auto_amp: the window amplifier=auto gives this mode: a race too narrow
 *         to show reliably gets a wider window by design
 * @auto_arg: its argument (ns for a delay)
 * @min_threads: threads this mode needs at least, beyond its scenario's
 * @hidden: RACELAB_HIDDEN_* where this racy mode cannot show its race
 * @expect: per detector (RACELAB_KCSAN...), what it must say of this mode
 */
struct racelab_mode {
	const char *name;
	enum racelab_kind kind;
	unsigned int flags;
	const char *about;
	bool (*step)(struct racelab_run *run, struct racelab_thread *t);
	const void *ops;
	enum racelab_amp auto_amp;
	unsigned int auto_arg;
	unsigned int min_threads;
	unsigned int hidden;
	struct racelab_expect expect[RACELAB_NR_DETECTORS];
};

/**
 * struct racelab_plan - one run the tests hold every mode to
 * @amplifier:   the amplifier knob's value for it
 * @duration_ms: run length; 0: RACELAB_PLAN_MS
 * @racy_cpus:   fewest CPUs on which its racy modes are asked to show the
 *               race (1, or 2 where one CPU shows it too slowly); fixed
 *               modes must be exact everywhere
 *
 * Each plan is declared once: a plan must give some mode a window (its
 * amplifier as that mode resolves it, "auto" being the mode's own, and
 * its duration) that no other plan gives it. Where two plans give a mode
 * the same window, the tests run it once, and the plans must agree on
 * @racy_cpus. KUnit's racelab_knobs checks both.
 */
struct racelab_plan {
	const char *amplifier;
	unsigned int duration_ms;
	unsigned int racy_cpus;
};

#define RACELAB_PLAN_MS		300	/* a test run, unless a plan says */

/* A scenario's test plans: RACELAB_PLANS({ "auto", 0, 1 }, ...). */
#define RACELAB_PLANS(...)						\
	((const struct racelab_plan[]) { __VA_ARGS__, { NULL } })

/**
 * struct racelab_result - outcome of one run, as printed in a verdict line
 * @expected:  value the invariant demands
 * @observed:  value found at the end
 * @anomalies: lost updates, torn reads, forbidden outcomes... of this run
 * @ops:       iterations done by all threads
 * @min_thread_ops: iterations of the thread that did fewest (progress)
 * @max_thread_ops: iterations of the thread that did most; the verdict's
 *             fairness=max/min, as locktorture's "Max/Min"
 * @duration_ns: wall time from the start gate to the last thread's end
 * @first_anomaly_ns: time from the start gate to the first anomaly seen
 *             while running (0: none, or the scenario counts at the end)
 * @stop_ns:   time from the start gate to the first stop request (0: no
 *             stop, or one before the gate opened): duration_ns - stop_ns
 *             is how long the threads took to stop
 * @stopped:   the run was stopped (stop, rmmod) before its end
 * @expired:   the run ended at its duration_ms
 * @inconclusive: clean, but on too small a sample to mean it (the
 *             scenario says why in @extra)
 * @mode:      the mode that ran
 * @threads:   threads that ran
 * @amp:       the amplifier, as the amplifier knob shows it
 * @extra:     scenario-specific key=value pairs, appended to @line
 * @line:      the verdict line, key=value pairs
 */
struct racelab_result {
	u64 expected;
	u64 observed;
	u64 anomalies;
	u64 ops;
	u64 min_thread_ops;
	u64 max_thread_ops;
	u64 duration_ns;
	u64 first_anomaly_ns;
	u64 stop_ns;
	bool stopped;
	bool expired;
	bool inconclusive;
	const struct racelab_mode *mode;
	unsigned int threads;
	char amp[32];
	char extra[RACELAB_EXTRA_MAX];
	char line[RACELAB_VERDICT_MAX];
};

/**
 * struct racelab_script_model - a schedule's steps, played on paper
 * @shared: the shared value (a counter, a balance)
 * @local:  each thread's own copy, or what its check said
 * @done:   actions done (withdrawals...)
 */
struct racelab_script_model {
	long shared;
	long local[RACELAB_SCRIPT_THREADS];
	long done;
};

/**
 * struct racelab_script_ops - how a scenario replays a schedule
 * @steps:   letters of one thread's steps, in order ("RMW": read, modify,
 *           write); 1 to RACELAB_SCRIPT_STEPS of them, each a letter
 * @exec:    run one step of one thread on run->priv
 * @verdict: fill expected/observed/anomalies and extra from the final state
 * @model_init:   the tests' oracle: the state before the first step
 * @model_step:   one step, played sequentially on the model
 * @model_result: what the replay must report: its observed value, and
 *                whether it must count an anomaly
 */
struct racelab_script_ops {
	const char *steps;
	void (*exec)(struct racelab_run *run, unsigned int thread, char step);
	void (*verdict)(struct racelab_run *run, struct racelab_result *res);
	void (*model_init)(struct racelab_script_model *m);
	void (*model_step)(struct racelab_script_model *m, unsigned int thread,
			   char step);
	void (*model_result)(const struct racelab_script_model *m,
			     u64 *observed, bool *anomaly);
};

/**
 * struct racelab_knob - one knob, in the style of struct kernel_param_ops
 * @name:  its file under racelab/<scenario>/, and its module parameter
 * @about: one line for the parameter's description and the plan file
 * @parse: parse @val into @cfg; only the value itself is checked
 * @show:  format @cfg's value into @buf, NUL-terminated, no newline
 */
struct racelab_knob {
	const char *name;
	const char *about;
	int (*parse)(const struct racelab_scenario *scn,
		     struct racelab_cfg *cfg, const char *val);
	int (*show)(const struct racelab_scenario *scn,
		    const struct racelab_cfg *cfg, char *buf, size_t len);
};

/**
 * struct racelab_file - a file of a scenario's own in racelab/<scenario>/,
 *	for a race driven from user space (a request to a handler)
 * @name:  its name
 * @mode:  its permissions (root only, as every racelab file)
 * @fops:  its file operations; debugfs waits for them at rmmod
 * @about: one line for the plan file
 */
struct racelab_file {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
	const char *about;
};

/* Knobs a scenario may add (.knobs): schedule, for one that gives .script. */
extern const struct racelab_knob racelab_knob_schedule;

/**
 * struct racelab_scenario - a race and its modes
 * @name:     directory name under debugfs racelab/
 * @about:    one line saying what races
 * @flags:    RACELAB_SCN_* flags
 * @modes:    table of modes
 * @nr_modes: entries in @modes
 * @step:     one iteration of one thread; calls racelab_window() inside its
 *            race window. Returns false when the thread has nothing left
 *            to do (a partner that left a handshake).
 * @read:     a reader/writer scenario, instead of @step: one read. Every
 *            thread but thread 0 reads, until the run ends.
 * @write:    one write, by thread 0, for as long as any reader reads (the
 *            readers decide the run's length), as rcutorture's writer.
 *            Returns false if it cannot go on.
 * @plans:    the runs the tests hold every mode to (RACELAB_PLANS())
 * @one_cpu_amplifier: the window its races need on one CPU, for the demo
 *            and the bench there; NULL: "delay:1000"
 * @detect_amplifier: the amplifier detector tests run it with; NULL:
 *            "delay:1000"
 * @min_cpus: CPUs it needs at least (0: 1)
 * @min_threads: threads it needs at least (0: 1; 2 for reader/writer)
 * @max_threads: threads it takes at most (0: RACELAB_MAX_THREADS)
 * @min_expected: a clean verdict on fewer checks (expected) than this is
 *            inconclusive: too small a sample to mean it
 * @always:   key=value pairs every run's verdict line holds, in every
 *            mode, racy ones included (what the scenario conserves)
 * @kcsan_kernel: optional, NULL-terminated: the kernel's own functions
 *            that a KCSAN report may name on both sides when the
 *            scenario's lawful use of a kernel API races inside the
 *            kernel: the kernel's data race, not one of racelab's (the
 *            lab allows it on the console)
 * @demo_compare: a verdict key the demo compares across the modes (their
 *            ns_per_op), for scenarios that measure rather than race
 * @validate: optional: refuse a configuration the scenario cannot run
 *            (-EINVAL, with the reason in *why), on top of the generic
 *            rules. Called at start, on the whole configuration.
 * @script:   optional: schedules this scenario can replay; it then adds
 *            the schedule knob
 * @knobs:    optional: NULL-terminated list of the knobs it adds to the
 *            knobs of every scenario
 * @files:    optional: files of its own, ended by one with a NULL name
 * @setup:    allocate and reset run->priv before the threads start
 * @verdict:  fill expected/observed/anomalies of @res from the final state
 * @teardown: free run->priv
 */
struct racelab_scenario {
	const char *name;
	const char *about;
	unsigned int flags;
	const struct racelab_mode *modes;
	unsigned int nr_modes;
	bool (*step)(struct racelab_run *run, struct racelab_thread *t);
	bool (*read)(struct racelab_run *run, struct racelab_thread *t);
	bool (*write)(struct racelab_run *run, struct racelab_thread *t);
	int (*validate)(const struct racelab_cfg *cfg, const char **why);
	const struct racelab_script_ops *script;
	const struct racelab_knob *const *knobs;
	const struct racelab_file *files;
	const struct racelab_plan *plans;
	const char *one_cpu_amplifier;
	const char *detect_amplifier;
	unsigned int min_cpus;
	unsigned int min_threads;
	unsigned int max_threads;
	u64 min_expected;
	const char *always;
	const char *const *kcsan_kernel;
	const char *demo_compare;
	int (*setup)(struct racelab_run *run);
	void (*verdict)(struct racelab_run *run, struct racelab_result *res);
	void (*teardown)(struct racelab_run *run);
};

/**
 * struct racelab_cfg - the knobs of one scenario
 * @mode:       index into the scenario's mode table
 * @threads:    number of kthreads
 * @iterations: cap on the iterations of each thread (0: none)
 * @duration_ms: length of the run: it ends then, whatever is left to do
 * @amp:        amplifier inside the race window
 * @amp_arg:    ns for RACELAB_AMP_DELAY, us for RACELAB_AMP_SLEEP
 * @pinned:     bind thread i to the i-th CPU of @cpus (round robin)
 * @cpus:       CPUs to pin to
 * @script:     a schedule to replay instead of a free run, if @script.nr
 */
struct racelab_cfg {
	unsigned int mode;
	unsigned int threads;
	unsigned long iterations;
	unsigned int duration_ms;
	enum racelab_amp amp;
	unsigned int amp_arg;
	bool pinned;
	struct cpumask cpus;
	struct racelab_script script;
};

/*
 * One racing kthread. Each has a cache line of its own: a thread writes
 * @ops every iteration, which must not share a line with its neighbours'
 * (it did, and false-sharing/padded shared lines through it).
 */
struct racelab_thread {
	struct racelab_run *run;
	struct task_struct *task;
	unsigned int id;
	int cpu;		/* CPU it is bound to, or -1 */
	unsigned long ops;	/* iterations done: written by the thread only */
	u64 t_end;		/* when it finished iterating */
	void *priv;		/* scenario's per-thread data */
} ____cacheline_aligned_in_smp;

/* One run of one scenario: owned by the runner from start to verdict. */
struct racelab_run {
	const struct racelab_scenario *scn;
	const struct racelab_mode *mode;
	struct racelab_cfg cfg;	/* amplifier resolved: never AUTO */
	bool amp_auto;		/* the amplifier knob said auto */
	void *priv;		/* scenario's shared state */
	bool go;		/* start gate open */
	bool stop;		/* stop requested (stop, rmmod) */
	bool expired;		/* duration_ms has passed */
	atomic_t ready;		/* threads at the rendezvous */
	atomic_t live;		/* threads still iterating */
	atomic64_t first_anomaly_ns;
	wait_queue_head_t gate;	/* threads wait here for @go */
	wait_queue_head_t done;	/* runner waits here for @ready, @live */
	u64 t_start;
	u64 t_stop;		/* first stop request, racelab_request_stop() */
	struct racelab_thread thr[];
};

void racelab_amplify(struct racelab_thread *t);

/**
 * racelab_window() - the race window of a step
 * @t: the running thread
 *
 * Called by a mode's step between its read and its write. Does nothing
 * unless an amplifier is set, so the racy path stays one load and one store.
 */
static inline void racelab_window(struct racelab_thread *t)
{
	if (t->run->cfg.amp != RACELAB_AMP_NONE)
		racelab_amplify(t);
}

/**
 * racelab_others_live() - are threads other than the caller still running?
 * @run: the run
 *
 * A writer stops when its readers are done: they decide the run's length.
 */
static inline bool racelab_others_live(struct racelab_run *run)
{
	return atomic_read(&run->live) > 1;
}

/**
 * racelab_should_stop() - is the run over? For the runner's loop and for
 * loops inside a step (spin waits, retries)
 * @run: the run
 */
static inline bool racelab_should_stop(struct racelab_run *run)
{
	return READ_ONCE(run->stop) || READ_ONCE(run->expired) ||
	       kthread_should_stop();
}

void __racelab_anomaly(struct racelab_run *run);

/**
 * racelab_anomaly() - note that an anomaly was seen, for its time
 * @run: the run
 *
 * Scenarios that see an anomaly as it happens call this, so the verdict
 * says how long the race took to show (first_anomaly_ns).
 */
static inline void racelab_anomaly(struct racelab_run *run)
{
	if (!atomic64_read(&run->first_anomaly_ns))
		__racelab_anomaly(run);
}

/**
 * racelab_mode_amp() - the amplifier a mode runs with under @cfg
 * @mode: the mode
 * @cfg:  the configuration
 * @arg:  its argument, if not NULL
 */
static inline enum racelab_amp racelab_mode_amp(const struct racelab_mode *mode,
						const struct racelab_cfg *cfg,
						unsigned int *arg)
{
	if (cfg->amp != RACELAB_AMP_AUTO) {
		if (arg)
			*arg = cfg->amp_arg;
		return cfg->amp;
	}
	if (arg)
		*arg = mode->auto_arg;
	return mode->auto_amp;
}

/**
 * struct racelab_qentry - an object's place in a quarantine; embed it
 * @rcu:       for call_rcu(), and for kfree_rcu() in a mode that uses that
 * @q:         the quarantine it is in
 * @queued_ns: when it was queued
 */
struct racelab_qentry {
	struct rcu_head rcu;
	struct racelab_quarantine *q;
	u64 queued_ns;
};

/**
 * struct racelab_quarantine - objects freed too early, bounded, freed by RCU
 * @max:     objects in flight at most
 * @free:    the real free of one object
 * @pending: objects waiting for their grace period
 * @gp_ns:   sum of the grace periods waited
 * @gp_max_ns: the longest
 * @gps:     grace periods counted
 */
struct racelab_quarantine {
	unsigned int max;
	void (*free)(struct racelab_qentry *e);
	atomic_long_t pending;
	atomic64_t gp_ns;
	atomic64_t gp_max_ns;
	atomic_long_t gps;
};

/*
 * A writer that frees by kfree_rcu() waits for a grace period every
 * RACELAB_KFREE_RCU_MAX frees (racelab_kfree_rcu_bound()): one that never
 * waits outruns a slow reader, no grace period ends, and the kfree_rcu()
 * backlog grows without bound. The quarantine's @max bounds its own.
 */
#define RACELAB_KFREE_RCU_MAX	256

void racelab_kfree_rcu_bound(unsigned int *since_gp);
void racelab_quarantine_init(struct racelab_quarantine *q, unsigned int max,
			     void (*free)(struct racelab_qentry *e));
void racelab_quarantine_wait(struct racelab_quarantine *q,
			     struct racelab_run *run);
void racelab_quarantine_put(struct racelab_quarantine *q,
			    struct racelab_qentry *e,
			    void (*poison)(struct racelab_qentry *e));
void racelab_quarantine_gp_seen(struct racelab_quarantine *q, u64 ns);
void racelab_quarantine_drain(struct racelab_quarantine *q);

/* Every registered scenario: one line each in module/scenarios/list.h. */
#define RACELAB_SCENARIO(id) extern const struct racelab_scenario racelab_##id##_scenario
#include "scenarios/list.h"
#undef RACELAB_SCENARIO

#endif /* _RACELAB_H */

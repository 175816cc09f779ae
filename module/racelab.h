/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racelab - kernel race conditions on demand.
 *
 * The core (runner, knobs, statistics, debugfs and /proc) knows no race by
 * name. Each scenario is one file that provides a struct racelab_scenario:
 * its shared state, a table of modes (one struct racelab_mode per variant,
 * in the spirit of locktorture's lock_torture_ops) and a verdict function
 * that turns the final state into expected/observed/anomalies.
 */
#ifndef _RACELAB_H
#define _RACELAB_H

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
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

/* Scenario flags. */
#define RACELAB_SCN_PIN		BIT(0)	/* pin thread i to online CPU i by default */
#define RACELAB_SCN_WRITER0	BIT(1)	/* thread 0 writes until the others are done */

struct racelab_cfg;
struct racelab_run;
struct racelab_thread;

/**
 * struct racelab_mode - one way of doing a scenario's shared access
 * @name:  name written to the mode knob
 * @kind:  racy, broken-fix or fixed
 * @flags: RACELAB_MODE_* flags
 * @about: one line saying what the mode does
 * @step:  one iteration of one thread; calls racelab_window() inside its
 *         race window. Returns false when the thread has nothing left to do
 *         (a writer whose readers are gone, a partner that left a handshake).
 * @ops:   the scenario's own operations for this mode (its reader and
 *         writer, take and give...), read by @step through run->mode
 * @auto_amp: the window amplifier=auto gives this mode: a race too narrow
 *         to show reliably gets a wider window by design
 * @auto_arg: its argument (ns for a delay)
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
};

/**
 * struct racelab_result - outcome of one run, as printed in a verdict line
 * @expected:  value the invariant demands
 * @observed:  value found at the end
 * @anomalies: lost updates, torn reads, forbidden outcomes... of this run
 * @ops:       iterations done by all threads
 * @min_thread_ops: iterations of the thread that did fewest (progress)
 * @duration_ns: wall time from the start gate to the last thread's end
 * @first_anomaly_ns: time from the start gate to the first anomaly seen
 *             while running (0: none, or the scenario counts at the end)
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
	u64 duration_ns;
	u64 first_anomaly_ns;
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
 * struct racelab_script_ops - how a scenario replays a schedule
 * @steps:   letters of one thread's steps, in order ("RMW": read, modify,
 *           write)
 * @exec:    run one step of one thread on run->priv
 * @verdict: fill expected/observed/anomalies and extra from the final state
 */
struct racelab_script_ops {
	const char *steps;
	void (*exec)(struct racelab_run *run, unsigned int thread, char step);
	void (*verdict)(struct racelab_run *run, struct racelab_result *res);
};

/**
 * struct racelab_scenario - a race and its modes
 * @name:     directory name under debugfs racelab/
 * @about:    one line saying what races
 * @flags:    RACELAB_SCN_* flags
 * @modes:    table of modes
 * @nr_modes: entries in @modes
 * @validate: optional: refuse a configuration the scenario cannot run
 *            (-EINVAL, with the reason in *why), on top of the generic
 *            rules. Called at start, on the whole configuration.
 * @script:   optional: schedules this scenario can replay
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
	int (*validate)(const struct racelab_cfg *cfg, const char **why);
	const struct racelab_script_ops *script;
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
	struct racelab_thread thr[];
};

/**
 * struct racelab_slot - a scenario's place in the lab: knobs, state, result
 * @scn:     the scenario
 * @lock:    protects @cfg, @busy, @run, @last and @runs
 * @cfg:     knob values for the next run
 * @busy:    a run is claimed (its threads may not have started yet)
 * @abort:   stop the claimed run as soon as it is published
 * @run:     the run in flight, or NULL
 * @last:    result of the last finished run
 * @has_last: @last is valid
 * @runs:    number of finished runs, so that two equal verdicts differ
 * @work_cfg: configuration of the asynchronous run
 * @work:    runs an asynchronous run started from debugfs
 * @dir:     debugfs directory
 */
struct racelab_slot {
	const struct racelab_scenario *scn;
	struct mutex lock;	/* protects cfg, busy, abort, run, last, runs */
	struct racelab_cfg cfg;
	bool busy;
	bool abort;
	struct racelab_run *run;
	struct racelab_result last;
	bool has_last;
	unsigned long runs;
	struct racelab_cfg work_cfg;
	struct work_struct work;
	struct dentry *dir;
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

/* Exported to the KUnit module. */
struct racelab_slot *racelab_slot_find(const char *name);
void racelab_cfg_default(struct racelab_cfg *cfg);
struct racelab_run *racelab_run_alloc(unsigned int threads);
int racelab_cfg_validate(const struct racelab_scenario *scn,
			 const struct racelab_cfg *cfg, const char **why);
int racelab_knob_parse(const struct racelab_scenario *scn,
		       struct racelab_cfg *cfg, const char *knob,
		       const char *val);
int racelab_run_sync(struct racelab_slot *slot, const struct racelab_cfg *cfg,
		     struct racelab_result *res);
const char *racelab_kind_name(enum racelab_kind kind);
const char *racelab_verdict_name(const struct racelab_result *res);

int racelab_script_parse(const struct racelab_script_ops *ops, const char *val,
			 struct racelab_script *out);
int racelab_script_show(const struct racelab_script *s, char *buf, size_t len,
			char sep);

/* Core internals shared between core files. */
int racelab_script_run(const char *name, const struct racelab_script *script,
		       const struct racelab_script_ops *ops,
		       struct racelab_run *run);
int racelab_execute(struct racelab_slot *slot, const struct racelab_cfg *cfg,
		    struct racelab_result *res);
int racelab_claim(struct racelab_slot *slot);
void racelab_release(struct racelab_slot *slot,
		     const struct racelab_result *res);
void racelab_abort(struct racelab_slot *slot);
int racelab_cfg_show(const struct racelab_scenario *scn,
		     const struct racelab_cfg *cfg, const char *knob,
		     char *buf, size_t len);
void racelab_clocksource(char *buf, size_t len);

int racelab_debugfs_init(struct racelab_slot *slots, unsigned int nr);
int racelab_start_async(struct racelab_slot *slot);
void racelab_run_work(struct work_struct *work);
void racelab_debugfs_exit(void);

/* Scenarios. */
extern const struct racelab_scenario racelab_counter_scenario;
extern const struct racelab_scenario racelab_check_act_scenario;
extern const struct racelab_scenario racelab_torn_read_scenario;
extern const struct racelab_scenario racelab_rcu_pointer_scenario;
extern const struct racelab_scenario racelab_rcu_list_scenario;
extern const struct racelab_scenario racelab_ordering_scenario;
extern const struct racelab_scenario racelab_aba_scenario;
extern const struct racelab_scenario racelab_false_sharing_scenario;
extern const struct racelab_scenario racelab_lockdep_scenario;

#endif /* _RACELAB_H */

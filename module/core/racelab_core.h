/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racelab core internals: the slots that hold each scenario's knobs and
 * last result, and what the core files and the KUnit module share.
 * Scenario authors read racelab.h only.
 */
#ifndef _RACELAB_CORE_H
#define _RACELAB_CORE_H

#include "racelab.h"

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

/* A scenario's declared bounds, with their defaults. */
static inline unsigned int racelab_min_threads(const struct racelab_scenario *scn)
{
	return max(scn->min_threads, scn->write ? 2U : 1U);
}

static inline unsigned int racelab_max_threads(const struct racelab_scenario *scn)
{
	return scn->max_threads ?: RACELAB_MAX_THREADS;
}

static inline unsigned int racelab_min_cpus(const struct racelab_scenario *scn)
{
	return scn->min_cpus ?: 1;
}

/* Exported to the KUnit module. */
struct racelab_slot *racelab_slot_find(const char *name);
struct racelab_slot *racelab_slot_at(unsigned int i);
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
extern const unsigned int racelab_nr_common_knobs;
const struct racelab_knob *racelab_knob_at(const struct racelab_scenario *scn,
					   unsigned int i);
const struct racelab_knob *racelab_knob_find(const struct racelab_scenario *scn,
					     const char *name);
int racelab_amp_name(enum racelab_amp amp, unsigned int arg, char *buf,
		     size_t len);
bool racelab_mode_shows_here(const struct racelab_mode *mode, const char **why);
int racelab_cfg_show(const struct racelab_scenario *scn,
		     const struct racelab_cfg *cfg, const char *knob,
		     char *buf, size_t len);
void racelab_clocksource(char *buf, size_t len);

int racelab_debugfs_init(struct racelab_slot *slots, unsigned int nr);
int racelab_start_async(struct racelab_slot *slot);
void racelab_run_work(struct work_struct *work);
void racelab_debugfs_exit(void);

#endif /* _RACELAB_CORE_H */

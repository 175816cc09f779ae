// SPDX-License-Identifier: GPL-2.0
/*
 * racelab - kernel race conditions on demand, and their fixes.
 *
 * Module glue: the scenario table, module parameters (defaults for every
 * scenario, and an optional run at load time), init and exit.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "racelab_core.h"

#define RACELAB_MAX_SCENARIOS	64

static const struct racelab_scenario *racelab_scenarios[RACELAB_MAX_SCENARIOS];
static unsigned int racelab_nr_scenarios;
static struct racelab_slot racelab_slots[RACELAB_MAX_SCENARIOS];

static int racelab_register(const struct racelab_scenario *scn)
{
	if (racelab_nr_scenarios == RACELAB_MAX_SCENARIOS) {
		pr_err("scenario %s: more than %d scenarios\n", scn->name,
		       RACELAB_MAX_SCENARIOS);
		return -ENOSPC;
	}
	racelab_scenarios[racelab_nr_scenarios++] = scn;
	return 0;
}

/* Every scenario, in the order of module/scenarios/list.h. */
static int racelab_register_all(void)
{
	int err = 0;

#define RACELAB_SCENARIO(id) (err = err ?: racelab_register(&racelab_##id##_scenario))
#include "scenarios/list.h"
#undef RACELAB_SCENARIO
	return err;
}

/*
 * Every knob is a module parameter, parsed by the knob table like a debugfs
 * write: a default for every scenario, except mode and the knobs a
 * scenario adds, which go to the scenario named by run= only. run= runs
 * that scenario once at load and prints its verdict, as locktorture does.
 */
struct racelab_param {
	bool set;
	char val[RACELAB_KNOB_MAX];
};

/* The value without the white space around it, as a debugfs write. */
static int racelab_param_set(const char *val, const struct kernel_param *kp)
{
	struct racelab_param *p = kp->arg;
	char buf[RACELAB_KNOB_MAX];

	if (strscpy(buf, val, sizeof(buf)) < 0)
		return -EINVAL;
	strscpy(p->val, strim(buf), sizeof(p->val));
	p->set = true;
	return 0;
}

static int racelab_param_get(char *buf, const struct kernel_param *kp)
{
	const struct racelab_param *p = kp->arg;

	return scnprintf(buf, PAGE_SIZE, "%s\n", p->set ? p->val : "");
}

static const struct kernel_param_ops racelab_param_ops = {
	.set = racelab_param_set,
	.get = racelab_param_get,
};

static struct racelab_param racelab_param_run, racelab_param_autorun;
static struct racelab_param racelab_param_mode, racelab_param_threads;
static struct racelab_param racelab_param_iterations, racelab_param_duration_ms;
static struct racelab_param racelab_param_amplifier, racelab_param_cpus;
static struct racelab_param racelab_param_schedule;

module_param_cb(run, &racelab_param_ops, &racelab_param_run, 0444);
MODULE_PARM_DESC(run, "Scenario to run once at load time (the verdict goes to the kernel log)");
module_param_cb(autorun, &racelab_param_ops, &racelab_param_autorun, 0444);
MODULE_PARM_DESC(autorun, "Same as run= (its older name); not both");
module_param_cb(mode, &racelab_param_ops, &racelab_param_mode, 0444);
MODULE_PARM_DESC(mode, "Mode of the run= scenario");
module_param_cb(threads, &racelab_param_ops, &racelab_param_threads, 0444);
MODULE_PARM_DESC(threads, "Default number of racing kthreads (1-64)");
module_param_cb(iterations, &racelab_param_ops, &racelab_param_iterations, 0444);
MODULE_PARM_DESC(iterations, "Default cap on the iterations of each thread (0: none)");
module_param_cb(duration_ms, &racelab_param_ops, &racelab_param_duration_ms, 0444);
MODULE_PARM_DESC(duration_ms, "Default length of a run in ms (1-600000)");
module_param_cb(amplifier, &racelab_param_ops, &racelab_param_amplifier, 0444);
MODULE_PARM_DESC(amplifier, "Default race window amplifier: auto, none, delay:<ns>, sleep[:<us>]");
module_param_cb(cpus, &racelab_param_ops, &racelab_param_cpus, 0444);
MODULE_PARM_DESC(cpus, "Default CPUs to pin to (a list), or any");
module_param_cb(schedule, &racelab_param_ops, &racelab_param_schedule, 0444);
MODULE_PARM_DESC(schedule, "Schedule the run= scenario replays (scenarios with a schedule knob)");

/* The parameter of a knob: every knob has one (checked at load). */
static const struct kernel_param *racelab_param_of(const char *knob)
{
	unsigned int i;

	for (i = 0; i < THIS_MODULE->num_kp; i++) {
		const struct kernel_param *kp = &THIS_MODULE->kp[i];

		if (kp->ops == &racelab_param_ops && !strcmp(kp->name, knob))
			return kp;
	}
	return NULL;
}

/**
 * racelab_slot_find() - the slot of a scenario
 * @name: scenario name
 *
 * Return: the slot, or NULL if there is no such scenario.
 */
struct racelab_slot *racelab_slot_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < racelab_nr_scenarios; i++)
		if (!strcmp(racelab_slots[i].scn->name, name))
			return &racelab_slots[i];
	return NULL;
}
EXPORT_SYMBOL_GPL(racelab_slot_find);

/**
 * racelab_slot_at() - the @i-th scenario's slot, in list order
 * @i: 0, 1, ...
 *
 * Return: the slot, or NULL past the last one.
 */
struct racelab_slot *racelab_slot_at(unsigned int i)
{
	return i < racelab_nr_scenarios ? &racelab_slots[i] : NULL;
}
EXPORT_SYMBOL_GPL(racelab_slot_at);

/* A knob every scenario has, other than mode: a default for them all. */
static bool racelab_param_is_default(const char *name)
{
	unsigned int i;

	for (i = 1; i < racelab_nr_common_knobs; i++)
		if (!strcmp(racelab_knob_at(racelab_scenarios[0], i)->name, name))
			return true;
	return false;
}

/* A schedule's steps: 1 to RACELAB_SCRIPT_STEPS letters. */
static bool racelab_script_steps_ok(const char *steps)
{
	size_t i, len = steps ? strlen(steps) : 0;

	for (i = 0; i < len; i++)
		if (!isalpha(steps[i]))
			return false;
	return len && len <= RACELAB_SCRIPT_STEPS;
}

/*
 * A scenario that cannot run is a bug in its file: say what is missing,
 * and load nothing.
 */
static int racelab_scn_check(const struct racelab_scenario *scn)
{
	unsigned int i;

	if (!scn->name || !scn->nr_modes || !scn->setup || !scn->verdict ||
	    !scn->teardown) {
		pr_err("scenario %s: needs a name, modes, setup, verdict and teardown\n",
		       scn->name ?: "?");
		return -EINVAL;
	}
	if (!scn->read != !scn->write) {
		pr_err("scenario %s: a reader/writer scenario gives both read and write\n",
		       scn->name);
		return -EINVAL;
	}
	if (scn->script && (!scn->script->model_init ||
			    !scn->script->model_step ||
			    !scn->script->model_result)) {
		pr_err("scenario %s: a schedule needs its model, for the tests\n",
		       scn->name);
		return -EINVAL;
	}
	if (scn->script && !racelab_script_steps_ok(scn->script->steps)) {
		pr_err("scenario %s: a schedule's steps are 1 to %d letters: two threads run them all in %d steps at most\n",
		       scn->name, RACELAB_SCRIPT_STEPS, RACELAB_SCRIPT_MAX);
		return -EINVAL;
	}
	if (!scn->script != !racelab_knob_find(scn, "schedule")) {
		pr_err("scenario %s: gives .script and adds the schedule knob, or neither\n",
		       scn->name);
		return -EINVAL;
	}
	for (i = 0; i < scn->nr_modes; i++) {
		if (!scn->modes[i].step && !scn->step && !scn->write) {
			pr_err("scenario %s: mode %s has no step\n", scn->name,
			       scn->modes[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Apply the module parameters to one scenario's knobs. Each is checked as
 * a value; a scenario that cannot run with the whole set refuses to
 * start, and run= then fails the load. Mode and the knobs a scenario
 * adds are for the run= scenario only.
 */
static int racelab_apply_params(struct racelab_slot *slot, bool is_run)
{
	const struct racelab_scenario *scn = slot->scn;
	const struct racelab_knob *k;
	unsigned int i;
	int err;

	racelab_cfg_default(&slot->cfg);
	for (i = 0; (k = racelab_knob_at(scn, i)); i++) {
		const struct kernel_param *kp = racelab_param_of(k->name);
		const struct racelab_param *p;

		if (!kp) {
			pr_err("knob %s has no module parameter\n", k->name);
			return -EINVAL;
		}
		p = kp->arg;
		if (!p->set || (!is_run && !racelab_param_is_default(k->name)))
			continue;
		err = racelab_knob_parse(scn, &slot->cfg, k->name, p->val);
		if (err) {
			pr_err("%s=%s: not a value of %s for %s (%s)\n", k->name,
			       p->val, k->name, scn->name, k->about);
			return err;
		}
	}
	/* A knob the run= scenario does not have is an error, not a no-op. */
	for (i = 0; is_run && i < THIS_MODULE->num_kp; i++) {
		const struct kernel_param *kp = &THIS_MODULE->kp[i];
		const struct racelab_param *p = kp->arg;

		if (kp->ops == &racelab_param_ops && p->set &&
		    kp->arg != &racelab_param_run &&
		    kp->arg != &racelab_param_autorun &&
		    !racelab_knob_find(scn, kp->name)) {
			pr_err("%s=: %s has no such knob\n", kp->name, scn->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int __init racelab_init(void)
{
	struct racelab_slot *run_slot = NULL;
	const struct racelab_param *run;
	unsigned int i;
	int err;

	err = racelab_register_all();
	if (err)
		return err;
	/* Refuse bad parameters before anything is created. */
	if (racelab_param_run.set && racelab_param_autorun.set) {
		pr_err("run= and autorun= are one parameter (autorun= is its older name): give one\n");
		return -EINVAL;
	}
	run = racelab_param_run.set ? &racelab_param_run :
	      racelab_param_autorun.set ? &racelab_param_autorun : NULL;
	for (i = 0; run && i < racelab_nr_scenarios; i++)
		if (!strcmp(racelab_scenarios[i]->name, run->val))
			run_slot = &racelab_slots[i];
	if (run && !run_slot) {
		pr_err("run=%s: no such scenario\n", run->val);
		return -EINVAL;
	}
	for (i = 0; !run && i < THIS_MODULE->num_kp; i++) {
		const struct kernel_param *kp = &THIS_MODULE->kp[i];
		const struct racelab_param *p = kp->arg;

		if (kp->ops == &racelab_param_ops && p->set &&
		    !racelab_param_is_default(kp->name)) {
			pr_err("%s= needs run=<scenario>\n", kp->name);
			return -EINVAL;
		}
	}

	for (i = 0; i < racelab_nr_scenarios; i++) {
		struct racelab_slot *slot = &racelab_slots[i];

		err = racelab_scn_check(racelab_scenarios[i]);
		if (err)
			return err;
		slot->scn = racelab_scenarios[i];
		mutex_init(&slot->lock);
		INIT_WORK(&slot->work, racelab_run_work);
		err = racelab_apply_params(slot, slot == run_slot);
		if (err)
			return err;
	}

	err = racelab_debugfs_init(racelab_slots, racelab_nr_scenarios);
	if (err)
		return err;
	if (run_slot) {
		err = racelab_start_async(run_slot);
		if (err) {
			pr_err("run=%s: the scenario refuses its configuration (%d)\n",
			       run->val, err);
			racelab_debugfs_exit();
			return err;
		}
	}
	pr_info("loaded: %u scenario(s), /sys/kernel/debug/racelab, /proc/racelab\n",
		racelab_nr_scenarios);
	return 0;
}

static void __exit racelab_exit(void)
{
	unsigned int i;

	/* Stop runs, remove the files, wait for RCU callbacks, free. */
	racelab_debugfs_exit();
	rcu_barrier();
	for (i = 0; i < racelab_nr_scenarios; i++)
		mutex_destroy(&racelab_slots[i].lock);
	pr_info("unloaded\n");
}

module_init(racelab_init);
module_exit(racelab_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("racelab developers");
MODULE_DESCRIPTION("Kernel race conditions on demand, with their fixes and verdicts");

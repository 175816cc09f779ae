// SPDX-License-Identifier: GPL-2.0
/*
 * racelab - kernel race conditions on demand, and their fixes.
 *
 * Module glue: the scenario table, module parameters (defaults for every
 * scenario, and an optional run at load time), init and exit.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "racelab_core.h"

static const struct racelab_scenario *const racelab_scenarios[] = {
#define RACELAB_SCENARIO(id) &racelab_##id##_scenario,
#include "scenarios/list.h"
#undef RACELAB_SCENARIO
};

static struct racelab_slot racelab_slots[ARRAY_SIZE(racelab_scenarios)];

static unsigned int threads = 2;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "Default number of racing kthreads (1-64)");

static ulong iterations;
module_param(iterations, ulong, 0444);
MODULE_PARM_DESC(iterations, "Default cap on the iterations of each thread (0: none)");

static unsigned int duration_ms = RACELAB_DEFAULT_DURATION_MS;
module_param(duration_ms, uint, 0444);
MODULE_PARM_DESC(duration_ms, "Default length of a run in ms (1-600000)");

static char *amplifier = "auto";
module_param(amplifier, charp, 0444);
MODULE_PARM_DESC(amplifier, "Default race window amplifier: auto, none, delay:<ns>, sleep[:<us>]");

static char *autorun;
module_param(autorun, charp, 0444);
MODULE_PARM_DESC(autorun, "Scenario to run once at load time (the verdict goes to the kernel log)");

static char *mode;
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "Mode of the autorun scenario");

/**
 * racelab_slot_find() - the slot of a scenario
 * @name: scenario name
 *
 * Return: the slot, or NULL if there is no such scenario.
 */
struct racelab_slot *racelab_slot_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(racelab_slots); i++)
		if (!strcmp(racelab_slots[i].scn->name, name))
			return &racelab_slots[i];
	return NULL;
}
EXPORT_SYMBOL_GPL(racelab_slot_find);

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
 * a value; a scenario that cannot run with the whole set (ordering wants
 * exactly two threads) refuses to start, and autorun then fails the load.
 */
static int racelab_apply_params(struct racelab_slot *slot)
{
	const struct racelab_scenario *scn = slot->scn;
	struct racelab_cfg *cfg = &slot->cfg;
	char buf[24];
	int err;

	racelab_cfg_default(cfg);
	snprintf(buf, sizeof(buf), "%u", threads);
	err = racelab_knob_parse(scn, cfg, "threads", buf);
	if (err) {
		pr_err("threads=%u: must be 1-%d\n", threads,
		       RACELAB_MAX_THREADS);
		return err;
	}
	snprintf(buf, sizeof(buf), "%lu", iterations);
	err = racelab_knob_parse(scn, cfg, "iterations", buf);
	if (err) {
		pr_err("iterations=%lu: must be 0-%lu\n", iterations,
		       RACELAB_MAX_ITERATIONS);
		return err;
	}
	snprintf(buf, sizeof(buf), "%u", duration_ms);
	err = racelab_knob_parse(scn, cfg, "duration_ms", buf);
	if (err) {
		pr_err("duration_ms=%u: must be 1-%u\n", duration_ms,
		       RACELAB_MAX_DURATION_MS);
		return err;
	}
	err = racelab_knob_parse(scn, cfg, "amplifier", amplifier);
	if (err) {
		pr_err("amplifier=%s: want auto, none, delay:1-%u or sleep[:1-%u]\n",
		       amplifier, RACELAB_MAX_DELAY_NS, RACELAB_MAX_SLEEP_US);
		return err;
	}
	if (autorun && mode && !strcmp(autorun, scn->name)) {
		err = racelab_knob_parse(scn, cfg, "mode", mode);
		if (err) {
			pr_err("mode=%s: not a mode of %s\n", mode, scn->name);
			return err;
		}
	}
	return 0;
}

static int __init racelab_init(void)
{
	struct racelab_slot *run_slot = NULL;
	unsigned int i;
	int err;

	/* Refuse bad parameters before anything is created. */
	if (autorun) {
		for (i = 0; i < ARRAY_SIZE(racelab_scenarios); i++)
			if (!strcmp(racelab_scenarios[i]->name, autorun))
				run_slot = &racelab_slots[i];
		if (!run_slot) {
			pr_err("autorun=%s: no such scenario\n", autorun);
			return -EINVAL;
		}
	} else if (mode) {
		pr_err("mode= needs autorun=<scenario>\n");
		return -EINVAL;
	}

	for (i = 0; i < ARRAY_SIZE(racelab_slots); i++) {
		struct racelab_slot *slot = &racelab_slots[i];

		err = racelab_scn_check(racelab_scenarios[i]);
		if (err)
			return err;
		slot->scn = racelab_scenarios[i];
		mutex_init(&slot->lock);
		INIT_WORK(&slot->work, racelab_run_work);
		err = racelab_apply_params(slot);
		if (err)
			return err;
	}

	err = racelab_debugfs_init(racelab_slots, ARRAY_SIZE(racelab_slots));
	if (err)
		return err;
	if (run_slot) {
		err = racelab_start_async(run_slot);
		if (err) {
			pr_err("autorun=%s: the scenario refuses its configuration (%d)\n",
			       autorun, err);
			racelab_debugfs_exit();
			return err;
		}
	}
	pr_info("loaded: %zu scenario(s), /sys/kernel/debug/racelab, /proc/racelab\n",
		ARRAY_SIZE(racelab_slots));
	return 0;
}

static void __exit racelab_exit(void)
{
	unsigned int i;

	/* Stop runs, remove the files, wait for RCU callbacks, free. */
	racelab_debugfs_exit();
	rcu_barrier();
	for (i = 0; i < ARRAY_SIZE(racelab_slots); i++)
		mutex_destroy(&racelab_slots[i].lock);
	pr_info("unloaded\n");
}

module_init(racelab_init);
module_exit(racelab_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("racelab developers");
MODULE_DESCRIPTION("Kernel race conditions on demand, with their fixes and verdicts");

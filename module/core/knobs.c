// SPDX-License-Identifier: GPL-2.0
/*
 * racelab knobs: parsing, validation and display of a scenario's
 * configuration. Pure functions on a struct racelab_cfg, shared by debugfs,
 * the module parameters and the KUnit tests: a value is parsed into a copy,
 * the whole copy is validated, and only then does the caller commit it.
 */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "racelab_core.h"

/**
 * racelab_cfg_default() - the configuration a scenario starts with
 * @cfg: filled in
 *
 * A run is sized by time, so that its threads overlap for as long on a
 * fast host as on a slow one: duration_ms, with no iteration cap.
 */
void racelab_cfg_default(struct racelab_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = 0;
	cfg->threads = 2;
	cfg->iterations = 0;
	cfg->duration_ms = RACELAB_DEFAULT_DURATION_MS;
	cfg->amp = RACELAB_AMP_AUTO;
	cfg->pinned = false;
	cpumask_clear(&cfg->cpus);
}
EXPORT_SYMBOL_GPL(racelab_cfg_default);

static int racelab_parse_uint(const char *val, unsigned int min,
			      unsigned int max, unsigned int *out)
{
	unsigned int v;

	if (kstrtouint(val, 10, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int racelab_parse_amp(const char *val, struct racelab_cfg *cfg)
{
	static const struct {
		const char *name;
		enum racelab_amp amp;
		unsigned int arg;
	} plain[] = {
		{ "auto", RACELAB_AMP_AUTO, 0 },
		{ "none", RACELAB_AMP_NONE, 0 },
		{ "sleep", RACELAB_AMP_SLEEP, 1 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(plain); i++) {
		if (!strcmp(val, plain[i].name)) {
			cfg->amp = plain[i].amp;
			cfg->amp_arg = plain[i].arg;
			return 0;
		}
	}
	if (!strncmp(val, "delay:", 6)) {
		if (racelab_parse_uint(val + 6, 1, RACELAB_MAX_DELAY_NS,
				       &cfg->amp_arg))
			return -EINVAL;
		cfg->amp = RACELAB_AMP_DELAY;
		return 0;
	}
	if (!strncmp(val, "sleep:", 6)) {
		if (racelab_parse_uint(val + 6, 1, RACELAB_MAX_SLEEP_US,
				       &cfg->amp_arg))
			return -EINVAL;
		cfg->amp = RACELAB_AMP_SLEEP;
		return 0;
	}
	return -EINVAL;
}

static int racelab_parse_cpus(const char *val, struct racelab_cfg *cfg)
{
	if (!strcmp(val, "any")) {
		cfg->pinned = false;
		cpumask_clear(&cfg->cpus);
		return 0;
	}
	/* cpulist_parse() takes "" as the empty set: refuse it. */
	if (!*val || cpulist_parse(val, &cfg->cpus) ||
	    cpumask_empty(&cfg->cpus) ||
	    !cpumask_subset(&cfg->cpus, cpu_online_mask))
		return -EINVAL;
	cfg->pinned = true;
	return 0;
}

/*
 * The rules of a whole configuration, like lib/test_lockup.c refusing to
 * sleep in atomic context. They are checked when a run starts, never when
 * one knob is written, so the order of the writes does not matter.
 */
static int racelab_cfg_check(const struct racelab_scenario *scn,
			     const struct racelab_cfg *cfg, const char **why)
{
	const struct racelab_mode *mode;
	enum racelab_amp amp;
	unsigned int arg;

	*why = "a knob is out of range";
	if (cfg->mode >= scn->nr_modes)
		return -EINVAL;
	mode = &scn->modes[cfg->mode];
	if (!cfg->threads || cfg->threads > RACELAB_MAX_THREADS ||
	    cfg->iterations > RACELAB_MAX_ITERATIONS || !cfg->duration_ms ||
	    cfg->duration_ms > RACELAB_MAX_DURATION_MS)
		return -EINVAL;
	if (scn->write && cfg->threads < 2) {
		*why = "a reader/writer scenario needs 2 threads or more: a writer and a reader";
		return -EINVAL;
	}
	amp = racelab_mode_amp(mode, cfg, &arg);
	if (amp == RACELAB_AMP_SLEEP &&
	    (mode->flags & RACELAB_MODE_ATOMIC_WINDOW)) {
		*why = "a sleeping amplifier in a mode whose window is atomic";
		return -EINVAL;
	}
	if (amp == RACELAB_AMP_SLEEP &&
	    (mode->flags & RACELAB_MODE_SERIAL_WINDOW) &&
	    cfg->threads * arg > RACELAB_MAX_SERIAL_SLEEP_US) {
		*why = "threads x sleep under one lock above 50 ms: a stop would wait for them all";
		return -EINVAL;
	}
	if (cfg->pinned && (cpumask_empty(&cfg->cpus) ||
			    !cpumask_subset(&cfg->cpus, cpu_online_mask))) {
		*why = "a pinned CPU is offline";
		return -EINVAL;
	}
	return 0;
}

/**
 * racelab_cfg_validate() - check a whole configuration before a run
 * @scn: the scenario it is for
 * @cfg: the configuration
 * @why: set to the reason of a refusal
 *
 * Return: 0, or -EINVAL if the generic rules or the scenario refuse it.
 */
int racelab_cfg_validate(const struct racelab_scenario *scn,
			 const struct racelab_cfg *cfg, const char **why)
{
	int err = racelab_cfg_check(scn, cfg, why);

	if (!err && scn->validate)
		err = scn->validate(cfg, why);
	return err;
}
EXPORT_SYMBOL_GPL(racelab_cfg_validate);

/**
 * racelab_knob_parse() - parse one knob value into a configuration
 * @scn:  the scenario
 * @cfg:  the configuration; left unchanged on error
 * @knob: knob name: mode, threads, iterations, duration_ms, amplifier, cpus,
 *        schedule (scenarios that replay schedules)
 * @val:  the value, without trailing white space
 *
 * Only the value itself is checked. Rules that span knobs are checked by
 * racelab_cfg_validate() when a run starts.
 *
 * Return: 0, or -EINVAL for an unknown knob or a bad value.
 */
int racelab_knob_parse(const struct racelab_scenario *scn,
		       struct racelab_cfg *cfg, const char *knob,
		       const char *val)
{
	struct racelab_cfg *tmp;
	unsigned int i;
	int err = -EINVAL;

	if (strnlen(val, RACELAB_KNOB_MAX) >= RACELAB_KNOB_MAX)
		return -EINVAL;
	tmp = kmemdup(cfg, sizeof(*cfg), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;

	if (!strcmp(knob, "mode")) {
		for (i = 0; i < scn->nr_modes; i++) {
			if (!strcmp(val, scn->modes[i].name)) {
				tmp->mode = i;
				err = 0;
				break;
			}
		}
	} else if (!strcmp(knob, "threads")) {
		err = racelab_parse_uint(val, 1, RACELAB_MAX_THREADS,
					 &tmp->threads);
	} else if (!strcmp(knob, "iterations")) {
		unsigned long v;

		if (!kstrtoul(val, 10, &v) && v <= RACELAB_MAX_ITERATIONS) {
			tmp->iterations = v;
			err = 0;
		}
	} else if (!strcmp(knob, "duration_ms")) {
		err = racelab_parse_uint(val, 1, RACELAB_MAX_DURATION_MS,
					 &tmp->duration_ms);
	} else if (!strcmp(knob, "amplifier")) {
		err = racelab_parse_amp(val, tmp);
	} else if (!strcmp(knob, "cpus")) {
		err = racelab_parse_cpus(val, tmp);
	} else if (!strcmp(knob, "schedule") && scn->script) {
		if (!strcmp(val, "none")) {
			memset(&tmp->script, 0, sizeof(tmp->script));
			err = 0;
		} else {
			err = racelab_script_parse(scn->script, val,
						   &tmp->script);
		}
	}

	if (!err)
		*cfg = *tmp;
	kfree(tmp);
	return err;
}
EXPORT_SYMBOL_GPL(racelab_knob_parse);

/**
 * racelab_cfg_show() - format one knob of a configuration
 * @scn:  the scenario
 * @cfg:  the configuration
 * @knob: knob name
 * @buf:  output, NUL-terminated, no newline
 * @len:  size of @buf
 *
 * The mode knob lists every mode, the current one in brackets, like
 * /sys/block/<dev>/queue/scheduler.
 *
 * Return: characters written, or -EINVAL for an unknown knob.
 */
int racelab_cfg_show(const struct racelab_scenario *scn,
		     const struct racelab_cfg *cfg, const char *knob,
		     char *buf, size_t len)
{
	unsigned int i;
	int n = 0;

	buf[0] = '\0';
	if (!strcmp(knob, "mode")) {
		for (i = 0; i < scn->nr_modes; i++)
			n += scnprintf(buf + n, len - n,
				       i == cfg->mode ? "%s[%s]" : "%s%s",
				       i ? " " : "", scn->modes[i].name);
		return n;
	}
	if (!strcmp(knob, "threads"))
		return scnprintf(buf, len, "%u", cfg->threads);
	if (!strcmp(knob, "iterations"))
		return scnprintf(buf, len, "%lu", cfg->iterations);
	if (!strcmp(knob, "duration_ms"))
		return scnprintf(buf, len, "%u", cfg->duration_ms);
	if (!strcmp(knob, "amplifier")) {
		switch (cfg->amp) {
		case RACELAB_AMP_AUTO:
			return scnprintf(buf, len, "auto");
		case RACELAB_AMP_DELAY:
			return scnprintf(buf, len, "delay:%u", cfg->amp_arg);
		case RACELAB_AMP_SLEEP:
			return scnprintf(buf, len, "sleep:%u", cfg->amp_arg);
		case RACELAB_AMP_NONE:
			break;
		}
		return scnprintf(buf, len, "none");
	}
	if (!strcmp(knob, "schedule") && scn->script)
		return racelab_script_show(&cfg->script, buf, len, ' ');
	if (!strcmp(knob, "cpus")) {
		if (!cfg->pinned)
			return scnprintf(buf, len, "any");
		return scnprintf(buf, len, "%*pbl", cpumask_pr_args(&cfg->cpus));
	}
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(racelab_cfg_show);

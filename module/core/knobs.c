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
	if (cfg->threads < mode->min_threads) {
		*why = "threads below the mode's min_threads (see the plan)";
		return -EINVAL;
	}
	if (cfg->threads < racelab_min_threads(scn) ||
	    cfg->threads > racelab_max_threads(scn)) {
		*why = "threads outside the scenario's min_threads..max_threads (see its plan)";
		return -EINVAL;
	}
	if (num_online_cpus() < racelab_min_cpus(scn) ||
	    (cfg->pinned && cpumask_weight(&cfg->cpus) < racelab_min_cpus(scn))) {
		*why = "fewer CPUs than the scenario's min_cpus (see its plan)";
		return -EINVAL;
	}
	amp = racelab_mode_amp(mode, cfg, &arg);
	if ((scn->flags & RACELAB_SCN_NO_AMP) && amp != RACELAB_AMP_NONE) {
		*why = "this scenario takes no amplifier: its window is fixed";
		return -EINVAL;
	}
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
 * racelab_mode_shows_here() - can this mode show its race on this kernel?
 * @mode: the mode
 * @why:  set to why not ("fixed", "x86-tso", "kcsan-barriers",
 *        "slub-rcu-debug"), or "-"
 *
 * Return: true for a racy or broken-fix mode that can show its race here.
 */
bool racelab_mode_shows_here(const struct racelab_mode *mode, const char **why)
{
	*why = "-";
	if (mode->kind == RACELAB_FIXED) {
		*why = "fixed";
		return false;
	}
	if ((mode->hidden & RACELAB_HIDDEN_TSO) && IS_ENABLED(CONFIG_X86)) {
		*why = "x86-tso";
		return false;
	}
	if ((mode->hidden & RACELAB_HIDDEN_KCSAN) && IS_ENABLED(CONFIG_KCSAN)) {
		*why = "kcsan-barriers";
		return false;
	}
	if ((mode->hidden & RACELAB_HIDDEN_SLUB_RCU_DEBUG) &&
	    IS_ENABLED(CONFIG_SLUB_RCU_DEBUG)) {
		*why = "slub-rcu-debug";
		return false;
	}
	return true;
}
EXPORT_SYMBOL_GPL(racelab_mode_shows_here);

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

/* The knobs, one entry each, in the style of struct kernel_param_ops. */

static int racelab_mode_parse(const struct racelab_scenario *scn,
			      struct racelab_cfg *cfg, const char *val)
{
	unsigned int i;

	for (i = 0; i < scn->nr_modes; i++) {
		if (!strcmp(val, scn->modes[i].name)) {
			cfg->mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Every mode, the current one in brackets, like queue/scheduler. */
static int racelab_mode_show(const struct racelab_scenario *scn,
			     const struct racelab_cfg *cfg, char *buf,
			     size_t len)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < scn->nr_modes; i++)
		n += scnprintf(buf + n, len - n,
			       i == cfg->mode ? "%s[%s]" : "%s%s",
			       i ? " " : "", scn->modes[i].name);
	return n;
}

static int racelab_threads_parse(const struct racelab_scenario *scn,
				 struct racelab_cfg *cfg, const char *val)
{
	return racelab_parse_uint(val, 1, RACELAB_MAX_THREADS, &cfg->threads);
}

static int racelab_threads_show(const struct racelab_scenario *scn,
				const struct racelab_cfg *cfg, char *buf,
				size_t len)
{
	return scnprintf(buf, len, "%u", cfg->threads);
}

static int racelab_iterations_parse(const struct racelab_scenario *scn,
				    struct racelab_cfg *cfg, const char *val)
{
	unsigned long v;

	if (kstrtoul(val, 10, &v) || v > RACELAB_MAX_ITERATIONS)
		return -EINVAL;
	cfg->iterations = v;
	return 0;
}

static int racelab_iterations_show(const struct racelab_scenario *scn,
				   const struct racelab_cfg *cfg, char *buf,
				   size_t len)
{
	return scnprintf(buf, len, "%lu", cfg->iterations);
}

static int racelab_duration_ms_parse(const struct racelab_scenario *scn,
				     struct racelab_cfg *cfg, const char *val)
{
	return racelab_parse_uint(val, 1, RACELAB_MAX_DURATION_MS,
				  &cfg->duration_ms);
}

static int racelab_duration_ms_show(const struct racelab_scenario *scn,
				    const struct racelab_cfg *cfg, char *buf,
				    size_t len)
{
	return scnprintf(buf, len, "%u", cfg->duration_ms);
}

static int racelab_amplifier_parse(const struct racelab_scenario *scn,
				   struct racelab_cfg *cfg, const char *val)
{
	return racelab_parse_amp(val, cfg);
}

/**
 * racelab_amp_name() - an amplifier as the amplifier knob writes it
 * @amp: the amplifier
 * @arg: its argument
 * @buf: output, NUL-terminated
 * @len: size of @buf
 *
 * Return: characters written.
 */
int racelab_amp_name(enum racelab_amp amp, unsigned int arg, char *buf,
		     size_t len)
{
	switch (amp) {
	case RACELAB_AMP_AUTO:
		return scnprintf(buf, len, "auto");
	case RACELAB_AMP_DELAY:
		return scnprintf(buf, len, "delay:%u", arg);
	case RACELAB_AMP_SLEEP:
		return scnprintf(buf, len, "sleep:%u", arg);
	case RACELAB_AMP_NONE:
		break;
	}
	return scnprintf(buf, len, "none");
}

static int racelab_amplifier_show(const struct racelab_scenario *scn,
				  const struct racelab_cfg *cfg, char *buf,
				  size_t len)
{
	return racelab_amp_name(cfg->amp, cfg->amp_arg, buf, len);
}

static int racelab_cpus_parse(const struct racelab_scenario *scn,
			      struct racelab_cfg *cfg, const char *val)
{
	return racelab_parse_cpus(val, cfg);
}

static int racelab_cpus_show(const struct racelab_scenario *scn,
			     const struct racelab_cfg *cfg, char *buf,
			     size_t len)
{
	if (!cfg->pinned)
		return scnprintf(buf, len, "any");
	return scnprintf(buf, len, "%*pbl", cpumask_pr_args(&cfg->cpus));
}

static int racelab_schedule_parse(const struct racelab_scenario *scn,
				  struct racelab_cfg *cfg, const char *val)
{
	if (!scn->script)
		return -EINVAL;
	if (!strcmp(val, "none")) {
		memset(&cfg->script, 0, sizeof(cfg->script));
		return 0;
	}
	return racelab_script_parse(scn->script, val, &cfg->script);
}

static int racelab_schedule_show(const struct racelab_scenario *scn,
				 const struct racelab_cfg *cfg, char *buf,
				 size_t len)
{
	return racelab_script_show(&cfg->script, buf, len, ' ');
}

#define RACELAB_KNOB(_name, _about)					\
	{								\
		.name = #_name, .about = _about,			\
		.parse = racelab_##_name##_parse,			\
		.show = racelab_##_name##_show,				\
	}

/* The knobs of every scenario, in the order stats shows them. */
static const struct racelab_knob racelab_knobs[] = {
	RACELAB_KNOB(mode, "the mode to run: a name from the list"),
	RACELAB_KNOB(threads, "racing kthreads, 1-64"),
	RACELAB_KNOB(iterations, "cap on each thread's iterations, 0: none"),
	RACELAB_KNOB(duration_ms, "length of a run in ms, 1-600000"),
	RACELAB_KNOB(amplifier, "race window: auto, none, delay:<ns>, sleep[:<us>]"),
	RACELAB_KNOB(cpus, "CPUs to pin thread i to, round robin, or any"),
};

/* racelab_knob_at() gives these first, for every scenario. */
const unsigned int racelab_nr_common_knobs = ARRAY_SIZE(racelab_knobs);

/* A knob a scenario adds: a schedule to replay (it gives .script). */
const struct racelab_knob racelab_knob_schedule =
	RACELAB_KNOB(schedule, "a schedule to replay, thread.step,...; none: a free run");

/**
 * racelab_knob_at() - the @i-th knob of a scenario
 * @scn: the scenario
 * @i:   0, 1, ...: the knobs of every scenario, then those it adds
 *
 * Return: the knob, or NULL past the last one.
 */
const struct racelab_knob *racelab_knob_at(const struct racelab_scenario *scn,
					   unsigned int i)
{
	unsigned int k;

	if (i < ARRAY_SIZE(racelab_knobs))
		return &racelab_knobs[i];
	i -= ARRAY_SIZE(racelab_knobs);
	for (k = 0; scn->knobs && scn->knobs[k]; k++)
		if (k == i)
			return scn->knobs[k];
	return NULL;
}
EXPORT_SYMBOL_GPL(racelab_knob_at);

/**
 * racelab_knob_find() - a scenario's knob by name
 * @scn:  the scenario
 * @name: the knob's name
 *
 * Return: the knob, or NULL if the scenario has no such knob.
 */
const struct racelab_knob *racelab_knob_find(const struct racelab_scenario *scn,
					     const char *name)
{
	const struct racelab_knob *k;
	unsigned int i;

	for (i = 0; (k = racelab_knob_at(scn, i)); i++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}
EXPORT_SYMBOL_GPL(racelab_knob_find);

/**
 * racelab_knob_parse() - parse one knob value into a configuration
 * @scn:  the scenario
 * @cfg:  the configuration; left unchanged on error
 * @knob: knob name, one of racelab_knob_at()'s
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
	const struct racelab_knob *k = racelab_knob_find(scn, knob);
	struct racelab_cfg *tmp;
	int err;

	if (!k || strnlen(val, RACELAB_KNOB_MAX) >= RACELAB_KNOB_MAX)
		return -EINVAL;
	tmp = kmemdup(cfg, sizeof(*cfg), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	err = k->parse(scn, tmp, val);
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
 * Return: characters written, or -EINVAL for an unknown knob.
 */
int racelab_cfg_show(const struct racelab_scenario *scn,
		     const struct racelab_cfg *cfg, const char *knob,
		     char *buf, size_t len)
{
	const struct racelab_knob *k = racelab_knob_find(scn, knob);

	buf[0] = '\0';
	return k ? k->show(scn, cfg, buf, len) : -EINVAL;
}
EXPORT_SYMBOL_GPL(racelab_cfg_show);

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of racelab, in four suites. None of them knows a scenario by
 * name: every case is generated from what the scenarios declare (their
 * modes, plans, bounds, schedules and detector expectations), so a new
 * scenario is tested as soon as its line is in module/scenarios/list.h.
 *
 *   racelab_knobs      knob values, the rules checked at start, and what
 *                      the core promises of every run
 *   racelab_races      every mode under every plan of its scenario and
 *                      every thread count: fixed modes exact, racy modes
 *                      showing their race
 *   racelab_schedules  every interleaving of a scripted scenario, replayed,
 *                      against the scenario's model of its steps
 *   racelab_detectors  KCSAN must report, or must stay silent
 *
 * A race is a matter of chance: a racy case repeats the same run until the
 * anomaly appears or a deadline passes (the technique of
 * kernel/kcsan/kcsan_test.c), and reports how many attempts it took.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/stdarg.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "core/racelab_core.h"

/*
 * Deadline of a racy case. The slowest time-to-first-anomaly measured on
 * the lab kernels for a case that runs is 3 s (a broken fix, unamplified,
 * 1 CPU; README, "Figures"); the deadline is over ten times that. A plan
 * says on how few CPUs its racy modes are asked to race.
 */
#define RACY_DEADLINE_MS	60000

/*
 * A configuration built through the knobs themselves, from NULL-terminated
 * knob/value pairs, and a result to go with it.
 */
static struct racelab_cfg *test_cfg(struct kunit *test,
				    const struct racelab_slot *slot, ...)
{
	struct racelab_cfg *cfg;
	const char *knob;
	va_list ap;

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	racelab_cfg_default(cfg);
	va_start(ap, slot);
	while ((knob = va_arg(ap, const char *))) {
		const char *val = va_arg(ap, const char *);

		KUNIT_ASSERT_EQ_MSG(test, racelab_knob_parse(slot->scn, cfg, knob,
							     val), 0,
				    "%s: %s=%s", slot->scn->name, knob, val);
	}
	va_end(ap);
	return cfg;
}

static struct racelab_result *test_result(struct kunit *test)
{
	struct racelab_result *res = kunit_kzalloc(test, sizeof(*res),
						   GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, res);
	return res;
}

/*
 * Run a fixed mode until its sample suffices. A clean verdict resting on
 * fewer samples than the scenario asks for is "inconclusive": a slow or
 * oversubscribed host ran too few iterations, which says nothing about the
 * fix. The run then doubles in length, up to 8 times its first length, as
 * a statistical test runs until it has its evidence. An anomaly is never
 * retried: it makes the verdict "race" at once.
 */
static void run_conclusive(struct kunit *test, struct racelab_slot *slot,
			   struct racelab_cfg *cfg, struct racelab_result *res)
{
	unsigned int max_ms = 8 * cfg->duration_ms;

	for (;;) {
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		if (!res->inconclusive || res->anomalies ||
		    2 * cfg->duration_ms > max_ms)
			return;
		kunit_info(test, "too few samples in %u ms, again for %u ms: %s\n",
			   cfg->duration_ms, 2 * cfg->duration_ms, res->line);
		cfg->duration_ms *= 2;
	}
}

/* A mode the tests may run freely: not a one-boot detector experiment. */
static bool mode_runs_free(const struct racelab_mode *mode)
{
	return !(mode->flags & RACELAB_MODE_EXPERIMENT);
}

/* The first fixed mode of @scn the tests may run freely, or NULL. */
static const struct racelab_mode *first_fixed(const struct racelab_scenario *scn)
{
	unsigned int m;

	for (m = 0; m < scn->nr_modes; m++)
		if (scn->modes[m].kind == RACELAB_FIXED &&
		    mode_runs_free(&scn->modes[m]))
			return &scn->modes[m];
	return NULL;
}

/* Threads for a scenario: @want, within what it declares. */
static unsigned int scn_threads(const struct racelab_scenario *scn,
				unsigned int want)
{
	return clamp(want, racelab_min_threads(scn), racelab_max_threads(scn));
}

/* A number as a knob value, freed with the test. */
static const char *uint_str(struct kunit *test, unsigned long v)
{
	char *buf = kunit_kzalloc(test, 24, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	snprintf(buf, 24, "%lu", v);
	return buf;
}

/* Does verdict line @line hold the key=value pair @pair (@len bytes)? */
static bool line_has_pair(const char *line, const char *pair, size_t len)
{
	const char *p;

	for (p = strstr(line, " "); p; p = strstr(p + 1, " "))
		if (!strncmp(p + 1, pair, len) &&
		    (p[1 + len] == ' ' || p[1 + len] == '\0'))
			return true;
	return false;
}

/* The window a plan gives a mode: its amplifier as the mode resolves it. */
struct plan_window {
	enum racelab_amp amp;
	unsigned int arg;
	unsigned int ms;
};

static bool plan_window(const struct racelab_scenario *scn,
			const struct racelab_plan *plan,
			const struct racelab_mode *mode, struct plan_window *w)
{
	struct racelab_cfg *cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	bool ok;

	if (!cfg)
		return false;
	racelab_cfg_default(cfg);
	ok = !racelab_knob_parse(scn, cfg, "amplifier", plan->amplifier);
	if (ok) {
		w->amp = racelab_mode_amp(mode, cfg, &w->arg);
		if (w->amp == RACELAB_AMP_NONE)
			w->arg = 0;
		w->ms = plan->duration_ms ?: RACELAB_PLAN_MS;
	}
	kfree(cfg);
	return ok;
}

static bool window_eq(const struct plan_window *a, const struct plan_window *b)
{
	return a->amp == b->amp && a->arg == b->arg && a->ms == b->ms;
}

/* ---------------------------------------------------------------- knobs */

struct knob_case {
	const char *knob;
	const char *val;
	int err;
	const char *shown;	/* what the knob shows afterwards, if accepted */
};

/* The knobs every scenario has; mode is tested per scenario below. */
static const struct knob_case knob_cases[] = {
	{ "threads", "1", 0, "1" },
	{ "threads", "64", 0, "64" },
	{ "threads", "0", -EINVAL },
	{ "threads", "65", -EINVAL },
	{ "threads", "-1", -EINVAL },
	{ "threads", "2x", -EINVAL },
	{ "threads", "99999999999999999999", -EINVAL },
	{ "iterations", "1", 0, "1" },
	{ "iterations", "1000000000", 0, "1000000000" },
	{ "iterations", "0", 0, "0" },
	{ "iterations", "1000000001", -EINVAL },
	{ "iterations", "lots", -EINVAL },
	{ "duration_ms", "0", -EINVAL },
	{ "duration_ms", "1", 0, "1" },
	{ "duration_ms", "600000", 0, "600000" },
	{ "duration_ms", "600001", -EINVAL },
	{ "amplifier", "none", 0, "none" },
	{ "amplifier", "auto", 0, "auto" },
	{ "amplifier", "auto:5", -EINVAL },
	{ "amplifier", "delay:500", 0, "delay:500" },
	{ "amplifier", "sleep", 0, "sleep:1" },
	{ "amplifier", "sleep:20", 0, "sleep:20" },
	{ "amplifier", "delay:0", -EINVAL },
	{ "amplifier", "delay:100001", -EINVAL },
	{ "amplifier", "delay:", -EINVAL },
	{ "amplifier", "delay", -EINVAL },
	{ "amplifier", "sleep:0", -EINVAL },
	{ "amplifier", "nap:5", -EINVAL },
	{ "cpus", "any", 0, "any" },
	{ "cpus", "0", 0, "0" },
	{ "cpus", "", -EINVAL },
	{ "cpus", "garbage", -EINVAL },
	{ "cpus", "100000", -EINVAL },
	{ "nosuchknob", "1", -EINVAL },
	{ "threads", "1234567890123456789012345678901234567890123456789012345678901234567",
	  -EINVAL },
};

static void knob_case_desc(const struct knob_case *k, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s=\"%.20s\"", k->knob, k->val);
}

KUNIT_ARRAY_PARAM(knob, knob_cases, knob_case_desc);

/*
 * Each value is accepted and shown back, or refused leaving all unchanged,
 * in every scenario.
 */
static void knob_parse(struct kunit *test)
{
	const struct knob_case *k = test->param_value;
	struct racelab_slot *slot;
	unsigned int i;
	char buf[128];
	int err;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
		struct racelab_cfg *before = test_cfg(test, slot, NULL);

		err = racelab_knob_parse(slot->scn, cfg, k->knob, k->val);
		KUNIT_EXPECT_EQ_MSG(test, err, k->err, "%s", slot->scn->name);
		if (err) {
			KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
			continue;
		}
		KUNIT_ASSERT_GE(test, racelab_cfg_show(slot->scn, cfg, k->knob,
						       buf, sizeof(buf)), 0);
		KUNIT_EXPECT_TRUE_MSG(test, strstr(buf, k->shown) == buf,
				      "%s: shows \"%s\", want \"%s...\"",
				      slot->scn->name, buf, k->shown);
	}
}

/* Every mode is accepted by name and shown in brackets; nothing else is. */
static void mode_names(struct kunit *test)
{
	static const char *const bad[] = { "nosuchmode", "", " " };
	struct racelab_slot *slot;
	unsigned int i, m, b;
	char buf[256], want[48];

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;
		struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
		struct racelab_cfg *before = test_cfg(test, slot, NULL);

		for (m = 0; m < scn->nr_modes; m++) {
			KUNIT_EXPECT_EQ(test, racelab_knob_parse(scn, cfg, "mode",
								 scn->modes[m].name), 0);
			KUNIT_EXPECT_EQ(test, cfg->mode, m);
			racelab_cfg_show(scn, cfg, "mode", buf, sizeof(buf));
			snprintf(want, sizeof(want), "[%s]", scn->modes[m].name);
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(buf, want), "%s", buf);
		}
		*cfg = *before;
		for (b = 0; b < ARRAY_SIZE(bad); b++) {
			KUNIT_EXPECT_EQ(test, racelab_knob_parse(scn, cfg, "mode",
								 bad[b]), -EINVAL);
			KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
		}
	}
}

/* Would @mode of @slot's scenario run with @amp? */
static bool amp_accepted(struct kunit *test, struct racelab_slot *slot,
			 const struct racelab_mode *mode, const char *amp)
{
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", mode->name,
					   "amplifier", amp, NULL);
	const char *why;

	return !racelab_cfg_validate(slot->scn, cfg, &why);
}

/*
 * Rules that span knobs are checked on the whole configuration when a run
 * starts, so the order of the writes does not matter: each knob alone is
 * accepted, the combination is refused either way, and the run says so.
 * The combination: a sleeping amplifier in a mode whose window is atomic.
 */
static void rules_independent_of_order(struct kunit *test)
{
	const struct racelab_mode *atomic = NULL, *sleepy = NULL;
	struct racelab_slot *slot;
	struct racelab_result *res = test_result(test);
	unsigned int i, m, o, k;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		atomic = NULL;
		sleepy = NULL;
		for (m = 0; m < slot->scn->nr_modes; m++) {
			const struct racelab_mode *mode = &slot->scn->modes[m];

			if (!mode_runs_free(mode))
				continue;
			if (mode->flags & RACELAB_MODE_ATOMIC_WINDOW)
				atomic = atomic ?: mode;
			else if (amp_accepted(test, slot, mode, "sleep"))
				sleepy = sleepy ?: mode;
		}
		if (atomic && sleepy)
			break;
	}
	if (!slot)
		kunit_skip(test, "no scenario has an atomic and a sleeping window");
	for (o = 0; o < 2; o++) {
		struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
		const char *why;

		for (k = 0; k < 2; k++) {
			bool mode_first = (k == 0) == (o == 0);

			KUNIT_EXPECT_EQ(test, mode_first ?
					racelab_knob_parse(slot->scn, cfg, "mode",
							   atomic->name) :
					racelab_knob_parse(slot->scn, cfg,
							   "amplifier", "sleep"),
					0);
		}
		KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg, &why),
				-EINVAL);
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
		KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
							 sleepy->name), 0);
		KUNIT_EXPECT_EQ_MSG(test, racelab_cfg_validate(slot->scn, cfg, &why),
				    0, "%s/%s: %s", slot->scn->name, sleepy->name,
				    why);
	}
}

/* A run of a bad configuration is refused before any thread starts. */
static void run_refuses_bad_cfg(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	struct racelab_cfg *cfg;
	unsigned int i;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		cfg = test_cfg(test, slot, NULL);
		cfg->threads = 0;
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
		racelab_cfg_default(cfg);
		cfg->mode = slot->scn->nr_modes;
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
		racelab_cfg_default(cfg);
		cfg->duration_ms = 0;
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
	}
}

/* Refused at start: the knob alone is fine, the whole is not. */
static void expect_refused(struct kunit *test, struct racelab_slot *slot,
			   struct racelab_cfg *cfg, const char *what)
{
	struct racelab_result *res = test_result(test);
	const char *why = NULL;

	KUNIT_EXPECT_EQ_MSG(test, racelab_cfg_validate(slot->scn, cfg, &why),
			    -EINVAL, "%s: %s", slot->scn->name, what);
	KUNIT_EXPECT_EQ_MSG(test, racelab_run_sync(slot, cfg, res), -EINVAL,
			    "%s: %s", slot->scn->name, what);
	if (why)
		kunit_info(test, "%s, %s: refused: %s\n", slot->scn->name, what,
			   why);
}

/*
 * Every bound a scenario or a mode declares is enforced at start: threads,
 * CPUs, amplifiers, and sleeping windows that would hold up a stop.
 */
static void declared_bounds(struct kunit *test)
{
	struct racelab_slot *slot;
	unsigned int i, m;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;
		unsigned int lo = racelab_min_threads(scn);
		unsigned int hi = racelab_max_threads(scn);

		if (hi < RACELAB_MAX_THREADS)
			expect_refused(test, slot, test_cfg(test, slot, "threads",
							    uint_str(test, hi + 1),
							    NULL), "threads above max");
		if (lo > 1)
			expect_refused(test, slot, test_cfg(test, slot, "threads",
							    uint_str(test, lo - 1),
							    NULL), "threads below min");
		if (scn->flags & RACELAB_SCN_NO_AMP)
			expect_refused(test, slot, test_cfg(test, slot, "amplifier",
							    "delay:100", NULL),
				       "an amplifier");
		if (racelab_min_cpus(scn) > 1)
			expect_refused(test, slot, test_cfg(test, slot, "cpus",
							    "0", NULL),
				       "pinned to one CPU");
		for (m = 0; m < scn->nr_modes; m++) {
			const struct racelab_mode *mode = &scn->modes[m];

			if (mode->flags & RACELAB_MODE_ATOMIC_WINDOW)
				expect_refused(test, slot,
					       test_cfg(test, slot, "mode", mode->name,
							"amplifier", "sleep", NULL),
					       "sleep in an atomic window");
			if ((mode->flags & RACELAB_MODE_SERIAL_WINDOW) &&
			    !(mode->flags & RACELAB_MODE_ATOMIC_WINDOW) &&
			    hi == RACELAB_MAX_THREADS)
				expect_refused(test, slot,
					       test_cfg(test, slot, "mode", mode->name,
							"threads", "64",
							"amplifier", "sleep:1000",
							NULL),
					       "64 threads x 1 ms under one lock");
			if (mode->min_threads > lo)
				expect_refused(test, slot,
					       test_cfg(test, slot, "mode", mode->name,
							"threads",
							uint_str(test, mode->min_threads - 1),
							NULL),
					       "below the mode's min_threads");
		}
	}
}

/*
 * A mode's own thread minimum: one below it is refused, at it the minimum
 * says nothing (the real deadlock once hung with one thread: it waited for
 * a partner that did not exist).
 */
static void mode_min_threads(struct kunit *test)
{
	struct racelab_slot *slot;
	unsigned int i, m, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		for (m = 0; m < slot->scn->nr_modes; m++) {
			const struct racelab_mode *mode = &slot->scn->modes[m];
			struct racelab_cfg *cfg;
			const char *why = NULL;

			if (mode->min_threads < 2)
				continue;
			n++;
			cfg = test_cfg(test, slot, "mode", mode->name, "threads",
				       uint_str(test, mode->min_threads - 1), NULL);
			KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg,
								   &why), -EINVAL);
			cfg = test_cfg(test, slot, "mode", mode->name, "threads",
				       uint_str(test, mode->min_threads), NULL);
			if (racelab_cfg_validate(slot->scn, cfg, &why))
				KUNIT_EXPECT_NULL_MSG(test, strstr(why, "min_threads"),
						      "%s/%s: %s", slot->scn->name,
						      mode->name, why);
		}
	}
	if (!n)
		kunit_skip(test, "no mode declares a thread minimum");
}

/* Every thread's progress counter has a cache line of its own. */
static void thread_slots_cacheline(struct kunit *test)
{
	struct racelab_run *run;
	unsigned int n;

	KUNIT_EXPECT_EQ(test, sizeof(run->thr[0]) % SMP_CACHE_BYTES, 0UL);
	/* Allocated as the runner does, for every thread count. */
	for (n = 1; n <= RACELAB_MAX_THREADS; n++) {
		run = racelab_run_alloc(n);
		KUNIT_ASSERT_NOT_NULL(test, run);
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED((unsigned long)&run->thr[0],
						       SMP_CACHE_BYTES),
				      "%u threads: slot 0 at offset %lu of a line", n,
				      (unsigned long)&run->thr[0] % SMP_CACHE_BYTES);
		kfree(run);
	}
}

/* A fixed mode that runs here, of a scenario that needs no sample. */
static struct racelab_slot *plain_fixed(const struct racelab_mode **mode)
{
	struct racelab_slot *slot;
	unsigned int i;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		*mode = first_fixed(slot->scn);
		if (*mode && !slot->scn->min_expected && !slot->scn->write &&
		    num_online_cpus() >= racelab_min_cpus(slot->scn))
			return slot;
	}
	return NULL;
}

/* A run that ends at its duration_ms ended normally: it was not stopped. */
static void deadline_is_not_stop(struct kunit *test)
{
	const struct racelab_mode *mode;
	struct racelab_slot *slot = plain_fixed(&mode);
	struct racelab_result *res = test_result(test);
	struct racelab_cfg *cfg;

	if (!slot)
		kunit_skip(test, "no fixed mode runs here");
	cfg = test_cfg(test, slot, "mode", mode->name, "duration_ms", "50", NULL);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%s\n", res->line);
	KUNIT_EXPECT_TRUE(test, res->expired);
	KUNIT_EXPECT_FALSE(test, res->stopped);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
	KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, " ended=deadline "));
}

/*
 * An iteration cap is exact: every thread does exactly that many, and the
 * run ends by it, not by its time limit; the fairness figure says even.
 * 2000: a priority-inversion round is a few ms under emulation, and 20000
 * of them took 50 s of the 60 s limit.
 */
#define CAP_ITERATIONS	"2000"
static void iterations_cap_exact(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	unsigned int i, n;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_mode *mode = first_fixed(slot->scn);
		struct racelab_cfg *cfg;

		if (!mode || slot->scn->write ||
		    num_online_cpus() < racelab_min_cpus(slot->scn))
			continue;
		n = scn_threads(slot->scn, 3);
		cfg = test_cfg(test, slot, "mode", mode->name, "threads",
			       uint_str(test, n), "iterations", CAP_ITERATIONS,
			       "duration_ms", "60000", NULL);
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, " ended=iterations "),
					  "%s", res->line);
		KUNIT_EXPECT_EQ_MSG(test, res->ops, 2000ULL * n, "%s", res->line);
		KUNIT_EXPECT_EQ(test, res->min_thread_ops, 2000ULL);
		KUNIT_EXPECT_EQ(test, res->max_thread_ops, 2000ULL);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, " fairness=1.00 "),
					  "%s", res->line);
	}
}

/* Pinning puts thread i on the i-th CPU of the list and still counts right. */
static void pinned_run_exact(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	char cpus[32], want[40];
	unsigned int i;

	snprintf(cpus, sizeof(cpus), "%*pbl", cpumask_pr_args(cpu_online_mask));
	snprintf(want, sizeof(want), " cpus=%s ", cpus);
	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_mode *mode = first_fixed(slot->scn);
		struct racelab_cfg *cfg;
		const char *why;

		if (!mode)
			continue;
		cfg = test_cfg(test, slot, "cpus", cpus, "mode", mode->name,
			       "threads", uint_str(test, scn_threads(slot->scn, 4)),
			       "duration_ms", "300", NULL);
		if (racelab_cfg_validate(slot->scn, cfg, &why))
			continue;	/* needs more CPUs than this kernel has */
		run_conclusive(test, slot, cfg, res);
		KUNIT_EXPECT_STREQ_MSG(test, racelab_verdict_name(res), "clean",
				       "%s", res->line);
		KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, want), "%s",
					  res->line);
	}
}

/*
 * What a scenario conserves holds in every mode, racy ones included: the
 * race is in what it declares racy, not in its bookkeeping (a scenario once
 * measured two races at once, its give-back being a plain RMW).
 */
static void always_holds(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	unsigned int i, m, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;

		if (!scn->always || num_online_cpus() < racelab_min_cpus(scn))
			continue;
		for (m = 0; m < scn->nr_modes; m++) {
			const char *pairs = scn->always;
			struct racelab_cfg *cfg;

			if (!mode_runs_free(&scn->modes[m]))
				continue;
			n++;
			cfg = test_cfg(test, slot, "mode", scn->modes[m].name,
				       "threads", uint_str(test, scn_threads(scn, 4)),
				       "duration_ms", "300", NULL);
			KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
			while (*pairs) {
				size_t len = strcspn(pairs, " ");

				KUNIT_EXPECT_TRUE_MSG(test,
						      line_has_pair(res->line, pairs, len),
						      "want %.*s in %s", (int)len,
						      pairs, res->line);
				pairs += len;
				pairs += strspn(pairs, " ");
			}
		}
	}
	if (!n)
		kunit_skip(test, "no scenario declares what it conserves");
}

/*
 * Readers always progress in a fixed reader/writer mode, whatever the
 * window: the widest delay with 4 threads. A writer that never waited once
 * outran its readers (each reader stuck at 1 op, RCU stalled);
 * seqlock readers once starved behind a writer that never paused.
 */
static void readers_progress(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	unsigned int i, m, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;

		if (!scn->write)
			continue;
		for (m = 0; m < scn->nr_modes; m++) {
			const struct racelab_mode *mode = &scn->modes[m];
			struct racelab_cfg *cfg;

			if (mode->kind != RACELAB_FIXED || !mode_runs_free(mode))
				continue;
			n++;
			cfg = test_cfg(test, slot, "mode", mode->name,
				       "threads", uint_str(test, scn_threads(scn, 4)),
				       "amplifier", "delay:100000",
				       "duration_ms", "2000", NULL);
			run_conclusive(test, slot, cfg, res);
			kunit_info(test, "%s\n", res->line);
			KUNIT_EXPECT_STREQ_MSG(test, racelab_verdict_name(res),
					       "clean", "%s", res->line);
			KUNIT_EXPECT_GE_MSG(test, res->min_thread_ops, 10ULL, "%s",
					    res->line);
			/*
			 * The writer and one reader on CPUs of their own,
			 * where only the writer's pause lets a read finish
			 * (with four threads on two CPUs the scheduler lets
			 * readers through anyway). 2 s: a read per writer
			 * period of ~300 us leaves a wide margin over the
			 * sample a clean verdict needs.
			 */
			if (!cpu_online(0) || !cpu_online(1))
				continue;
			cfg = test_cfg(test, slot, "mode", mode->name,
				       "threads", "2", "cpus", "0-1",
				       "amplifier", "delay:100000",
				       "duration_ms", "2000", NULL);
			run_conclusive(test, slot, cfg, res);
			kunit_info(test, "%s\n", res->line);
			KUNIT_EXPECT_STREQ_MSG(test, racelab_verdict_name(res),
					       "clean", "%s", res->line);
			KUNIT_EXPECT_GE_MSG(test, res->min_thread_ops, 10ULL, "%s",
					    res->line);
		}
	}
	if (!n)
		kunit_skip(test, "no reader/writer scenario");
}

/* A clean verdict on too small a sample says so: inconclusive. */
static void small_sample_inconclusive(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	unsigned int i, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_mode *mode = first_fixed(slot->scn);
		struct racelab_cfg *cfg;

		if (!slot->scn->min_expected || !mode)
			continue;
		n++;
		cfg = test_cfg(test, slot, "mode", mode->name, "iterations", "1",
			       NULL);
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		KUNIT_EXPECT_STREQ_MSG(test, racelab_verdict_name(res),
				       "inconclusive", "%s", res->line);
	}
	if (!n)
		kunit_skip(test, "no scenario declares a minimum sample");
}

/*
 * A racy mode that cannot show its race on this hardware does not: x86-TSO
 * forbids the message-passing reordering.
 */
static void hidden_stays_clean(struct kunit *test)
{
	struct racelab_result *res = test_result(test);
	struct racelab_slot *slot;
	unsigned int i, m, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		for (m = 0; m < slot->scn->nr_modes; m++) {
			const struct racelab_mode *mode = &slot->scn->modes[m];
			struct racelab_cfg *cfg;
			const char *why;

			if (!(mode->hidden & RACELAB_HIDDEN_TSO) ||
			    racelab_mode_shows_here(mode, &why))
				continue;
			cfg = test_cfg(test, slot, "mode", mode->name,
				       "duration_ms", "1000", NULL);
			if (racelab_cfg_validate(slot->scn, cfg, &why))
				continue;
			n++;
			KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
			kunit_info(test, "%s\n", res->line);
			KUNIT_EXPECT_GT(test, res->expected, 0ULL);
			KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
		}
	}
	if (!n)
		kunit_skip(test, "no mode is hidden by this hardware");
}

/*
 * Each plan is declared once (struct racelab_plan): every plan gives some
 * free-running mode a window no other plan gives it, and two plans that
 * give a racy mode the same window (run once) agree on how few CPUs it
 * races on. amplifier=auto is a mode's own window: an "auto" plan next to
 * "none" was the same plan, declared twice with two racy_cpus.
 */
static void plans_declared_once(struct kunit *test)
{
	const struct racelab_plan *p, *q;
	struct plan_window wp, wq;
	struct racelab_slot *slot;
	unsigned int i, m, n = 0;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;

		for (p = scn->plans; p && p->amplifier; p++) {
			bool adds = false;

			n++;
			for (m = 0; m < scn->nr_modes; m++) {
				const struct racelab_mode *mode = &scn->modes[m];
				bool shared = false;

				if (!mode_runs_free(mode))
					continue;
				KUNIT_ASSERT_TRUE_MSG(test, plan_window(scn, p, mode, &wp),
						      "%s: plan %s", scn->name,
						      p->amplifier);
				for (q = scn->plans; q->amplifier; q++) {
					if (q == p ||
					    !plan_window(scn, q, mode, &wq) ||
					    !window_eq(&wp, &wq))
						continue;
					shared = true;
					if (q > p && mode->kind != RACELAB_FIXED)
						KUNIT_EXPECT_EQ_MSG(test, p->racy_cpus ?: 1,
								    q->racy_cpus ?: 1,
								    "%s/%s: plans %s and %s give it one window",
								    scn->name, mode->name,
								    p->amplifier, q->amplifier);
				}
				adds |= !shared;
			}
			KUNIT_EXPECT_TRUE_MSG(test, adds,
					      "%s: plan %s gives no mode a window of its own",
					      scn->name, p->amplifier);
		}
	}
	if (!n)
		kunit_skip(test, "no scenario declares a plan");
}

static struct kunit_case racelab_knobs_cases[] = {
	KUNIT_CASE_PARAM(knob_parse, knob_gen_params),
	KUNIT_CASE(mode_names),
	KUNIT_CASE(rules_independent_of_order),
	KUNIT_CASE(run_refuses_bad_cfg),
	KUNIT_CASE(declared_bounds),
	KUNIT_CASE(mode_min_threads),
	KUNIT_CASE(plans_declared_once),
	KUNIT_CASE(thread_slots_cacheline),
	KUNIT_CASE(deadline_is_not_stop),
	KUNIT_CASE(iterations_cap_exact),
	KUNIT_CASE(pinned_run_exact),
	KUNIT_CASE(always_holds),
	KUNIT_CASE(readers_progress),
	KUNIT_CASE(small_sample_inconclusive),
	KUNIT_CASE(hidden_stays_clean),
	{}
};

static struct kunit_suite racelab_knobs_suite = {
	.name = "racelab_knobs",
	.test_cases = racelab_knobs_cases,
};

/* ---------------------------------------------------------------- races */

/*
 * Thread counts, as kcsan_test.c's nthreads_gen_params: 2, 3, 4, 8, 16 ...
 * up to the maximum, bounded by the online CPUs (at least 2: on one CPU
 * two threads still race through preemption).
 */
static unsigned int next_threads(unsigned int n)
{
	unsigned int bound = max(2U, num_online_cpus());

	n = n < 4 ? n + 1 : n * 2;
	if (n < 2)
		n = 2;
	return n <= min_t(unsigned int, bound, RACELAB_MAX_THREADS) ? n : 0;
}

struct race_case {
	struct racelab_slot *slot;
	const struct racelab_plan *plan;
	const struct racelab_mode *mode;
	unsigned int threads;
	struct plan_window win;
	char desc[KUNIT_PARAM_DESC_SIZE];
};

#define RACE_CASES_MAX	1024
static struct race_case *race_cases;
static unsigned int nr_race_cases, nr_race_cases_dropped;

static const char *plan_ms(struct kunit *test, const struct racelab_plan *plan)
{
	return uint_str(test, plan->duration_ms ?: RACELAB_PLAN_MS);
}

/* The case's configuration, through the knobs. */
static struct racelab_cfg *race_cfg(struct kunit *test,
				    const struct race_case *c)
{
	return test_cfg(test, c->slot, "mode", c->mode->name,
			"duration_ms", plan_ms(test, c->plan),
			"amplifier", c->plan->amplifier,
			"threads", uint_str(test, c->threads), NULL);
}

/*
 * Every free-running mode of every scenario, under each of its plans and
 * every thread count; a combination the knobs refuse is no case, and a
 * window two plans give a mode is one case (the first plan's).
 */
static void race_cases_add(struct racelab_slot *slot,
			   const struct racelab_plan *plan,
			   const struct racelab_mode *mode, unsigned int n)
{
	const struct racelab_scenario *scn = slot->scn;
	struct racelab_cfg *cfg;
	struct plan_window win;
	struct race_case *c;
	const char *why;
	char val[16];

	if (n < max(racelab_min_threads(scn), mode->min_threads) ||
	    n > racelab_max_threads(scn) || !plan_window(scn, plan, mode, &win))
		return;
	for (c = race_cases; c < race_cases + nr_race_cases; c++)
		if (c->slot == slot && c->mode == mode && c->threads == n &&
		    window_eq(&c->win, &win))
			return;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return;
	racelab_cfg_default(cfg);
	snprintf(val, sizeof(val), "%u", n);
	if (racelab_knob_parse(scn, cfg, "mode", mode->name) ||
	    racelab_knob_parse(scn, cfg, "amplifier", plan->amplifier) ||
	    racelab_knob_parse(scn, cfg, "threads", val) ||
	    racelab_cfg_validate(scn, cfg, &why)) {
		kfree(cfg);
		return;
	}
	kfree(cfg);
	/*
	 * A full table is the tests' limit, not the kernel's bug: no WARN
	 * (a backtrace, a taint). race_cases_fit fails on it.
	 */
	if (nr_race_cases == RACE_CASES_MAX) {
		nr_race_cases_dropped++;
		pr_warn_once("racelab_kunit: more than %d race cases: %s/%s and the rest not run\n",
			     RACE_CASES_MAX, scn->name, mode->name);
		return;
	}
	c = &race_cases[nr_race_cases++];
	c->slot = slot;
	c->plan = plan;
	c->mode = mode;
	c->threads = n;
	c->win = win;
	snprintf(c->desc, sizeof(c->desc), "%s/%s/%s/%ut", scn->name,
		 mode->name, plan->amplifier, n);
}

static void race_cases_init(void)
{
	const struct racelab_plan *plan;
	struct racelab_slot *slot;
	unsigned int i, m, n;

	if (race_cases)
		return;
	race_cases = kcalloc(RACE_CASES_MAX, sizeof(*race_cases), GFP_KERNEL);
	if (!race_cases)
		return;
	for (i = 0; (slot = racelab_slot_at(i)); i++)
		for (plan = slot->scn->plans; plan && plan->amplifier; plan++)
			for (m = 0; m < slot->scn->nr_modes; m++) {
				const struct racelab_mode *mode = &slot->scn->modes[m];

				if (!mode_runs_free(mode))
					continue;
				for (n = next_threads(0); n; n = next_threads(n))
					race_cases_add(slot, plan, mode, n);
				/*
				 * A scenario that needs more threads than
				 * there are CPUs (three on one CPU) runs at
				 * its minimum too.
				 */
				race_cases_add(slot, plan, mode,
					       max3(2U, racelab_min_threads(slot->scn),
						    mode->min_threads));
			}
}

static const void *race_gen(const void *prev, char *desc, bool fixed)
{
	const struct race_case *c = prev;
	const char *why;

	if (!c) {
		race_cases_init();
		if (!race_cases)
			return NULL;
		c = race_cases;
	} else {
		c++;
	}
	for (; c < race_cases + nr_race_cases; c++) {
		bool is_fixed = c->mode->kind == RACELAB_FIXED;

		if (is_fixed != fixed)
			continue;
		if (!fixed && !racelab_mode_shows_here(c->mode, &why))
			continue;
		strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
		return c;
	}
	return NULL;
}

static const void *racy_gen(const void *prev, char *desc)
{
	return race_gen(prev, desc, false);
}

static const void *fixed_gen(const void *prev, char *desc)
{
	return race_gen(prev, desc, true);
}

/* A fixed mode is exact in every run that shows the racy ones. */
static void fixed_exact(struct kunit *test)
{
	const struct race_case *c = test->param_value;
	struct racelab_result *res = test_result(test);

	run_conclusive(test, c->slot, race_cfg(test, c), res);
	kunit_info(test, "%u CPUs online: %s\n", num_online_cpus(), res->line);
	KUNIT_EXPECT_FALSE(test, res->stopped);
	KUNIT_EXPECT_FALSE(test, res->inconclusive);
	KUNIT_EXPECT_GT(test, res->min_thread_ops, 0ULL);
	KUNIT_EXPECT_GT(test, res->expected, 0ULL);
	KUNIT_EXPECT_EQ(test, res->observed, res->expected);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
}

/*
 * Repeat the same run until the anomaly shows or the deadline passes. On
 * one CPU only a preemption inside the window splits it; racelab's window
 * check is a branch that ends a TCG translation block, so even the
 * unamplified window can be preempted there (measured, README "Figures").
 */
static void racy_shows_anomaly(struct kunit *test)
{
	const struct race_case *c = test->param_value;
	struct racelab_result *res = test_result(test);
	unsigned int attempts = 0;
	struct racelab_cfg *cfg;
	u64 start, elapsed_ms;

	if (num_online_cpus() < (c->plan->racy_cpus ?: 1))
		kunit_skip(test, "this plan races on %u CPUs or more",
			   c->plan->racy_cpus);
	cfg = race_cfg(test, c);
	start = ktime_get_ns();
	do {
		attempts++;
		KUNIT_ASSERT_EQ(test, racelab_run_sync(c->slot, cfg, res), 0);
		elapsed_ms = div_u64(ktime_get_ns() - start, NSEC_PER_MSEC);
	} while (!res->anomalies && elapsed_ms < RACY_DEADLINE_MS);

	kunit_info(test, "%u CPUs online: anomaly after %u attempt(s), %llu ms: %s\n",
		   num_online_cpus(), attempts, elapsed_ms, res->line);
	KUNIT_EXPECT_GT_MSG(test, res->anomalies, 0ULL,
			    "no anomaly in %u attempts (%llu ms)", attempts,
			    elapsed_ms);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "race");
	KUNIT_EXPECT_LE(test, res->observed, res->expected);
}

/* Every case fitted the table: none was left out unseen. */
static void race_cases_fit(struct kunit *test)
{
	race_cases_init();
	KUNIT_ASSERT_NOT_NULL(test, race_cases);
	KUNIT_EXPECT_EQ_MSG(test, nr_race_cases_dropped, 0U,
			    "%u race cases past RACE_CASES_MAX (%d) not run",
			    nr_race_cases_dropped, RACE_CASES_MAX);
	kunit_info(test, "%u race cases\n", nr_race_cases);
}

static struct kunit_case racelab_races_cases[] = {
	KUNIT_CASE_PARAM(fixed_exact, fixed_gen),
	KUNIT_CASE_PARAM(racy_shows_anomaly, racy_gen),
	KUNIT_CASE(race_cases_fit),
	{}
};

static void racelab_races_exit(struct kunit_suite *suite)
{
	kfree(race_cases);
	race_cases = NULL;
	nr_race_cases = 0;
	nr_race_cases_dropped = 0;
}

static struct kunit_suite racelab_races_suite = {
	.name = "racelab_races",
	.suite_exit = racelab_races_exit,
	.test_cases = racelab_races_cases,
};

/* ------------------------------------------------------------ schedules */

/* The scenarios that replay schedules, one test parameter each. */
static const void *sched_gen(const void *prev, char *desc)
{
	struct racelab_slot *slot;
	unsigned int i = 0;

	if (prev) {
		while (racelab_slot_at(i) != prev)
			i++;
		i++;
	}
	for (; (slot = racelab_slot_at(i)); i++) {
		if (slot->scn->script) {
			strscpy(desc, slot->scn->name, KUNIT_PARAM_DESC_SIZE);
			return slot;
		}
	}
	return NULL;
}

/*
 * The interleaving of two threads given by @mask: bit i says which thread
 * runs step i. Written into @buf, and played on the model. False if @mask
 * does not give each thread all of its steps.
 */
static bool sched_build(const struct racelab_script_ops *ops, unsigned int mask,
			char *buf, size_t size, struct racelab_script_model *m)
{
	unsigned int len = strlen(ops->steps), next[2] = {}, i;
	int n = 0;

	if (hweight32(mask) != len)
		return false;
	memset(m, 0, sizeof(*m));
	ops->model_init(m);
	for (i = 0; i < 2 * len; i++) {
		unsigned int t = (mask >> i) & 1;

		n += scnprintf(buf + n, size - n, "%s%c%u", i ? " " : "",
			       ops->steps[next[t]], t);
		ops->model_step(m, t, ops->steps[next[t]]);
		next[t]++;
	}
	return true;
}

/*
 * Every interleaving of two threads' steps, replayed by the conductor,
 * against the scenario's model of its steps played on paper: the same
 * value, and an anomaly exactly where the model goes wrong. Both serial
 * orders are clean.
 */
static void schedule_all(struct kunit *test)
{
	struct racelab_slot *slot = (struct racelab_slot *)test->param_value;
	const struct racelab_script_ops *ops = slot->scn->script;
	unsigned int len = strlen(ops->steps), mask, total = 0, bad = 0, want;
	struct racelab_result *res = test_result(test);
	struct racelab_script_model m;
	char script[64], shown[64];

	for (mask = 0; mask < BIT(2 * len); mask++) {
		struct racelab_cfg *cfg;
		bool model_bad;
		u64 observed;

		if (!sched_build(ops, mask, script, sizeof(script), &m))
			continue;
		total++;
		ops->model_result(&m, &observed, &model_bad);
		cfg = test_cfg(test, slot, "schedule", script, NULL);
		KUNIT_ASSERT_EQ_MSG(test, racelab_run_sync(slot, cfg, res), 0,
				    "%s", script);
		KUNIT_EXPECT_EQ_MSG(test, res->observed, observed, "%s: %s",
				    script, res->line);
		KUNIT_EXPECT_EQ_MSG(test, res->anomalies > 0, model_bad, "%s: %s",
				    script, res->line);
		if (mask == BIT(len) - 1 || mask == (BIT(len) - 1) << len)
			KUNIT_EXPECT_FALSE_MSG(test, model_bad, "serial %s", script);
		KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, "mode=schedule"));
		strscpy(shown, script, sizeof(shown));
		strreplace(shown, ' ', ',');
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, shown), "%s",
					  res->line);
		bad += model_bad;
		kunit_info(test, "%-20s -> %s\n", script,
			   res->anomalies ? "race" : "clean");
	}
	/* (2L choose L) interleavings of two threads of L steps. */
	for (mask = 0, want = 1; mask < len; mask++)
		want = want * (2 * len - mask) / (mask + 1);
	KUNIT_EXPECT_EQ(test, total, want);
	KUNIT_EXPECT_GT_MSG(test, bad, 0U, "no interleaving goes wrong");
	kunit_info(test, "%u of %u interleavings go wrong\n", bad, total);
}

/* The serial schedule of @steps: thread 0's steps, then thread 1's. */
static int sched_serial(const char *steps, char *buf, size_t size)
{
	unsigned int len = strlen(steps), i;
	int n = 0;

	for (i = 0; i < RACELAB_SCRIPT_THREADS * len; i++)
		n += scnprintf(buf + n, size - n, "%s%c%u", i ? " " : "",
			       steps[i % len], i / len);
	return n;
}

#define SCHED_BAD_MAX	(RACELAB_KNOB_MAX + 8)

/*
 * Bad schedules are refused and leave the configuration as it was. Each
 * is the serial schedule broken in one way only, so that it is refused
 * for that reason; the serial schedule itself, and one padded to the
 * longest value a knob takes, are accepted.
 */
static void schedule_refused(struct kunit *test)
{
	struct racelab_slot *slot = (struct racelab_slot *)test->param_value;
	const char *steps = slot->scn->script->steps;
	unsigned int len = strlen(steps), i;
	struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
	struct racelab_cfg *before = test_cfg(test, slot, NULL);
	char serial[SCHED_BAD_MAX], padded[SCHED_BAD_MAX];
	char bad[8][SCHED_BAD_MAX];
	bool one_letter = strspn(steps, (char []){ steps[0], '\0' }) == len;
	char unknown = 'X';
	int n, m, k;

	while (strchr(steps, unknown))
		unknown++;
	n = sched_serial(steps, serial, sizeof(serial));
	/* Thread 0's steps: the first len, 3 * len - 1 bytes. */
	m = 3 * len - 1;
	/* 0: thread 1's last step missing */
	snprintf(bad[0], sizeof(bad[0]), "%.*s", n - 3, serial);
	/* 1: thread 0's last step again, after all of thread 0's steps */
	snprintf(bad[1], sizeof(bad[1]), "%.*s %c0%s", m, serial,
		 steps[len - 1], serial + m);
	/* 2: an unknown step in place of thread 0's first */
	snprintf(bad[2], sizeof(bad[2]), "%c%s", unknown, serial + 1);
	/* 3: thread 1's steps given to a thread 2 */
	k = scnprintf(bad[3], sizeof(bad[3]), "%.*s", m, serial);
	for (i = 0; i < len; i++)
		k += scnprintf(bad[3] + k, sizeof(bad[3]) - k, " %c2", steps[i]);
	/* 4: no separator after the first step */
	snprintf(bad[4], sizeof(bad[4]), "%.2s%s", serial, serial + 3);
	/*
	 * 5: longer than a knob takes (RACELAB_KNOB_MAX - 1 bytes): the
	 * serial schedule after separators, which may come anywhere. One
	 * separator fewer is accepted below: the length alone refuses it.
	 */
	memset(bad[5], ',', RACELAB_KNOB_MAX - n);
	strscpy(bad[5] + RACELAB_KNOB_MAX - n, serial, n + 1);
	strscpy(padded, bad[5] + 1, sizeof(padded));
	/* 6: empty */
	bad[6][0] = '\0';
	/*
	 * 7: thread 0's steps out of their order, rotated by one: never its
	 * order, unless every step is one letter (then there is no other).
	 */
	k = scnprintf(bad[7], sizeof(bad[7]), "%c0", steps[len - 1]);
	for (i = 0; i + 1 < len; i++)
		k += scnprintf(bad[7] + k, sizeof(bad[7]) - k, " %c0", steps[i]);
	scnprintf(bad[7] + k, sizeof(bad[7]) - k, "%s", serial + m);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (i == 7 && one_letter)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, racelab_knob_parse(slot->scn, cfg,
							     "schedule", bad[i]),
				    -EINVAL, "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
	}
	/* The serial schedule is fine, padded as well; "none" clears it. */
	KUNIT_EXPECT_EQ_MSG(test, racelab_knob_parse(slot->scn, cfg, "schedule",
						     padded), 0, "\"%s\"", padded);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "schedule",
						 serial), 0);
	KUNIT_EXPECT_EQ(test, cfg->script.nr, 2 * len);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "schedule",
						 "none"), 0);
	KUNIT_EXPECT_EQ(test, cfg->script.nr, 0U);
}

/*
 * Each thread runs every step once: a scenario's steps are at most
 * RACELAB_SCRIPT_STEPS (the module refuses to load one with more). With
 * that many, the serial schedule fills RACELAB_SCRIPT_MAX and is
 * accepted; with one more, every schedule is refused.
 */
static void schedule_max_steps(struct kunit *test)
{
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct racelab_script_ops ops = {};
	char steps[sizeof(letters)], sched[4 * RACELAB_SCRIPT_MAX];
	struct racelab_script *script;
	unsigned int len;

	BUILD_BUG_ON(RACELAB_SCRIPT_STEPS + 1 >= sizeof(letters));
	script = kunit_kzalloc(test, sizeof(*script), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, script);
	ops.steps = steps;
	for (len = RACELAB_SCRIPT_STEPS; len <= RACELAB_SCRIPT_STEPS + 1; len++) {
		strscpy(steps, letters, len + 1);
		sched_serial(steps, sched, sizeof(sched));
		KUNIT_EXPECT_EQ_MSG(test, racelab_script_parse(&ops, sched, script),
				    len > RACELAB_SCRIPT_STEPS ? -EINVAL : 0,
				    "%u steps: %s", len, sched);
	}
	KUNIT_EXPECT_EQ(test, script->nr, RACELAB_SCRIPT_MAX);
}

/* A scenario that replays no schedule has no such knob. */
static void schedule_knob_only_where_declared(struct kunit *test)
{
	struct racelab_slot *slot;
	unsigned int i;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
		bool has = racelab_knob_find(slot->scn, "schedule");

		KUNIT_EXPECT_EQ_MSG(test, has, !!slot->scn->script, "%s",
				    slot->scn->name);
		if (!slot->scn->script)
			KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg,
								 "schedule", "none"),
					-EINVAL);
	}
}

static struct kunit_case racelab_schedules_cases[] = {
	KUNIT_CASE_PARAM(schedule_all, sched_gen),
	KUNIT_CASE_PARAM(schedule_refused, sched_gen),
	KUNIT_CASE(schedule_max_steps),
	KUNIT_CASE(schedule_knob_only_where_declared),
	{}
};

static struct kunit_suite racelab_schedules_suite = {
	.name = "racelab_schedules",
	.test_cases = racelab_schedules_cases,
};

/* ------------------------------------------------------------ detectors */

/*
 * KCSAN expectations, the technique of kernel/kcsan/kcsan_test.c: KCSAN's
 * reports are captured from the console tracepoint (found by name, so the
 * module needs no symbol the tracepoint may not export) and matched against
 * the functions a mode's racy accesses live in. A data race is reported at
 * most once per pair in KCSAN_REPORT_ONCE_IN_MS (3000 ms): every watch lasts
 * longer than that.
 */
#define KCSAN_WATCH_MS		3500	/* the shortest watch: > 3000 ms */
#define KCSAN_FIND_MS		30000	/* a present report may take this long */
#define KCSAN_MAX_REPORTS	32

/* How long the last reported case of each scenario took to be reported. */
static struct {
	const char *scn;
	u64 ms;
} kcsan_took[64];

static u64 kcsan_took_ms(const char *scn, u64 set)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kcsan_took); i++) {
		if (!kcsan_took[i].scn || !strcmp(kcsan_took[i].scn, scn)) {
			kcsan_took[i].scn = scn;
			if (set)
				kcsan_took[i].ms = set;
			return kcsan_took[i].ms;
		}
	}
	return 0;
}

static struct {
	spinlock_t lock;	/* the probe runs in any context */
	unsigned int nr;
	char line[KCSAN_MAX_REPORTS][160];
} kcsan_seen = {
	.lock = __SPIN_LOCK_UNLOCKED(kcsan_seen.lock),
};

static struct tracepoint *console_tp;

static void kcsan_probe_console(void *ignore, const char *buf, size_t len)
{
	const char *hit = strnstr(buf, "BUG: KCSAN: ", len);
	unsigned long flags;

	if (!hit)
		return;
	spin_lock_irqsave(&kcsan_seen.lock, flags);
	if (kcsan_seen.nr < KCSAN_MAX_REPORTS) {
		size_t n = min_t(size_t, len - (hit - buf),
				 sizeof(kcsan_seen.line[0]) - 1);

		memcpy(kcsan_seen.line[kcsan_seen.nr], hit, n);
		kcsan_seen.line[kcsan_seen.nr][n] = '\0';
		kcsan_seen.nr++;
	}
	spin_unlock_irqrestore(&kcsan_seen.lock, flags);
}

static void kcsan_find_console(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "console"))
		console_tp = tp;
}

static void kcsan_seen_clear(void)
{
	unsigned long flags;

	spin_lock_irqsave(&kcsan_seen.lock, flags);
	kcsan_seen.nr = 0;
	spin_unlock_irqrestore(&kcsan_seen.lock, flags);
}

/* A captured report that names one of @funcs ("a|b|c") in racelab. */
static bool kcsan_seen_match(const char *funcs, char *out, size_t size)
{
	unsigned long flags;
	bool found = false;
	unsigned int i;

	spin_lock_irqsave(&kcsan_seen.lock, flags);
	for (i = 0; i < kcsan_seen.nr && !found; i++) {
		const char *f = funcs;

		if (!strstr(kcsan_seen.line[i], "[racelab]") &&
		    !strstr(kcsan_seen.line[i], "racelab"))
			continue;
		while (*f && !found) {
			size_t n = strcspn(f, "|");
			char name[48];

			snprintf(name, sizeof(name), " %.*s", (int)n, f);
			found = strstr(kcsan_seen.line[i], name);
			f += n + (f[n] == '|');
		}
		if (found)
			strscpy(out, kcsan_seen.line[i], size);
	}
	if (!found && kcsan_seen.nr)
		strscpy(out, kcsan_seen.line[0], size);
	spin_unlock_irqrestore(&kcsan_seen.lock, flags);
	return found;
}

static unsigned int kcsan_seen_racelab(char *out, size_t size)
{
	unsigned long flags;
	unsigned int i, n = 0;

	spin_lock_irqsave(&kcsan_seen.lock, flags);
	for (i = 0; i < kcsan_seen.nr; i++) {
		if (strstr(kcsan_seen.line[i], "racelab")) {
			if (!n)
				strscpy(out, kcsan_seen.line[i], size);
			n++;
		}
	}
	spin_unlock_irqrestore(&kcsan_seen.lock, flags);
	return n;
}

/*
 * The KCSAN cases: every free-running mode whose KCSAN expectation is
 * declared, a scenario's reported modes before its silent ones, so that
 * an absence is watched at least as long as its scenario's report took.
 */
static const void *kcsan_gen(const void *prev, char *desc)
{
	const struct racelab_mode *after = prev;
	struct racelab_slot *slot;
	unsigned int i, m, pass;
	bool past = !after;

	for (i = 0; (slot = racelab_slot_at(i)); i++) {
		const struct racelab_scenario *scn = slot->scn;

		for (pass = 0; pass < 2; pass++) {
			for (m = 0; m < scn->nr_modes; m++) {
				const struct racelab_mode *mode = &scn->modes[m];
				enum racelab_says says = mode->expect[RACELAB_KCSAN].says;

				if (mode->kind == RACELAB_FIXED ||
				    !mode_runs_free(mode) ||
				    says != (pass ? RACELAB_SILENT : RACELAB_REPORTS))
					continue;
				if (!past) {
					past = mode == after;
					continue;
				}
				snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s %s",
					 scn->name, mode->name, pass ?
					 "not reported" : "reported");
				return mode;
			}
		}
	}
	return NULL;
}

/* The slot whose scenario owns @mode. */
static struct racelab_slot *slot_of(const struct racelab_mode *mode)
{
	struct racelab_slot *slot;
	unsigned int i;

	for (i = 0; (slot = racelab_slot_at(i)); i++)
		if (mode >= slot->scn->modes &&
		    mode < slot->scn->modes + slot->scn->nr_modes)
			return slot;
	return NULL;
}

static void kcsan_expectation(struct kunit *test)
{
	const struct racelab_mode *mode = test->param_value;
	struct racelab_slot *slot = slot_of(mode);
	const char *funcs = mode->expect[RACELAB_KCSAN].says == RACELAB_REPORTS ?
			    mode->expect[RACELAB_KCSAN].names : NULL;
	struct racelab_result *res = test_result(test);
	u64 anomalies = 0, start, elapsed_ms, watch_ms;
	unsigned int runs = 0;
	char report[160] = "";
	struct racelab_cfg *cfg;
	const char *why;
	bool seen = false;

	if (!IS_ENABLED(CONFIG_KCSAN))
		kunit_skip(test, "needs CONFIG_KCSAN");
	if (!console_tp)
		kunit_skip(test, "no console tracepoint (CONFIG_TRACEPOINTS)");
	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = test_cfg(test, slot, "mode", mode->name, "duration_ms", "300",
		       "amplifier", slot->scn->detect_amplifier ?: "delay:1000",
		       "threads", uint_str(test, scn_threads(slot->scn, 2)),
		       NULL);
	if (racelab_cfg_validate(slot->scn, cfg, &why))
		kunit_skip(test, "%s", why);

	/*
	 * KCSAN samples (one watchpoint every kcsan.skip_watch accesses): a
	 * present report may take a while, and ends the watch. An absence
	 * is watched at least as long as its scenario's report took to show.
	 */
	watch_ms = funcs ? KCSAN_FIND_MS :
		   max_t(u64, KCSAN_WATCH_MS, kcsan_took_ms(slot->scn->name, 0));
	kcsan_seen_clear();
	start = ktime_get_ns();
	do {
		runs++;
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		anomalies += res->anomalies;
		elapsed_ms = div_u64(ktime_get_ns() - start, NSEC_PER_MSEC);
		if (funcs)
			seen = kcsan_seen_match(funcs, report, sizeof(report));
	} while (!seen && elapsed_ms < watch_ms);
	if (seen)
		kcsan_took_ms(slot->scn->name, max_t(u64, elapsed_ms, 1));

	kunit_info(test, "%u run(s), %llu ms, %llu anomalies: %s\n", runs,
		   elapsed_ms, anomalies, report[0] ? report : "no KCSAN report");
	if (funcs) {
		KUNIT_EXPECT_TRUE_MSG(test, seen, "no report naming %s in %llu ms",
				      funcs, elapsed_ms);
	} else {
		KUNIT_EXPECT_EQ_MSG(test, kcsan_seen_racelab(report, sizeof(report)),
				    0U, "unexpected: %s", report);
		/* The race condition is still there, without a data race. */
		KUNIT_EXPECT_GT(test, anomalies, 0ULL);
	}
}

/*
 * The console probe needs CONFIG_TRACEPOINTS (a KCSAN kernel has it). On a
 * kernel without, the calls compile away and the KCSAN cases skip: the
 * module builds on every configuration.
 */
static int racelab_detectors_init(struct kunit_suite *suite)
{
	if (IS_ENABLED(CONFIG_KCSAN) && IS_ENABLED(CONFIG_TRACEPOINTS)) {
		for_each_kernel_tracepoint(kcsan_find_console, NULL);
		if (console_tp &&
		    tracepoint_probe_register(console_tp, kcsan_probe_console,
					      NULL))
			console_tp = NULL;
	}
	return 0;
}

static void racelab_detectors_exit(struct kunit_suite *suite)
{
	if (IS_ENABLED(CONFIG_TRACEPOINTS) && console_tp) {
		tracepoint_probe_unregister(console_tp, kcsan_probe_console, NULL);
		tracepoint_synchronize_unregister();
		console_tp = NULL;
	}
}

static struct kunit_case racelab_detectors_cases[] = {
	KUNIT_CASE_PARAM(kcsan_expectation, kcsan_gen),
	{}
};

static struct kunit_suite racelab_detectors_suite = {
	.name = "racelab_detectors",
	.suite_init = racelab_detectors_init,
	.suite_exit = racelab_detectors_exit,
	.test_cases = racelab_detectors_cases,
};

kunit_test_suites(&racelab_knobs_suite, &racelab_races_suite,
		  &racelab_schedules_suite, &racelab_detectors_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of racelab");

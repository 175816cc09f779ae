// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of racelab: knob parsing, and every counter mode run for real.
 *
 * A fixed mode must be exact in one run. A racy or broken-fix mode must show
 * its anomaly, but a race is a matter of chance: its case repeats the same
 * run until the anomaly appears or a deadline passes (the technique of
 * kernel/kcsan/kcsan_test.c), and reports how many attempts it took.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "racelab.h"

/*
 * Deadline of a racy case. The slowest measured time-to-first-anomaly on
 * the lab kernels is a few seconds at most (see README, "Figures"); the
 * deadline is more than ten times that.
 */
#define RACY_DEADLINE_MS	60000

struct counter_case {
	const char *mode;
	const char *amp;
	unsigned long iterations;
	char desc[48];
};

/*
 * Every mode with every amplifier, each amplifier with its own run size:
 * the fixed modes are held to exactly the runs that show the racy ones.
 */
static const char *const counter_modes[] = {
	"none", "lock-per-thread", "atomic-read-set",
	"spinlock", "mutex", "atomic", "percpu",
};

static const struct {
	const char *amp;
	unsigned long iterations;
} counter_amps[] = {
	{ "none", 100000 },
	{ "delay:1000", 5000 },
	{ "sleep", 300 },
};

static struct counter_case counter_cases[ARRAY_SIZE(counter_modes) *
					 ARRAY_SIZE(counter_amps)];

static void counter_cases_init(void)
{
	unsigned int m, a;

	for (m = 0; m < ARRAY_SIZE(counter_modes); m++) {
		for (a = 0; a < ARRAY_SIZE(counter_amps); a++) {
			struct counter_case *c =
				&counter_cases[m * ARRAY_SIZE(counter_amps) + a];

			c->mode = counter_modes[m];
			c->amp = counter_amps[a].amp;
			c->iterations = counter_amps[a].iterations;
			snprintf(c->desc, sizeof(c->desc), "%s/%s", c->mode,
				 c->amp);
		}
	}
}

static enum racelab_kind counter_kind(const char *mode)
{
	const struct racelab_slot *slot = racelab_slot_find("counter");
	unsigned int i;

	for (i = 0; slot && i < slot->scn->nr_modes; i++)
		if (!strcmp(slot->scn->modes[i].name, mode))
			return slot->scn->modes[i].kind;
	return RACELAB_FIXED;
}

/* A sleeping amplifier inside a spinlock is refused: not a case. */
static bool counter_case_valid(const struct counter_case *c)
{
	return !(strcmp(c->mode, "spinlock") == 0 &&
		 strncmp(c->amp, "sleep", 5) == 0);
}

static const void *counter_gen(const void *prev, char *desc, bool fixed)
{
	const struct counter_case *c = prev;

	if (!c) {
		counter_cases_init();
		c = counter_cases;
	} else {
		c++;
	}
	for (; c < counter_cases + ARRAY_SIZE(counter_cases); c++) {
		if (!counter_case_valid(c))
			continue;
		if ((counter_kind(c->mode) == RACELAB_FIXED) != fixed)
			continue;
		strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
		return c;
	}
	return NULL;
}

static const void *counter_racy_gen(const void *prev, char *desc)
{
	return counter_gen(prev, desc, false);
}

static const void *counter_fixed_gen(const void *prev, char *desc)
{
	return counter_gen(prev, desc, true);
}

/* A configuration of the counter built through the knobs themselves. */
static struct racelab_cfg *counter_cfg(struct kunit *test,
				       const struct counter_case *c)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg;
	char buf[24];

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	racelab_cfg_default(cfg);
	snprintf(buf, sizeof(buf), "%lu", c->iterations);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
						 c->mode), 0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "threads",
						 "2"), 0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "iterations",
						 buf), 0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "amplifier",
						 c->amp), 0);
	return cfg;
}

static void counter_fixed_exact(struct kunit *test)
{
	const struct counter_case *c = test->param_value;
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg = counter_cfg(test, c);
	struct racelab_result *res;

	res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%u CPUs online: %s\n", num_online_cpus(), res->line);
	KUNIT_EXPECT_FALSE(test, res->aborted);
	KUNIT_EXPECT_EQ(test, res->expected, (u64)cfg->threads * c->iterations);
	KUNIT_EXPECT_EQ(test, res->observed, res->expected);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
}

static void counter_racy_shows_anomaly(struct kunit *test)
{
	const struct counter_case *c = test->param_value;
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg = counter_cfg(test, c);
	struct racelab_result *res;
	unsigned int attempts = 0;
	u64 start, elapsed_ms;

	/*
	 * No skip on one CPU: there, only a preemption between the load and
	 * the store splits the window, and racelab's window check is a branch
	 * that ends a TCG translation block, so the tick can land inside it.
	 * Measured in the lab on -smp 1 (README, "Figures").
	 */
	res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	start = ktime_get_ns();
	do {
		attempts++;
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		KUNIT_ASSERT_EQ(test, res->expected,
				(u64)cfg->threads * c->iterations);
		elapsed_ms = div_u64(ktime_get_ns() - start, NSEC_PER_MSEC);
	} while (!res->anomalies && elapsed_ms < RACY_DEADLINE_MS);

	kunit_info(test, "%u CPUs online: anomaly after %u attempt(s), %llu ms: %s\n",
		   num_online_cpus(), attempts, elapsed_ms, res->line);
	KUNIT_EXPECT_GT_MSG(test, res->anomalies, 0ULL,
			    "no anomaly in %u attempts (%llu ms)", attempts,
			    elapsed_ms);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "race");
	KUNIT_EXPECT_EQ(test, res->observed + res->anomalies, res->expected);
}

struct knob_case {
	const char *knob;
	const char *val;
	int err;
	const char *shown;	/* what the knob shows afterwards, if accepted */
};

static const struct knob_case knob_cases[] = {
	{ "mode", "none", 0, "[none] lock-per-thread" },
	{ "mode", "mutex", 0, "none lock-per-thread atomic-read-set spinlock [mutex]" },
	{ "mode", "nosuchmode", -EINVAL },
	{ "mode", "", -EINVAL },
	{ "mode", "NONE", -EINVAL },
	{ "threads", "1", 0, "1" },
	{ "threads", "64", 0, "64" },
	{ "threads", "0", -EINVAL },
	{ "threads", "65", -EINVAL },
	{ "threads", "-1", -EINVAL },
	{ "threads", "2x", -EINVAL },
	{ "threads", "99999999999999999999", -EINVAL },
	{ "iterations", "1", 0, "1" },
	{ "iterations", "1000000000", 0, "1000000000" },
	{ "iterations", "0", -EINVAL },
	{ "iterations", "1000000001", -EINVAL },
	{ "iterations", "lots", -EINVAL },
	{ "duration_ms", "0", 0, "0" },
	{ "duration_ms", "600000", 0, "600000" },
	{ "duration_ms", "600001", -EINVAL },
	{ "amplifier", "none", 0, "none" },
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

/* Each value is accepted and shown back, or refused leaving all unchanged. */
static void knob_parse(struct kunit *test)
{
	const struct knob_case *k = test->param_value;
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg, *before;
	char buf[128];
	int err;

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	KUNIT_ASSERT_NOT_NULL(test, before);
	racelab_cfg_default(cfg);
	*before = *cfg;

	err = racelab_knob_parse(slot->scn, cfg, k->knob, k->val);
	KUNIT_EXPECT_EQ(test, err, k->err);
	if (err) {
		KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
		return;
	}
	KUNIT_ASSERT_GE(test, racelab_cfg_show(slot->scn, cfg, k->knob, buf,
					       sizeof(buf)), 0);
	KUNIT_EXPECT_TRUE_MSG(test, strstr(buf, k->shown) == buf,
			      "shows \"%s\", want \"%s...\"", buf, k->shown);
}

/* Combinations are refused whichever knob is written last. */
static void knob_refuses_sleep_in_spinlock(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg, *before;

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	KUNIT_ASSERT_NOT_NULL(test, before);
	racelab_cfg_default(cfg);

	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
						 "spinlock"), 0);
	*before = *cfg;
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "amplifier",
						 "sleep"), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "amplifier",
						 "delay:100"), 0);

	racelab_cfg_default(cfg);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "amplifier",
						 "sleep"), 0);
	*before = *cfg;
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
						 "spinlock"), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
						 "mutex"), 0);
}

/* A run of a bad configuration is refused before any thread starts. */
static void run_refuses_bad_cfg(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg;
	struct racelab_result *res;

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	KUNIT_ASSERT_NOT_NULL(test, res);
	racelab_cfg_default(cfg);
	cfg->threads = 0;
	KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
	racelab_cfg_default(cfg);
	cfg->mode = slot->scn->nr_modes;
	KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
}

/* Pinning puts thread i on the i-th CPU of the list and still counts right. */
static void pinned_run_exact(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg;
	struct racelab_result *res;
	char cpus[32], want[40];

	KUNIT_ASSERT_NOT_NULL(test, slot);
	cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);
	res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cfg);
	KUNIT_ASSERT_NOT_NULL(test, res);
	racelab_cfg_default(cfg);
	snprintf(cpus, sizeof(cpus), "%*pbl", cpumask_pr_args(cpu_online_mask));
	snprintf(want, sizeof(want), " cpus=%s ", cpus);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "cpus", cpus),
			0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
						 "atomic"), 0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "threads",
						 "4"), 0);
	KUNIT_ASSERT_EQ(test, racelab_knob_parse(slot->scn, cfg, "iterations",
						 "10000"), 0);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_EXPECT_EQ(test, res->observed, 40000ULL);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, want), "%s", res->line);
}

static struct kunit_case racelab_cases[] = {
	KUNIT_CASE_PARAM(knob_parse, knob_gen_params),
	KUNIT_CASE(knob_refuses_sleep_in_spinlock),
	KUNIT_CASE(run_refuses_bad_cfg),
	KUNIT_CASE(pinned_run_exact),
	KUNIT_CASE_PARAM(counter_fixed_exact, counter_fixed_gen),
	KUNIT_CASE_PARAM(counter_racy_shows_anomaly, counter_racy_gen),
	{}
};

static struct kunit_suite racelab_suite = {
	.name = "racelab",
	.test_cases = racelab_cases,
};

kunit_test_suite(racelab_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of racelab");

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of racelab: knob parsing, and every mode of every scenario run
 * for real.
 *
 * A fixed mode must be exact in one run. A racy or broken-fix mode must show
 * its anomaly, but a race is a matter of chance: its case repeats the same
 * run until the anomaly appears or a deadline passes (the technique of
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

#include "racelab.h"

/*
 * Deadline of a racy case. The slowest time-to-first-anomaly measured on
 * the lab kernels for a case that runs is 3 s (check-then-act split-lock,
 * unamplified, 1 CPU; README, "Figures"); the deadline is over ten times
 * that. Plans slower than that on one CPU are not asked to race there.
 */
#define RACY_DEADLINE_MS	60000

/*
 * The runs every mode is held to, per scenario: each amplifier, runs of
 * PLAN_MS each (sized by time, like every default run). A fixed mode must
 * be exact in exactly the runs that show the racy ones. A racy mode is only
 * asked to show its race where the lab has shown it does (README,
 * "Figures"); racy_1cpu says whether that holds on one CPU.
 */
#define PLAN_MS		"300"

struct race_plan {
	const char *scn;
	const char *amp;
	bool racy_1cpu;
};

static const struct race_plan race_plans[] = {
	{ "counter", "auto", true },
	{ "counter", "none", true },
	{ "counter", "delay:1000", true },
	{ "counter", "sleep", true },
	{ "check-then-act", "auto", false },
	{ "check-then-act", "none", false },
	{ "check-then-act", "delay:1000", true },
	{ "check-then-act", "sleep", true },
	{ "torn-read", "auto", false },
	{ "torn-read", "none", false },	/* 1 CPU: 23 s, 43 runs */
	{ "torn-read", "delay:1000", true },
	{ "rcu-pointer", "auto", true },
	{ "rcu-pointer", "none", true },
	{ "rcu-pointer", "delay:1000", true },
	{ "rcu-list", "auto", true },
	{ "rcu-list", "none", false },	/* 1 CPU: 12 s, 109 runs */
	{ "rcu-list", "delay:1000", true },
	{ "ordering", "auto", false },
	{ "aba", "auto", true },
	{ "aba", "delay:1000", true },
	{ "false-sharing", "auto", true },
};

/* Racy modes that cannot show their race on this architecture. */
static bool race_impossible_here(const char *scn, const char *mode)
{
	if (strcmp(scn, "ordering"))
		return false;
	/* x86-TSO keeps store-store and load-load order: see mp_plain_tso. */
	if (IS_ENABLED(CONFIG_X86) && !strcmp(mode, "mp-plain"))
		return true;
	/*
	 * KCSAN's runtime around every marked access uses atomics, full
	 * barriers on x86: the store buffer drains before the load, and the
	 * SB outcome was never seen on the KCSAN kernel (49 runs, README).
	 */
	return IS_ENABLED(CONFIG_KCSAN) && !strcmp(mode, "sb-plain");
}

struct race_case {
	const struct race_plan *plan;
	const struct racelab_mode *mode;
	char desc[KUNIT_PARAM_DESC_SIZE];
};

#define RACE_CASES_MAX	256
static struct race_case race_cases[RACE_CASES_MAX];
static unsigned int nr_race_cases;

/* Every mode of every plan's scenario; refused combinations are no case. */
static void race_cases_init(void)
{
	unsigned int p, m;

	if (nr_race_cases)
		return;
	for (p = 0; p < ARRAY_SIZE(race_plans); p++) {
		const struct race_plan *plan = &race_plans[p];
		const struct racelab_slot *slot = racelab_slot_find(plan->scn);

		for (m = 0; slot && m < slot->scn->nr_modes; m++) {
			const struct racelab_mode *mode = &slot->scn->modes[m];
			struct race_case *c;

			if (!strcmp(plan->amp, "sleep") &&
			    (mode->flags & RACELAB_MODE_ATOMIC_WINDOW))
				continue;
			if (WARN_ON(nr_race_cases == RACE_CASES_MAX))
				return;
			c = &race_cases[nr_race_cases++];
			c->plan = plan;
			c->mode = mode;
			snprintf(c->desc, sizeof(c->desc), "%s/%s/%s", plan->scn,
				 mode->name, plan->amp);
		}
	}
}

static const void *race_gen(const void *prev, char *desc, bool fixed)
{
	const struct race_case *c = prev;
	bool is_fixed;

	if (!c) {
		race_cases_init();
		c = race_cases;
	} else {
		c++;
	}
	for (; c < race_cases + nr_race_cases; c++) {
		is_fixed = c->mode->kind == RACELAB_FIXED;
		if (is_fixed != fixed)
			continue;
		if (!fixed && race_impossible_here(c->plan->scn, c->mode->name))
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
				    "%s=%s", knob, val);
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

/* The case's configuration. */
static struct racelab_cfg *race_cfg(struct kunit *test,
				    const struct race_case *c)
{
	return test_cfg(test, racelab_slot_find(c->plan->scn),
			"mode", c->mode->name, "duration_ms", PLAN_MS,
			"amplifier", c->plan->amp, NULL);
}

/* Two threads that spin for each other need two CPUs. */
static void race_skip_if_needed(struct kunit *test, const struct race_case *c)
{
	if (num_online_cpus() < 2 && !strcmp(c->plan->scn, "ordering"))
		kunit_skip(test, "ordering needs 2 CPUs");
}

static void fixed_exact(struct kunit *test)
{
	const struct race_case *c = test->param_value;
	struct racelab_slot *slot = racelab_slot_find(c->plan->scn);
	struct racelab_cfg *cfg;
	struct racelab_result *res;

	race_skip_if_needed(test, c);
	cfg = race_cfg(test, c);
	res = test_result(test);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
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
	struct racelab_slot *slot = racelab_slot_find(c->plan->scn);
	struct racelab_cfg *cfg;
	struct racelab_result *res;
	unsigned int attempts = 0;
	u64 start, elapsed_ms;

	race_skip_if_needed(test, c);
	if (num_online_cpus() < 2 && !c->plan->racy_1cpu)
		kunit_skip(test, "not shown on 1 CPU with this amplifier");
	cfg = race_cfg(test, c);
	res = test_result(test);
	start = ktime_get_ns();
	do {
		attempts++;
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
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

/* The counter's expected value is exact: threads * iterations. */
static void counter_expected_exact(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", "none",
					   "threads", "3", "iterations", "20000",
					   "duration_ms", "20000", NULL);
	struct racelab_result *res = test_result(test);

	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_ASSERT_FALSE_MSG(test, res->expired, "%s", res->line);
	KUNIT_EXPECT_EQ(test, res->expected, 60000ULL);
	KUNIT_EXPECT_EQ(test, res->observed + res->anomalies, 60000ULL);
}

/* On x86 the message-passing reordering is forbidden by the hardware. */
static void mp_plain_tso(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("ordering");
	struct racelab_cfg *cfg;
	struct racelab_result *res;

	if (!IS_ENABLED(CONFIG_X86))
		kunit_skip(test, "x86-TSO only");
	if (num_online_cpus() < 2)
		kunit_skip(test, "ordering needs 2 CPUs");
	cfg = test_cfg(test, slot, "mode", "mp-plain", "duration_ms", "1000",
		       NULL);
	res = test_result(test);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%s\n", res->line);
	KUNIT_EXPECT_GT(test, res->expected, 0ULL);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
}

/* Scenario rules the generic knobs cannot know, checked at start. */
static void scenario_rules(struct kunit *test)
{
	static const struct {
		const char *scn, *knob, *val;
	} refused[] = {
		{ "ordering", "threads", "3" },
		{ "ordering", "amplifier", "delay:100" },
		{ "ordering", "cpus", "0" },
		{ "torn-read", "threads", "1" },
		{ "rcu-pointer", "threads", "1" },
		{ "rcu-list", "threads", "1" },
		{ "counter", "threads", "64" },	/* with mutex, sleep:1000 */
	};
	struct racelab_result *res = test_result(test);
	struct racelab_cfg *cfg;
	const char *why;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		struct racelab_slot *slot = racelab_slot_find(refused[i].scn);

		cfg = test_cfg(test, slot, NULL);
		if (!strcmp(refused[i].scn, "counter"))
			cfg = test_cfg(test, slot, "mode", "mutex", "amplifier",
				       "sleep:1000", NULL);
		KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg,
							 refused[i].knob,
							 refused[i].val), 0);
		KUNIT_EXPECT_EQ_MSG(test, racelab_cfg_validate(slot->scn, cfg, &why),
				    -EINVAL, "%s %s=%s", refused[i].scn,
				    refused[i].knob, refused[i].val);
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
	}
}

/*
 * The real deadlock takes two threads; with one, the lone thread waited
 * for a partner that did not exist, and neither stop nor rmmod ended it.
 */
static void real_deadlock_needs_two(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("lockdep");
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", "real-deadlock",
					   "threads", "1", NULL);
	const char *why;

	KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg, &why),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "threads", "2"),
			0);
	KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg, &why),
			IS_ENABLED(CONFIG_PROVE_LOCKING) ? 0 : -EINVAL);
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

/* A run that ends at its duration_ms ended normally: it was not stopped. */
static void deadline_is_not_stop(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", "atomic",
					   "duration_ms", "50", NULL);
	struct racelab_result *res = test_result(test);

	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%s\n", res->line);
	KUNIT_EXPECT_TRUE(test, res->expired);
	KUNIT_EXPECT_FALSE(test, res->stopped);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
	KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, " ended=deadline "));
}

/*
 * check-then-act measures check-then-act only: every take is given back
 * through an indivisible step, so each pool ends as full as it began in
 * every mode, the racy ones included, while their takes still overlap.
 */
static void check_act_pool_conserved(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("check-then-act");
	struct racelab_result *res = test_result(test);
	unsigned int m;

	for (m = 0; m < slot->scn->nr_modes; m++) {
		const char *name = slot->scn->modes[m].name;
		struct racelab_cfg *cfg = test_cfg(test, slot, "mode", name,
						   "threads", "4",
						   "amplifier", "none",
						   "duration_ms", PLAN_MS, NULL);

		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line,
						       " account_end=100 seat_end=1"),
					  "%s", res->line);
	}
}

/*
 * seqlock readers always progress, whatever the window: the writer pauses
 * for longer than a read. A clean verdict rests on enough reads, and one
 * that does not says so.
 */
static void torn_read_readers_progress(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("torn-read");
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", "seqlock",
					   "threads", "4",
					   "amplifier", "delay:100000",
					   "duration_ms", "1000", NULL);
	struct racelab_result *res = test_result(test);

	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%s\n", res->line);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
	KUNIT_EXPECT_GE(test, res->expected, 1000ULL);

	/*
	 * The same with the writer and its one reader on CPUs of their own,
	 * where nothing but the writer's pause lets a read finish: about one
	 * read per 300 us writer period, 3 s leave a tenfold margin over the
	 * 1000 reads a clean verdict needs, for a vCPU that gets a third of
	 * a host core.
	 */
	if (cpu_online(0) && cpu_online(1)) {
		cfg = test_cfg(test, slot, "mode", "seqlock", "threads", "2",
			       "cpus", "0-1", "amplifier", "delay:100000",
			       "duration_ms", "3000", NULL);
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		kunit_info(test, "%s\n", res->line);
		KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
		KUNIT_EXPECT_GE(test, res->expected, 1000ULL);
	}

	cfg = test_cfg(test, slot, "mode", "seqlock", "iterations", "1", NULL);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "inconclusive");
}

/*
 * A writer that never waited for a grace period outran slow readers: they
 * never reached the end of the list (each reader at 1 op, RCU stalled).
 */
static void rcu_list_readers_progress(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("rcu-list");
	struct racelab_cfg *cfg = test_cfg(test, slot, "mode", "rcu",
					   "threads", "4",
					   "amplifier", "delay:50000",
					   "duration_ms", "3000", NULL);
	struct racelab_result *res = test_result(test);

	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	kunit_info(test, "%s\n", res->line);
	KUNIT_EXPECT_STREQ(test, racelab_verdict_name(res), "clean");
	KUNIT_EXPECT_GE(test, res->min_thread_ops, 10ULL);
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

/* Each value is accepted and shown back, or refused leaving all unchanged. */
static void knob_parse(struct kunit *test)
{
	const struct knob_case *k = test->param_value;
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg, *before;
	char buf[128];
	int err;

	cfg = test_cfg(test, slot, NULL);
	before = test_cfg(test, slot, NULL);

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

/*
 * Rules that span knobs are checked on the whole configuration when a run
 * starts, so the order of the writes does not matter: each knob alone is
 * accepted, the combination is refused either way, and the run says so.
 */
static void rules_independent_of_order(struct kunit *test)
{
	static const char *const order[2][2] = {
		{ "mode", "amplifier" }, { "amplifier", "mode" },
	};
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_result *res = test_result(test);
	struct racelab_cfg *cfg;
	const char *why;
	unsigned int i, k;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		cfg = test_cfg(test, slot, NULL);
		for (k = 0; k < 2; k++) {
			const char *knob = order[i][k];

			KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, knob,
								 strcmp(knob, "mode") ?
								 "sleep" : "spinlock"),
					0);
		}
		KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg, &why),
				-EINVAL);
		KUNIT_EXPECT_EQ(test, racelab_run_sync(slot, cfg, res), -EINVAL);
		KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "mode",
							 "mutex"), 0);
		KUNIT_EXPECT_EQ(test, racelab_cfg_validate(slot->scn, cfg, &why),
				0);
	}
}

/* A run of a bad configuration is refused before any thread starts. */
static void run_refuses_bad_cfg(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_cfg *cfg;
	struct racelab_result *res;

	cfg = test_cfg(test, slot, NULL);
	res = test_result(test);
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
	struct racelab_result *res = test_result(test);
	char cpus[32], want[40];

	snprintf(cpus, sizeof(cpus), "%*pbl", cpumask_pr_args(cpu_online_mask));
	snprintf(want, sizeof(want), " cpus=%s ", cpus);
	cfg = test_cfg(test, slot, "cpus", cpus, "mode", "atomic",
		       "threads", "4", "iterations", "10000",
		       "duration_ms", "20000", NULL);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_ASSERT_FALSE_MSG(test, res->expired, "%s", res->line);
	KUNIT_EXPECT_EQ(test, res->observed, 40000ULL);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(res->line, want), "%s", res->line);
}

/*
 * Scripted interleavings: every interleaving of two threads' steps, replayed
 * by the conductor, against a model of the steps written here without it.
 */
struct sched_model {
	long shared;		/* counter value, or account balance */
	long local[2];		/* each thread's copy, or its check */
	long withdrawals;
};

static void sched_model_step(const char *scn, struct sched_model *m,
			     unsigned int t, char step)
{
	if (!strcmp(scn, "counter")) {
		if (step == 'R')
			m->local[t] = m->shared;
		else if (step == 'M')
			m->local[t]++;
		else
			m->shared = m->local[t];
	} else {
		if (step == 'C') {
			m->local[t] = m->shared >= 60;
		} else if (m->local[t]) {
			m->shared -= 60;
			m->withdrawals++;
		}
	}
}

/*
 * The n-th interleaving of two threads of @len steps each: bit i of @mask
 * says which thread runs step i. Returns false if @mask does not give each
 * thread exactly @len steps.
 */
static bool sched_build(const char *steps, unsigned int mask, char *buf,
			size_t size, const char *scn, struct sched_model *m)
{
	unsigned int len = strlen(steps), next[2] = {}, i;
	int n = 0;

	if (hweight32(mask) != len)
		return false;
	for (i = 0; i < 2 * len; i++) {
		unsigned int t = (mask >> i) & 1;

		n += scnprintf(buf + n, size - n, "%s%c%u", i ? " " : "",
			       steps[next[t]], t);
		sched_model_step(scn, m, t, steps[next[t]]);
		next[t]++;
	}
	return true;
}

static void schedule_all(struct kunit *test, const char *scn_name,
			 const char *steps, unsigned int want_total)
{
	struct racelab_slot *slot = racelab_slot_find(scn_name);
	unsigned int len = strlen(steps), mask, total = 0, bad = 0;
	struct racelab_result *res = test_result(test);
	char script[64];

	KUNIT_ASSERT_NOT_NULL(test, slot);
	for (mask = 0; mask < BIT(2 * len); mask++) {
		struct sched_model m = { .shared = !strcmp(scn_name, "counter") ? 0 : 100 };
		struct racelab_cfg *cfg;
		bool model_bad;

		if (!sched_build(steps, mask, script, sizeof(script), scn_name, &m))
			continue;
		total++;
		cfg = test_cfg(test, slot, "schedule", script, NULL);
		KUNIT_ASSERT_EQ_MSG(test, racelab_run_sync(slot, cfg, res), 0,
				    "%s", script);
		if (!strcmp(scn_name, "counter")) {
			model_bad = m.shared != 2;
			KUNIT_EXPECT_EQ_MSG(test, res->observed, (u64)m.shared,
					    "%s: %s", script, res->line);
		} else {
			model_bad = m.withdrawals > 1;
			KUNIT_EXPECT_EQ_MSG(test, res->observed, (u64)m.withdrawals,
					    "%s: %s", script, res->line);
		}
		KUNIT_EXPECT_EQ_MSG(test, res->anomalies > 0, model_bad, "%s: %s",
				    script, res->line);
		KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, "mode=schedule"));
		bad += model_bad;
		kunit_info(test, "%-20s -> %s\n", script,
			   res->anomalies ? "race" : "clean");
	}
	KUNIT_EXPECT_EQ(test, total, want_total);
	kunit_info(test, "%u of %u interleavings go wrong\n", bad, total);
}

/* All 20 interleavings of two read-modify-write increments. */
static void schedule_counter_all(struct kunit *test)
{
	schedule_all(test, "counter", "RMW", 20);
}

/* All 6 interleavings of two check-then-withdraw customers. */
static void schedule_check_act_all(struct kunit *test)
{
	schedule_all(test, "check-then-act", "CA", 6);
}

/* The two schedules of the issue, by name. */
static void schedule_named(struct kunit *test)
{
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_result *res = test_result(test);
	struct racelab_cfg *cfg;

	cfg = test_cfg(test, slot, "schedule", "R0 R1 M0 M1 W0 W1", NULL);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_EXPECT_EQ(test, res->observed, 1ULL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, "schedule=R0,R1,M0,M1,W0,W1"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(res->line, "value=1"));
	cfg = test_cfg(test, slot, "schedule", "R0,M0,W0,R1,M1,W1", NULL);
	KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
	KUNIT_EXPECT_EQ(test, res->observed, 2ULL);
	KUNIT_EXPECT_EQ(test, res->anomalies, 0ULL);
}

/* Bad schedules are refused and leave the configuration as it was. */
static void schedule_refused(struct kunit *test)
{
	static const char *const bad[] = {
		"R0 R1 M0 M1 W0",		/* a missing step */
		"M0 R0 W0 R1 M1 W1",		/* a thread out of its order */
		"R0 R1 M0 M1 W0 W1 W1",		/* too long, a step twice */
		"X0 R1 M0 M1 W0 W1",		/* unknown step */
		"R0 R2 M0 M2 W0 W2",		/* no thread 2 */
		"R0R1 M0 M1 W0 W1",		/* no separator */
		"R0 R1 M0 M1 W0 W1 R0 R1 M0 M1 W0 W1 R0 R1 M0 M1 W0",
		"",
	};
	struct racelab_slot *slot = racelab_slot_find("counter");
	struct racelab_slot *torn = racelab_slot_find("torn-read");
	struct racelab_cfg *cfg = test_cfg(test, slot, NULL);
	struct racelab_cfg *before = test_cfg(test, slot, NULL);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, racelab_knob_parse(slot->scn, cfg,
							     "schedule", bad[i]),
				    -EINVAL, "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ(test, memcmp(cfg, before, sizeof(*cfg)), 0);
	}
	/* A scenario without schedules has no such knob. */
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(torn->scn, cfg, "schedule",
						 "R0 R1"), -EINVAL);
	/* "none" clears a schedule. */
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "schedule",
						 "R0 M0 W0 R1 M1 W1"), 0);
	KUNIT_EXPECT_EQ(test, cfg->script.nr, 6U);
	KUNIT_EXPECT_EQ(test, racelab_knob_parse(slot->scn, cfg, "schedule",
						 "none"), 0);
	KUNIT_EXPECT_EQ(test, cfg->script.nr, 0U);
}

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
} kcsan_took[8];

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

struct kcsan_case {
	const char *scn, *mode, *amp;
	const char *duration_ms;
	const char *funcs;	/* expected in the report; NULL: no report */
};

/*
 * Plain racy accesses are data races and KCSAN names them: the accesses are
 * inlined into each mode's own noinline functions, so a report says which
 * mode it came from. split-lock,
 * atomic-read-set and seqcount-broken have none (every access is locked,
 * atomic or inside a seqlock section) and their invariant still breaks:
 * data race is a subset of race condition. Each absence case comes after
 * its scenario's reported case and watches at least as long.
 */
static const struct kcsan_case kcsan_cases[] = {
	{ "counter", "none", "none", "300", "counter_none_inc" },
	{ "counter", "atomic-read-set", "none", "300", NULL },
	{ "counter", "lock-per-thread", "none", "300",
	  "counter_lock_per_thread_inc" },
	{ "check-then-act", "none", "delay:1000", "300", "ca_none_take|ca_none_give" },
	{ "check-then-act", "split-lock", "delay:1000", "300", NULL },
	{ "torn-read", "none", "delay:1000", "300",
	  "tr_none_write|tr_none_read" },
	{ "torn-read", "seqcount-broken", "delay:1000", "300", NULL },
	{ "rcu-pointer", "in-place", "delay:1000", "300",
	  "rp_in_place_write|rp_rcu_read" },
	{ "rcu-pointer", "free-too-early", "delay:1000", "300",
	  "rp_free_too_early_poison|rp_rcu_read" },
	{ "rcu-list", "in-place", "delay:1000", "300",
	  "rl_in_place_write|rl_walk_rcu" },
};

static void kcsan_case_desc(const struct kcsan_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s %s", c->scn, c->mode,
		 c->funcs ? "reported" : "not reported");
}

KUNIT_ARRAY_PARAM(kcsan, kcsan_cases, kcsan_case_desc);

static void kcsan_expectation(struct kunit *test)
{
	const struct kcsan_case *c = test->param_value;
	struct racelab_slot *slot = racelab_slot_find(c->scn);
	struct racelab_result *res = test_result(test);
	u64 anomalies = 0, start, elapsed_ms, watch_ms;
	unsigned int runs = 0;
	char report[160] = "";
	struct racelab_cfg *cfg;
	bool seen = false;

	if (!IS_ENABLED(CONFIG_KCSAN))
		kunit_skip(test, "needs CONFIG_KCSAN");
	if (!console_tp)
		kunit_skip(test, "no console tracepoint (CONFIG_TRACEPOINTS)");
	cfg = test_cfg(test, slot, "mode", c->mode, "duration_ms",
		       c->duration_ms, "amplifier", c->amp, NULL);

	/*
	 * KCSAN samples (one watchpoint every kcsan.skip_watch accesses): a
	 * present report may take a while, and ends the watch. An absence
	 * is watched at least as long as its scenario's report took to show.
	 */
	watch_ms = c->funcs ? KCSAN_FIND_MS :
		   max_t(u64, KCSAN_WATCH_MS, kcsan_took_ms(c->scn, 0));
	kcsan_seen_clear();
	start = ktime_get_ns();
	do {
		runs++;
		KUNIT_ASSERT_EQ(test, racelab_run_sync(slot, cfg, res), 0);
		anomalies += res->anomalies;
		elapsed_ms = div_u64(ktime_get_ns() - start, NSEC_PER_MSEC);
		if (c->funcs)
			seen = kcsan_seen_match(c->funcs, report, sizeof(report));
	} while (!seen && elapsed_ms < watch_ms);
	if (seen)
		kcsan_took_ms(c->scn, max_t(u64, elapsed_ms, 1));

	kunit_info(test, "%u run(s), %llu ms, %llu anomalies: %s\n", runs,
		   elapsed_ms, anomalies, report[0] ? report : "no KCSAN report");
	if (c->funcs) {
		KUNIT_EXPECT_TRUE_MSG(test, seen, "no report naming %s in %llu ms",
				      c->funcs, elapsed_ms);
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
static int racelab_suite_init(struct kunit_suite *suite)
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

static void racelab_suite_exit(struct kunit_suite *suite)
{
	if (IS_ENABLED(CONFIG_TRACEPOINTS) && console_tp) {
		tracepoint_probe_unregister(console_tp, kcsan_probe_console, NULL);
		tracepoint_synchronize_unregister();
		console_tp = NULL;
	}
}

static struct kunit_case racelab_cases[] = {
	KUNIT_CASE_PARAM(knob_parse, knob_gen_params),
	KUNIT_CASE(rules_independent_of_order),
	KUNIT_CASE(run_refuses_bad_cfg),
	KUNIT_CASE(pinned_run_exact),
	KUNIT_CASE(scenario_rules),
	KUNIT_CASE(real_deadlock_needs_two),
	KUNIT_CASE(thread_slots_cacheline),
	KUNIT_CASE(deadline_is_not_stop),
	KUNIT_CASE(check_act_pool_conserved),
	KUNIT_CASE(torn_read_readers_progress),
	KUNIT_CASE(rcu_list_readers_progress),
	KUNIT_CASE(counter_expected_exact),
	KUNIT_CASE(mp_plain_tso),
	KUNIT_CASE(schedule_named),
	KUNIT_CASE(schedule_refused),
	KUNIT_CASE(schedule_counter_all),
	KUNIT_CASE(schedule_check_act_all),
	KUNIT_CASE_PARAM(kcsan_expectation, kcsan_gen_params),
	KUNIT_CASE_PARAM(fixed_exact, fixed_gen),
	KUNIT_CASE_PARAM(racy_shows_anomaly, racy_gen),
	{}
};

static struct kunit_suite racelab_suite = {
	.name = "racelab",
	.suite_init = racelab_suite_init,
	.suite_exit = racelab_suite_exit,
	.test_cases = racelab_cases,
};

kunit_test_suite(racelab_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of racelab");

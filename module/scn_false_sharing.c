// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "false-sharing": not a correctness race, a performance one.
 *
 * Every thread increments its own counter. `packed` puts the counters side
 * by side, so several share one cache line and every increment steals the
 * line from the other CPUs; `padded` gives each counter a cache line of its
 * own (____cacheline_aligned_in_smp). Both count exactly; compare their
 * ns_per_op. Threads are pinned to distinct CPUs by default.
 */
#include <linux/cache.h>
#include <linux/slab.h>

#include "racelab.h"

struct fs_padded {
	unsigned long count;
} ____cacheline_aligned_in_smp;

struct fs_state {
	unsigned long packed[RACELAB_MAX_THREADS];
	struct fs_padded padded[RACELAB_MAX_THREADS];
};

static struct fs_state *fs_of(struct racelab_run *run)
{
	return run->priv;
}

/* Only its own thread writes a counter: no race, just a shared line. */
static noinline void fs_inc(unsigned long *c, struct racelab_thread *t)
{
	racelab_window(t);
	WRITE_ONCE(*c, READ_ONCE(*c) + 1);
}

static bool fs_packed_step(struct racelab_run *run, struct racelab_thread *t)
{
	fs_inc(&fs_of(run)->packed[t->id], t);
	return true;
}

static bool fs_padded_step(struct racelab_run *run, struct racelab_thread *t)
{
	fs_inc(&fs_of(run)->padded[t->id].count, t);
	return true;
}

static const struct racelab_mode fs_modes[] = {
	{
		.name = "packed", .kind = RACELAB_FIXED,
		.about = "per-thread counters side by side in one cache line (slow)",
		.step = fs_packed_step,
	},
	{
		.name = "padded", .kind = RACELAB_FIXED,
		.about = "per-thread counters one cache line each",
		.step = fs_padded_step,
	},
};

static int fs_setup(struct racelab_run *run)
{
	struct fs_state *s = kzalloc(sizeof(*s), GFP_KERNEL);

	run->priv = s;
	return s ? 0 : -ENOMEM;
}

static void fs_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct fs_state *s = fs_of(run);
	bool packed = run->mode->step == fs_packed_step;
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < run->cfg.threads; i++)
		sum += packed ? s->packed[i] : s->padded[i].count;
	res->expected = res->ops;
	res->observed = sum;
	res->anomalies = sum > res->ops ? sum - res->ops : res->ops - sum;
	snprintf(res->extra, sizeof(res->extra), "layout=%s counter_bytes=%zu",
		 packed ? "packed" : "padded",
		 packed ? sizeof(s->packed[0]) : sizeof(s->padded[0]));
}

static void fs_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_false_sharing_scenario = {
	.name = "false-sharing",
	.about = "per-thread counters in one cache line versus padded",
	.flags = RACELAB_SCN_PIN,
	.modes = fs_modes,
	.nr_modes = ARRAY_SIZE(fs_modes),
	.setup = fs_setup,
	.verdict = fs_verdict,
	.teardown = fs_teardown,
};

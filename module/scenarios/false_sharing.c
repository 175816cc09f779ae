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

static unsigned long *fs_packed_counter(struct fs_state *s, unsigned int i)
{
	return &s->packed[i];
}

static unsigned long *fs_padded_counter(struct fs_state *s, unsigned int i)
{
	return &s->padded[i].count;
}

/* One layout: where thread i's counter is, and how big its slot is. */
struct fs_ops {
	unsigned long *(*counter)(struct fs_state *s, unsigned int i);
	size_t slot_bytes;
};

static bool fs_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct fs_ops *ops = run->mode->ops;

	fs_inc(ops->counter(fs_of(run), t->id), t);
	return true;
}

static const struct racelab_mode fs_modes[] = {
	{
		.name = "packed", .kind = RACELAB_FIXED,
		.about = "per-thread counters side by side in one cache line (slow)",
		.ops = &(const struct fs_ops) {
			.counter = fs_packed_counter,
			.slot_bytes = sizeof_field(struct fs_state, packed[0]),
		},
	},
	{
		.name = "padded", .kind = RACELAB_FIXED,
		.about = "per-thread counters one cache line each",
		.ops = &(const struct fs_ops) {
			.counter = fs_padded_counter,
			.slot_bytes = sizeof(struct fs_padded),
		},
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
	const struct fs_ops *ops = run->mode->ops;
	struct fs_state *s = fs_of(run);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < run->cfg.threads; i++)
		sum += *ops->counter(s, i);
	res->expected = res->ops;
	res->observed = sum;
	res->anomalies = sum > res->ops ? sum - res->ops : res->ops - sum;
	snprintf(res->extra, sizeof(res->extra), "layout=%s counter_bytes=%zu",
		 run->mode->name, ops->slot_bytes);
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
	.plans = RACELAB_PLANS({ "auto" }),
	.one_cpu_amplifier = "auto",
	.detect_amplifier = "auto",
	.demo_compare = "ns_per_op",
	.step = fs_step,
	.setup = fs_setup,
	.verdict = fs_verdict,
	.teardown = fs_teardown,
};

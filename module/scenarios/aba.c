// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "aba": a lock-free stack popped and pushed with compare-and-swap.
 *
 * The stack lives in a fixed array of nodes linked by index, so nothing is
 * ever freed. pop() reads top (A) and A's next (B), then swaps top from A
 * to B. If meanwhile another thread pops A, pops B and pushes A back, top
 * is A again and the swap succeeds, installing B, which that other thread
 * still holds:
 *
 *   thread 0                      thread 1
 *   old = top (A); nxt = A.next (B)
 *                                 pop A; pop B; push A   top = A again
 *   cmpxchg(top, A, B) succeeds   top = B, but B is thread 1's
 *
 * `tagged` packs a version counter next to the index in one 64-bit word;
 * every successful swap bumps it, so the stale swap fails.
 *
 * Each take of a node marks it owned (atomic_xchg); taking a node someone
 * already owns is a corruption. Walks are bounded by the node count: a
 * corrupted stack can form a cycle. Every run starts from a fresh stack.
 */
#include <linux/atomic.h>
#include <linux/slab.h>

#include "racelab.h"

#define ABA_NODES	8
#define ABA_EMPTY	ABA_NODES
#define ABA_IDX(w)	((u32)((w) & 0xffffffffULL))
#define ABA_TAG(w)	((u64)(w) >> 32)

struct aba_state {
	atomic_t top;		/* naive: index */
	atomic64_t ttop;	/* tagged: tag << 32 | index */
	u32 next[ABA_NODES];
	atomic_t owned[ABA_NODES];
	atomic_long_t pops;
	atomic_long_t corruptions;
	atomic_long_t empty;
};

static struct aba_state *aba_of(struct racelab_run *run)
{
	return run->priv;
}

static noinline u32 aba_naive_pop(struct aba_state *s, struct racelab_thread *t)
{
	int old = atomic_read(&s->top);
	u32 nxt;

	do {
		if (old == ABA_EMPTY || racelab_should_stop(t->run))
			return ABA_EMPTY;
		nxt = READ_ONCE(s->next[old]);
		racelab_window(t);
	} while (!atomic_try_cmpxchg(&s->top, &old, nxt));
	return old;
}

static noinline void aba_naive_push(struct aba_state *s, u32 i)
{
	int old = atomic_read(&s->top);

	do {
		WRITE_ONCE(s->next[i], old);
	} while (!atomic_try_cmpxchg(&s->top, &old, i));
}

static noinline u32 aba_tagged_pop(struct aba_state *s,
				   struct racelab_thread *t)
{
	s64 old = atomic64_read(&s->ttop);
	u32 nxt;

	do {
		if (ABA_IDX(old) == ABA_EMPTY || racelab_should_stop(t->run))
			return ABA_EMPTY;
		nxt = READ_ONCE(s->next[ABA_IDX(old)]);
		racelab_window(t);
	} while (!atomic64_try_cmpxchg(&s->ttop, &old,
				       ((ABA_TAG(old) + 1) << 32) | nxt));
	return ABA_IDX(old);
}

static noinline void aba_tagged_push(struct aba_state *s, u32 i)
{
	s64 old = atomic64_read(&s->ttop);

	do {
		WRITE_ONCE(s->next[i], ABA_IDX(old));
	} while (!atomic64_try_cmpxchg(&s->ttop, &old,
				       ((ABA_TAG(old) + 1) << 32) | i));
}

static void aba_corrupted(struct aba_state *s, struct racelab_run *run)
{
	atomic_long_inc(&s->corruptions);
	racelab_anomaly(run);
}

/* A node was handed out: nobody else may hold it. */
static bool aba_take(struct aba_state *s, struct racelab_run *run, u32 i)
{
	if (i == ABA_EMPTY) {
		atomic_long_inc(&s->empty);
		/*
		 * Nodes were lost if the threads cannot hold them all (a pop
		 * cut short by the end of the run is not one).
		 */
		if (run->cfg.threads * 2 < ABA_NODES &&
		    !racelab_should_stop(run))
			racelab_anomaly(run);
		return false;
	}
	/* A corrupted stack can hand out anything: check the index first. */
	if (i > ABA_EMPTY) {
		aba_corrupted(s, run);
		return false;
	}
	atomic_long_inc(&s->pops);
	if (atomic_xchg(&s->owned[i], 1))
		aba_corrupted(s, run);
	return true;
}

static void aba_release(struct aba_state *s, u32 i)
{
	atomic_set(&s->owned[i], 0);
}

static u32 aba_naive_top(struct aba_state *s)
{
	return atomic_read(&s->top);
}

static u32 aba_tagged_top(struct aba_state *s)
{
	return ABA_IDX(atomic64_read(&s->ttop));
}

/* One mode's stack operations. */
struct aba_ops {
	u32 (*pop)(struct aba_state *s, struct racelab_thread *t);
	void (*push)(struct aba_state *s, u32 i);
	u32 (*top)(struct aba_state *s);	/* index on top */
};

/* Pop two, push both back: the pattern that lets A come back on top. */
static bool aba_step(struct racelab_run *run, struct racelab_thread *t)
{
	const struct aba_ops *ops = run->mode->ops;
	struct aba_state *s = aba_of(run);
	u32 a = ops->pop(s, t), b = ops->pop(s, t);
	bool ha = aba_take(s, run, a), hb = aba_take(s, run, b);

	if (ha) {
		aba_release(s, a);
		ops->push(s, a);
	}
	if (hb) {
		aba_release(s, b);
		ops->push(s, b);
	}
	return true;
}

static const struct racelab_mode aba_modes[] = {
	{
		.name = "naive", .kind = RACELAB_RACY,
		.about = "cmpxchg on the top index alone: ABA corrupts the stack",
		.ops = &(const struct aba_ops) {
			.pop = aba_naive_pop, .push = aba_naive_push,
			.top = aba_naive_top,
		},
		/* Unamplified it showed once in 800000 pops on a fast host. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
	},
	{
		.name = "tagged", .kind = RACELAB_FIXED,
		.about = "cmpxchg on index + version counter in one 64-bit word",
		.ops = &(const struct aba_ops) {
			.pop = aba_tagged_pop, .push = aba_tagged_push,
			.top = aba_tagged_top,
		},
	},
};

static int aba_setup(struct racelab_run *run)
{
	struct aba_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	u32 i;

	if (!s)
		return -ENOMEM;
	/* top = 0 -> 1 -> ... -> ABA_NODES - 1 -> empty */
	for (i = 0; i < ABA_NODES; i++)
		s->next[i] = i + 1;
	atomic_set(&s->top, 0);
	atomic64_set(&s->ttop, 0);
	run->priv = s;
	return 0;
}

/* Walk the final stack, at most ABA_NODES + 1 steps: is every node there once? */
static bool aba_final_ok(struct aba_state *s, const struct aba_ops *ops,
			 unsigned int *count)
{
	u32 i = ops->top(s);
	unsigned long seen = 0;

	*count = 0;
	while (i != ABA_EMPTY) {
		if (i > ABA_EMPTY || (seen & BIT(i)) || *count > ABA_NODES)
			return false;
		seen |= BIT(i);
		(*count)++;
		i = s->next[i];
	}
	return *count == ABA_NODES;
}

static void aba_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct aba_state *s = aba_of(run);
	u64 pops = atomic_long_read(&s->pops);
	u64 bad = atomic_long_read(&s->corruptions);
	unsigned int count;
	bool ok = aba_final_ok(s, run->mode->ops, &count);

	res->expected = pops;
	res->observed = pops - min(pops, bad);
	res->anomalies = bad + !ok;
	snprintf(res->extra, sizeof(res->extra),
		 "pops=%llu corruptions=%llu empty_pops=%ld final_nodes=%u final_stack=%s",
		 pops, bad, atomic_long_read(&s->empty), count,
		 ok ? "whole" : "corrupt");
}

static void aba_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_aba_scenario = {
	.name = "aba",
	.about = "ABA on a compare-and-swap stack",
	.modes = aba_modes,
	.nr_modes = ARRAY_SIZE(aba_modes),
	.plans = RACELAB_PLANS({ "auto" }, { "delay:1000" }),
	.step = aba_step,
	.setup = aba_setup,
	.verdict = aba_verdict,
	.teardown = aba_teardown,
};

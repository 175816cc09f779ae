// SPDX-License-Identifier: GPL-2.0
/*
 * racelab quarantine: objects a broken-fix mode "frees" too early, kept
 * until RCU frees them for real.
 *
 * A mode that frees an object while readers may still hold it must show
 * the use-after-free without doing one: the object is poisoned (the
 * scenario's own, named function writes the poison, so a detector report
 * names it) and handed to call_rcu(), which frees it once every reader
 * that could hold it is gone. The writer waits while too many objects are
 * in flight, so the backlog is bounded whatever the knobs; a run that is
 * over does not wait. Correct call_rcu() modes use the same path without
 * poison, and every callback records the grace period it waited. Modes
 * that free by kfree_rcu() bound their backlog with
 * racelab_kfree_rcu_bound(), one bound for every scenario.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>

#include "racelab_core.h"

/**
 * racelab_quarantine_init() - set up an empty quarantine
 * @q:   the quarantine, in the scenario's shared state
 * @max: objects in flight at most; racelab_quarantine_wait() holds the
 *       writer there
 * @free: frees one object for real, after its grace period
 */
void racelab_quarantine_init(struct racelab_quarantine *q, unsigned int max,
			     void (*free)(struct racelab_qentry *e))
{
	q->max = max;
	q->free = free;
	atomic_long_set(&q->pending, 0);
	atomic64_set(&q->gp_ns, 0);
	atomic64_set(&q->gp_max_ns, 0);
	atomic_long_set(&q->gps, 0);
}

/**
 * racelab_quarantine_gp_seen() - record one grace-period latency
 * @q:  the quarantine
 * @ns: how long the grace period took
 */
void racelab_quarantine_gp_seen(struct racelab_quarantine *q, u64 ns)
{
	s64 max = atomic64_read(&q->gp_max_ns);

	atomic64_add(ns, &q->gp_ns);
	atomic_long_inc(&q->gps);
	while ((s64)ns > max &&
	       !atomic64_try_cmpxchg(&q->gp_max_ns, &max, ns))
		;
}

static void racelab_quarantine_cb(struct rcu_head *head)
{
	struct racelab_qentry *e = container_of(head, struct racelab_qentry,
						rcu);
	struct racelab_quarantine *q = e->q;

	racelab_quarantine_gp_seen(q, ktime_get_ns() - e->queued_ns);
	q->free(e);
	/*
	 * The last touch of @q: once pending is 0, racelab_quarantine_drain()
	 * may let the state go. Everything above happens before it.
	 */
	smp_mb__before_atomic();
	atomic_long_dec(&q->pending);
}

/**
 * racelab_quarantine_wait() - hold the writer while the backlog is full
 * @q:   the quarantine
 * @run: the run; a run that is over does not wait for grace periods
 */
void racelab_quarantine_wait(struct racelab_quarantine *q,
			     struct racelab_run *run)
{
	while (atomic_long_read(&q->pending) >= q->max &&
	       !racelab_should_stop(run))
		usleep_range(500, 1000);
}

/**
 * racelab_quarantine_put() - poison an unpublished object, free it after
 * a grace period
 * @q:      the quarantine
 * @e:      the object's entry
 * @poison: the scenario's function that poisons the object as kfree()
 *          would leave it to a reader, or NULL for a correct deferred free
 *
 * The object must already be unreachable for new readers (unpublished,
 * or deleted from its list); readers that still hold it see the poison.
 */
void racelab_quarantine_put(struct racelab_quarantine *q,
			    struct racelab_qentry *e,
			    void (*poison)(struct racelab_qentry *e))
{
	if (poison)
		poison(e);
	e->q = q;
	e->queued_ns = ktime_get_ns();
	atomic_long_inc(&q->pending);
	call_rcu(&e->rcu, racelab_quarantine_cb);
}

/**
 * racelab_quarantine_drain() - wait until every object is freed
 * @q: the quarantine
 *
 * For teardown: the callbacks point at @q. Waits only if any is pending.
 */
void racelab_quarantine_drain(struct racelab_quarantine *q)
{
	/* Pairs with smp_mb__before_atomic() in racelab_quarantine_cb(). */
	if (atomic_long_read_acquire(&q->pending))
		rcu_barrier();
}

/**
 * racelab_kfree_rcu_bound() - bound a writer's kfree_rcu() backlog
 * @since_gp: the writer's own count of kfree_rcu() calls since it waited
 *
 * Call after each kfree_rcu(): every RACELAB_KFREE_RCU_MAX calls, wait for
 * a grace period (which waits for every reader), as the quarantine holds
 * a writer at its max.
 */
void racelab_kfree_rcu_bound(unsigned int *since_gp)
{
	if (++*since_gp < RACELAB_KFREE_RCU_MAX)
		return;
	*since_gp = 0;
	synchronize_rcu();
}

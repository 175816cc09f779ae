// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "torn-read": a transfer read half-way.
 *
 * Thread 0 moves money between accounts, one debit and one credit; the
 * other threads sum all accounts. The total never changes, but a reader
 * that runs between the debit and the credit sees money missing:
 *
 *   writer                     reader
 *   acct[0] -= 10;
 *                              sum = acct[0] + acct[1]    total - 10
 *   acct[1] += 10;
 *
 * `seqcount-broken` begins a seqlock read section and never asks
 * read_seqretry() whether it must retry: the writer is correct, the reader
 * sees torn sums, and KCSAN (which trusts the seqlock section) says nothing.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "racelab.h"

#define TR_ACCOUNTS	4
#define TR_TOTAL	(TR_ACCOUNTS * 1000L)
#define TR_MAX_RETRIES	1000	/* a seqlock reader gives up after this */
#define TR_PACE_NS	500	/* writer pause between transfers */

struct tr_state {
	long acct[TR_ACCOUNTS];
	spinlock_t lock;	/* mode spinlock */
	rwlock_t rwlock;	/* mode rwlock */
	seqlock_t seqlock;	/* modes seqlock and seqcount-broken */
	atomic_long_t reads;
	atomic_long_t torn;
	atomic_long_t retries;
	atomic_long_t gave_up;
	atomic_long_t transfers;
};

static struct tr_state *tr_of(struct racelab_run *run)
{
	return run->priv;
}

/* Move 10 from one account to the next, with the window between. */
static __always_inline void tr_move(struct tr_state *s, struct racelab_thread *t)
{
	unsigned long n = t->ops;
	int from = n % TR_ACCOUNTS, to = (n + 1) % TR_ACCOUNTS;

	s->acct[from] -= 10;
	racelab_window(t);
	s->acct[to] += 10;
}

static __always_inline long tr_sum(struct tr_state *s, struct racelab_thread *t)
{
	long sum = s->acct[0];
	int i;

	racelab_window(t);
	for (i = 1; i < TR_ACCOUNTS; i++)
		sum += s->acct[i];
	return sum;
}

static void tr_check(struct tr_state *s, long sum)
{
	atomic_long_inc(&s->reads);
	if (sum != TR_TOTAL)
		atomic_long_inc(&s->torn);
}

/* The writer paces itself so that readers are not starved. */
static bool tr_wrote(struct racelab_run *run)
{
	atomic_long_inc(&tr_of(run)->transfers);
	ndelay(TR_PACE_NS);
	return racelab_others_live(run);
}

static noinline void tr_none_write(struct tr_state *s, struct racelab_thread *t)
{
	tr_move(s, t);
}

static noinline long tr_none_read(struct tr_state *s, struct racelab_thread *t)
{
	return tr_sum(s, t);
}

static bool tr_none_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct tr_state *s = tr_of(run);

	if (t->id == 0) {
		tr_none_write(s, t);
		return tr_wrote(run);
	}
	tr_check(s, tr_none_read(s, t));
	return true;
}

static bool tr_spinlock_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct tr_state *s = tr_of(run);
	long sum = 0;

	spin_lock(&s->lock);
	if (t->id == 0)
		tr_move(s, t);
	else
		sum = tr_sum(s, t);
	spin_unlock(&s->lock);
	if (t->id == 0)
		return tr_wrote(run);
	tr_check(s, sum);
	return true;
}

static bool tr_rwlock_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct tr_state *s = tr_of(run);
	long sum;

	if (t->id == 0) {
		write_lock(&s->rwlock);
		tr_move(s, t);
		write_unlock(&s->rwlock);
		return tr_wrote(run);
	}
	read_lock(&s->rwlock);
	sum = tr_sum(s, t);
	read_unlock(&s->rwlock);
	tr_check(s, sum);
	return true;
}

static void tr_seq_write(struct tr_state *s, struct racelab_thread *t)
{
	write_seqlock(&s->seqlock);
	tr_move(s, t);
	write_sequnlock(&s->seqlock);
}

static bool tr_seqlock_step(struct racelab_run *run, struct racelab_thread *t)
{
	struct tr_state *s = tr_of(run);
	unsigned int seq, tries = 0;
	long sum;

	if (t->id == 0) {
		tr_seq_write(s, t);
		return tr_wrote(run);
	}
	do {
		if (tries++ == TR_MAX_RETRIES) {
			atomic_long_inc(&s->gave_up);
			return true;
		}
		seq = read_seqbegin(&s->seqlock);
		sum = tr_sum(s, t);
	} while (read_seqretry(&s->seqlock, seq));
	atomic_long_add(tries - 1, &s->retries);
	tr_check(s, sum);
	return true;
}

static noinline long tr_seqcount_broken_read(struct tr_state *s,
					     struct racelab_thread *t)
{
	/* The sequence is read, and never checked again. */
	read_seqbegin(&s->seqlock);
	return tr_sum(s, t);
}

static bool tr_seqcount_broken_step(struct racelab_run *run,
				    struct racelab_thread *t)
{
	struct tr_state *s = tr_of(run);

	if (t->id == 0) {
		tr_seq_write(s, t);
		return tr_wrote(run);
	}
	tr_check(s, tr_seqcount_broken_read(s, t));
	return true;
}

static const struct racelab_mode tr_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "writer debits then credits, readers sum, all plain",
		.step = tr_none_step,
	},
	{
		.name = "seqcount-broken", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "read_seqbegin() without read_seqretry(): KCSAN silent, sums torn",
		.step = tr_seqcount_broken_step,
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "writer and readers take one spinlock",
		.step = tr_spinlock_step,
	},
	{
		.name = "rwlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "readers share a rwlock, the writer excludes them",
		.step = tr_rwlock_step,
	},
	{
		.name = "seqlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "seqlock_t: readers retry while a write was in flight",
		.step = tr_seqlock_step,
	},
};

static int tr_validate(const struct racelab_cfg *cfg)
{
	return cfg->threads >= 2 ? 0 : -EINVAL;	/* a writer and a reader */
}

static int tr_setup(struct racelab_run *run)
{
	struct tr_state *s;
	int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < TR_ACCOUNTS; i++)
		s->acct[i] = TR_TOTAL / TR_ACCOUNTS;
	spin_lock_init(&s->lock);
	rwlock_init(&s->rwlock);
	seqlock_init(&s->seqlock);
	run->priv = s;
	return 0;
}

static void tr_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct tr_state *s = tr_of(run);
	u64 reads = atomic_long_read(&s->reads);
	u64 torn = atomic_long_read(&s->torn);
	u64 retries = atomic_long_read(&s->retries);

	res->expected = reads;
	res->observed = reads - torn;
	res->anomalies = torn;
	snprintf(res->extra, sizeof(res->extra),
		 "reads=%llu torn=%llu transfers=%ld retries=%llu retries_per_1000_reads=%llu gave_up=%ld",
		 reads, torn, atomic_long_read(&s->transfers), retries,
		 reads ? div64_u64(retries * 1000, reads) : 0,
		 atomic_long_read(&s->gave_up));
}

static void tr_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_torn_read_scenario = {
	.name = "torn-read",
	.about = "a transfer between accounts read half-way",
	.flags = RACELAB_SCN_WRITER0,
	.modes = tr_modes,
	.nr_modes = ARRAY_SIZE(tr_modes),
	.validate = tr_validate,
	.setup = tr_setup,
	.verdict = tr_verdict,
	.teardown = tr_teardown,
};

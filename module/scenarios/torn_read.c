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
#define TR_MIN_READS	1000	/* fewer reads than this prove no clean verdict */

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

static void tr_check(struct racelab_run *run, long sum)
{
	struct tr_state *s = tr_of(run);

	atomic_long_inc(&s->reads);
	if (sum != TR_TOTAL) {
		atomic_long_inc(&s->torn);
		racelab_anomaly(run);
	}
}

/*
 * The writer pauses between transfers for longer than two read windows,
 * so that a reader that must not overlap a write (seqlock) always finds a
 * gap, whatever the amplifier: readers always progress. It can always go
 * on: when to stop, once the readers are done, is the runner's rule.
 */
static bool tr_wrote(struct racelab_run *run)
{
	unsigned long pace = TR_PACE_NS;

	if (run->cfg.amp == RACELAB_AMP_DELAY)
		pace += 2UL * run->cfg.amp_arg;
	atomic_long_inc(&tr_of(run)->transfers);
	ndelay(pace);
	return true;
}

static noinline void tr_none_write(struct tr_state *s, struct racelab_thread *t)
{
	tr_move(s, t);
}

static noinline long tr_none_read(struct tr_state *s, struct racelab_thread *t)
{
	return tr_sum(s, t);
}

static void tr_spinlock_write(struct tr_state *s, struct racelab_thread *t)
{
	spin_lock(&s->lock);
	tr_move(s, t);
	spin_unlock(&s->lock);
}

static long tr_spinlock_read(struct tr_state *s, struct racelab_thread *t)
{
	long sum;

	spin_lock(&s->lock);
	sum = tr_sum(s, t);
	spin_unlock(&s->lock);
	return sum;
}

static void tr_rwlock_write(struct tr_state *s, struct racelab_thread *t)
{
	write_lock(&s->rwlock);
	tr_move(s, t);
	write_unlock(&s->rwlock);
}

static long tr_rwlock_read(struct tr_state *s, struct racelab_thread *t)
{
	long sum;

	read_lock(&s->rwlock);
	sum = tr_sum(s, t);
	read_unlock(&s->rwlock);
	return sum;
}

static void tr_seq_write(struct tr_state *s, struct racelab_thread *t)
{
	write_seqlock(&s->seqlock);
	tr_move(s, t);
	write_sequnlock(&s->seqlock);
}

/* Retry while a write was in flight; give up (counted) after too many. */
static long tr_seqlock_read(struct tr_state *s, struct racelab_thread *t)
{
	unsigned int seq, tries = 0;
	long sum;

	do {
		if (racelab_should_stop(t->run))
			return LONG_MIN;	/* the run is over: no read */
		if (tries++ == TR_MAX_RETRIES) {
			atomic_long_inc(&s->gave_up);
			return LONG_MIN;
		}
		seq = read_seqbegin(&s->seqlock);
		sum = tr_sum(s, t);
	} while (read_seqretry(&s->seqlock, seq));
	atomic_long_add(tries - 1, &s->retries);
	return sum;
}

static noinline long tr_seqcount_broken_read(struct tr_state *s,
					     struct racelab_thread *t)
{
	/* The sequence is read, and never checked again. */
	read_seqbegin(&s->seqlock);
	return tr_sum(s, t);
}

/* One mode's transfer and sum. A sum of LONG_MIN is a read given up. */
struct tr_ops {
	void (*write)(struct tr_state *s, struct racelab_thread *t);
	long (*read)(struct tr_state *s, struct racelab_thread *t);
};

/* A reader sums the accounts; a sum of LONG_MIN is a read given up. */
static bool tr_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct tr_ops *ops = run->mode->ops;
	long sum = ops->read(tr_of(run), t);

	if (sum != LONG_MIN)
		tr_check(run, sum);
	return true;
}

/* The writer transfers, then pauses (tr_wrote()). */
static bool tr_write(struct racelab_run *run, struct racelab_thread *t)
{
	const struct tr_ops *ops = run->mode->ops;

	ops->write(tr_of(run), t);
	return tr_wrote(run);
}

static const struct racelab_mode tr_modes[] = {
	{
		.name = "none", .kind = RACELAB_RACY,
		.about = "writer debits then credits, readers sum, all plain",
		.ops = &(const struct tr_ops) {
			.write = tr_none_write, .read = tr_none_read,
		},
		.expect[RACELAB_KCSAN] = {
			.says = RACELAB_REPORTS,
			.names = "tr_none_write|tr_none_read",
		},
	},
	{
		.name = "seqcount-broken", .kind = RACELAB_BROKEN_FIX,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "read_seqbegin() without read_seqretry(): KCSAN silent, sums torn",
		.ops = &(const struct tr_ops) {
			.write = tr_seq_write, .read = tr_seqcount_broken_read,
		},
		/* It tears only when a write starts mid-read: widen the read. */
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	{
		.name = "spinlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW | RACELAB_MODE_SERIAL_WINDOW,
		.about = "writer and readers take one spinlock",
		.ops = &(const struct tr_ops) {
			.write = tr_spinlock_write, .read = tr_spinlock_read,
		},
	},
	{
		.name = "rwlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "readers share a rwlock, the writer excludes them",
		.ops = &(const struct tr_ops) {
			.write = tr_rwlock_write, .read = tr_rwlock_read,
		},
	},
	{
		.name = "seqlock", .kind = RACELAB_FIXED,
		.flags = RACELAB_MODE_ATOMIC_WINDOW,
		.about = "seqlock_t: readers retry while a write was in flight",
		.ops = &(const struct tr_ops) {
			.write = tr_seq_write, .read = tr_seqlock_read,
		},
	},
};

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

	u64 gave_up = atomic_long_read(&s->gave_up);

	res->expected = reads;
	res->observed = reads - torn;
	res->anomalies = torn;
	/* No torn sum in a handful of reads, or in starved ones, proves nothing. */
	res->inconclusive = gave_up * 10 > reads;
	snprintf(res->extra, sizeof(res->extra),
		 "reads=%llu torn=%llu transfers=%ld retries=%llu retries_per_1000_reads=%llu gave_up=%llu min_reads=%d",
		 reads, torn, atomic_long_read(&s->transfers), retries,
		 reads ? div64_u64(retries * 1000, reads) : 0, gave_up,
		 TR_MIN_READS);
}

static void tr_teardown(struct racelab_run *run)
{
	kfree(run->priv);
	run->priv = NULL;
}

const struct racelab_scenario racelab_torn_read_scenario = {
	.name = "torn-read",
	.about = "a transfer between accounts read half-way",
	.modes = tr_modes,
	.nr_modes = ARRAY_SIZE(tr_modes),
	/* A clean verdict rests on this many reads at least. */
	.min_expected = TR_MIN_READS,
	/* Unamplified on one CPU: 23 s, 43 runs to show (README, Figures). */
	.plans = RACELAB_PLANS({ "none", .racy_cpus = 2 }, { "delay:1000" }),
	.read = tr_read,
	.write = tr_write,
	.setup = tr_setup,
	.verdict = tr_verdict,
	.teardown = tr_teardown,
};

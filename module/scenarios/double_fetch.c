// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario "double-fetch": a handler that reads a request from user memory
 * twice. The bug class of many CVEs (CVE-2016-6480, in aacraid's ioctl).
 *
 * A request is { u32 len; u8 payload[DF_MAX] }. The handler reads len,
 * checks it, then copies the whole request and uses the len of that copy.
 * User memory belongs to user space, which may change it in between:
 *
 *   handler                        another user thread
 *   get_user(len): 16; 16 <= 64
 *                                  req->len = 4096
 *   copy_from_user(&k, req)
 *   use k.len: 4096               <- a length nobody validated
 *
 * Fetch once into kernel memory, then validate what was fetched, and the
 * window is gone: whatever user space does, the handler uses what it
 * checked.
 *
 * The race runs two ways. From user space, through racelab/double-fetch/
 * request (selftests/racelab/racelab_double_fetch: one thread submits,
 * another flips the length), during a run: the run's verdict counts the
 * requests of that run. And by the run's own kthreads, so that KUnit and
 * the demo see it: thread 0 flips the length of a request in kernel
 * memory, standing in for user memory, and the other threads submit it.
 *
 * Every use of a length that was not the validated one is counted; the
 * handler never copies out of bounds even then: the used length is
 * clamped to the buffer, a safety net the real bug did not have.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "racelab.h"

#define DF_MAX		64	/* longest payload a request may carry */
#define DF_SMALL	16	/* the flipper's valid length */
#define DF_LARGE	4096	/* and its invalid one */

struct df_req {
	u32 len;
	u8 payload[DF_MAX];
};

/* Where a request comes from: user memory, or the kthreads' stand-in. */
struct df_src {
	const struct df_req __user *user;
	const struct df_req *kernel;
};

/* Counts of one way of submitting. */
struct df_counts {
	atomic_long_t requests;		/* validated and handled */
	atomic_long_t rejected;		/* refused by the validation */
	atomic_long_t refused;		/* mode compare: changed under it */
	atomic_long_t unvalidated;	/* used a length never validated */
	/* The run that hears of the first one: the kernel path's only. */
	struct racelab_run *run;
};

/*
 * The user path outlives runs: a request may come at any time. A run
 * publishes a counter object of its own, with its mode and window; a
 * request takes a reference to the one published when it starts and counts
 * into it alone, however long it stays in flight (a page fault in
 * copy_from_user(), preemption). Outside a run it gets -EAGAIN.
 */
struct df_user_run {
	struct kref ref;
	unsigned int mode;	/* index in df_modes */
	unsigned int delay_ns;	/* the run's window */
	struct df_counts c;
	struct rcu_head rcu;
};

static struct df_user_run __rcu *df_user_cur;
static DEFINE_SPINLOCK(df_user_lock);	/* publishes df_user_cur */

static void df_user_release(struct kref *ref)
{
	kfree_rcu(container_of(ref, struct df_user_run, ref), rcu);
}

struct df_state {
	struct df_req req;	/* the kthreads' "user memory" */
	struct df_counts k;	/* the kthreads' requests */
	struct df_user_run *user;	/* this run's user requests */
	atomic_long_t flips;
};

/* The first fetch: the length alone. */
static int df_fetch_len(const struct df_src *src, u32 *len)
{
	if (src->user)
		return get_user(*len, &src->user->len);
	*len = READ_ONCE(src->kernel->len);
	return 0;
}

/* A fetch of the whole request. The payload never changes: len is marked. */
static int df_fetch_req(const struct df_src *src, struct df_req *k)
{
	if (src->user)
		return copy_from_user(k, src->user, sizeof(*k)) ? -EFAULT : 0;
	k->len = READ_ONCE(src->kernel->len);
	memcpy(k->payload, src->kernel->payload, sizeof(k->payload));
	return 0;
}

/* The work of a request: a sum over its payload, at most the buffer. */
static u32 df_use(struct df_counts *c, const struct df_req *k, u32 checked)
{
	u32 i, n = min_t(u32, k->len, DF_MAX), sum = 0;

	atomic_long_inc(&c->requests);
	if (k->len != checked) {
		atomic_long_inc(&c->unvalidated);
		if (c->run)
			racelab_anomaly(c->run);
	}
	for (i = 0; i < n; i++)
		sum += k->payload[i];
	return sum;
}

/* A mode's handler; the window is between the check and the second fetch. */
struct df_ops {
	int (*handle)(const struct df_src *src, struct df_counts *c,
		      void (*window)(void *arg), void *arg);
};

/* Is @len within the buffer? A rejected request is counted. */
static int df_validate(struct df_counts *c, u32 len)
{
	if (len <= DF_MAX)
		return 0;
	atomic_long_inc(&c->rejected);
	return -EINVAL;
}

/*
 * The double fetch: len into @len, validated, the window, then the whole
 * request into @k, whose len may no longer be the one validated.
 */
static int df_fetch_twice(const struct df_src *src, struct df_counts *c,
			  void (*window)(void *arg), void *arg, u32 *len,
			  struct df_req *k)
{
	int ret;

	if (df_fetch_len(src, len))
		return -EFAULT;
	ret = df_validate(c, *len);
	if (ret)
		return ret;
	window(arg);
	return df_fetch_req(src, k);
}

/* Fetch len, validate it, copy the request again, use the copy's len. */
static noinline int df_twice_handle(const struct df_src *src,
				    struct df_counts *c,
				    void (*window)(void *arg), void *arg)
{
	struct df_req k;
	u32 len;
	int ret;

	ret = df_fetch_twice(src, c, window, arg, &len, &k);
	if (ret)
		return ret;
	df_use(c, &k, len);
	return 0;
}

/*
 * Looks fixed: the check is repeated after the second fetch, but on the
 * variable of the first one, so it checks what was already checked.
 */
static noinline int df_stale_handle(const struct df_src *src,
				    struct df_counts *c,
				    void (*window)(void *arg), void *arg)
{
	struct df_req k;
	u32 len;
	int ret;

	ret = df_fetch_twice(src, c, window, arg, &len, &k);
	if (ret)
		return ret;
	ret = df_validate(c, len);	/* again: on the stale copy */
	if (ret)
		return ret;
	df_use(c, &k, len);
	return 0;
}

/* One copy into kernel memory, then validate the copy, then use it. */
static noinline int df_once_handle(const struct df_src *src,
				   struct df_counts *c,
				   void (*window)(void *arg), void *arg)
{
	struct df_req k;
	int ret;

	if (df_fetch_req(src, &k))
		return -EFAULT;
	window(arg);
	ret = df_validate(c, k.len);
	if (ret)
		return ret;
	df_use(c, &k, k.len);
	return 0;
}

/* Two fetches, and a request whose length changed in between is refused. */
static noinline int df_compare_handle(const struct df_src *src,
				      struct df_counts *c,
				      void (*window)(void *arg), void *arg)
{
	struct df_req k;
	u32 len;
	int ret;

	ret = df_fetch_twice(src, c, window, arg, &len, &k);
	if (ret)
		return ret;
	if (k.len != len) {
		atomic_long_inc(&c->refused);
		return -EINVAL;
	}
	df_use(c, &k, len);
	return 0;
}

enum { DF_TWICE, DF_STALE, DF_ONCE, DF_COMPARE };

static const struct df_ops df_mode_ops[] = {
	[DF_TWICE] = { df_twice_handle },
	[DF_STALE] = { df_stale_handle },
	[DF_ONCE] = { df_once_handle },
	[DF_COMPARE] = { df_compare_handle },
};

static const struct racelab_mode df_modes[] = {
	[DF_TWICE] = {
		.name = "double-fetch", .kind = RACELAB_RACY,
		.about = "get_user(len), validate, copy_from_user(), use the copy's len",
		.ops = &df_mode_ops[DF_TWICE],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	[DF_STALE] = {
		.name = "recheck-stale", .kind = RACELAB_BROKEN_FIX,
		.about = "validates again after the copy, but the first fetch's len",
		.ops = &df_mode_ops[DF_STALE],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
		.expect[RACELAB_KCSAN] = { .says = RACELAB_SILENT },
	},
	[DF_ONCE] = {
		.name = "copy-once", .kind = RACELAB_FIXED,
		.about = "one copy_from_user() into kernel memory, then validate it",
		.ops = &df_mode_ops[DF_ONCE],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
	},
	[DF_COMPARE] = {
		.name = "compare", .kind = RACELAB_FIXED,
		.about = "two fetches, and -EINVAL if the length changed between them",
		.ops = &df_mode_ops[DF_COMPARE],
		.auto_amp = RACELAB_AMP_DELAY, .auto_arg = 1000,
	},
};

static void df_thread_window(void *arg)
{
	racelab_window(arg);
}

static void df_user_window(void *arg)
{
	unsigned int ns = *(unsigned int *)arg;

	if (ns)
		ndelay(ns);
}

/* racelab/double-fetch/request: write one struct df_req, get its verdict. */
static ssize_t df_request_write(struct file *file, const char __user *buf,
				size_t count, loff_t *ppos)
{
	struct df_src src = { .user = (const struct df_req __user *)buf };
	struct df_user_run *u;
	int ret;

	if (count != sizeof(struct df_req))
		return -EINVAL;
	rcu_read_lock();
	u = rcu_dereference(df_user_cur);
	if (u && !kref_get_unless_zero(&u->ref))
		u = NULL;
	rcu_read_unlock();
	if (!u)
		return -EAGAIN;
	ret = df_mode_ops[u->mode].handle(&src, &u->c, df_user_window,
					  &u->delay_ns);
	kref_put(&u->ref, df_user_release);
	return ret ? ret : count;
}

static const struct file_operations df_request_fops = {
	.owner = THIS_MODULE,
	.write = df_request_write,
};

static const struct racelab_file df_files[] = {
	{ "request", 0200, &df_request_fops,
	  "write one request { u32 len; u8 payload[64] } during a run" },
	{ NULL }
};

/* The flipper: the request's length, valid and not, as fast as it goes. */
static bool df_write(struct racelab_run *run, struct racelab_thread *t)
{
	struct df_state *s = run->priv;

	WRITE_ONCE(s->req.len, DF_LARGE);
	WRITE_ONCE(s->req.len, DF_SMALL);
	atomic_long_inc(&s->flips);
	return racelab_others_live(run);
}

static bool df_read(struct racelab_run *run, struct racelab_thread *t)
{
	const struct df_ops *ops = run->mode->ops;
	struct df_state *s = run->priv;
	struct df_src src = { .kernel = &s->req };

	ops->handle(&src, &s->k, df_thread_window, t);
	return true;
}

static int df_setup(struct racelab_run *run)
{
	struct df_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	struct df_user_run *u = kzalloc(sizeof(*u), GFP_KERNEL);
	unsigned int i, arg = 0;

	if (!s || !u) {
		kfree(s);
		kfree(u);
		return -ENOMEM;
	}
	s->req.len = DF_SMALL;
	s->k.run = run;
	for (i = 0; i < DF_MAX; i++)
		s->req.payload[i] = i;
	kref_init(&u->ref);		/* the run's own reference */
	u->mode = run->mode - df_modes;
	if (racelab_mode_amp(run->mode, &run->cfg, &arg) == RACELAB_AMP_DELAY)
		u->delay_ns = arg;
	s->user = u;
	kref_get(&u->ref);		/* and the published one */
	spin_lock(&df_user_lock);
	u = rcu_replace_pointer(df_user_cur, u, lockdep_is_held(&df_user_lock));
	spin_unlock(&df_user_lock);
	if (u)		/* never: one run of a scenario at a time */
		kref_put(&u->ref, df_user_release);
	run->priv = s;
	return 0;
}

static void df_verdict(struct racelab_run *run, struct racelab_result *res)
{
	struct df_state *s = run->priv;
	struct df_counts *uc = &s->user->c;
	/* Requests may still be in flight: their bad count first. */
	long ubad = atomic_long_read(&uc->unvalidated);
	long ureq = atomic_long_read(&uc->requests);
	long kreq = atomic_long_read(&s->k.requests);
	long kbad = atomic_long_read(&s->k.unvalidated);

	res->expected = kreq + ureq;
	res->anomalies = kbad + ubad;
	res->observed = res->expected - min(res->expected, res->anomalies);
	snprintf(res->extra, sizeof(res->extra),
		 "requests=%ld unvalidated=%ld rejected=%ld refused=%ld user_requests=%ld user_unvalidated=%ld user_rejected=%ld user_refused=%ld flips=%ld",
		 kreq, kbad, atomic_long_read(&s->k.rejected),
		 atomic_long_read(&s->k.refused), ureq, ubad,
		 atomic_long_read(&uc->rejected), atomic_long_read(&uc->refused),
		 atomic_long_read(&s->flips));
}

static void df_teardown(struct racelab_run *run)
{
	struct df_state *s = run->priv;
	struct df_user_run *u;

	if (!s)
		return;
	spin_lock(&df_user_lock);
	u = rcu_dereference_protected(df_user_cur,
				      lockdep_is_held(&df_user_lock));
	if (u == s->user)
		RCU_INIT_POINTER(df_user_cur, NULL);
	else
		u = NULL;
	spin_unlock(&df_user_lock);
	if (u)		/* the published reference */
		kref_put(&u->ref, df_user_release);
	/* Requests still in flight hold theirs: the last one frees it. */
	kref_put(&s->user->ref, df_user_release);
	kfree(s);
	run->priv = NULL;
}

const struct racelab_scenario racelab_double_fetch_scenario = {
	.name = "double-fetch",
	.about = "a request read twice from user memory: the length used is not the one checked",
	.modes = df_modes,
	.nr_modes = ARRAY_SIZE(df_modes),
	.read = df_read,
	.write = df_write,
	.files = df_files,
	.plans = RACELAB_PLANS({ "delay:1000", 0, 2 }),
	.setup = df_setup,
	.verdict = df_verdict,
	.teardown = df_teardown,
};

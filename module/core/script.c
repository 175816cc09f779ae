// SPDX-License-Identifier: GPL-2.0
/*
 * racelab scripted interleavings: replay one exact schedule.
 *
 * A schedule such as "R0 R1 M0 M1 W0 W1" names, in order, which thread runs
 * which step. Two kthreads each wait for their turn, run one step, and pass
 * the turn on: the outcome no longer depends on chance, so a heisenbug
 * becomes a deterministic test. A scenario that supports schedules gives
 * the letters of one thread's steps, in order ("RMW" for counter++), and
 * runs each step on its own state.
 */
#define pr_fmt(fmt) "racelab: " fmt

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>

#include "racelab_core.h"

#define RACELAB_STEP_TIMEOUT	(2 * HZ)	/* one step may wait this long */

/**
 * racelab_script_parse() - parse and check a schedule
 * @ops: the scenario's script operations
 * @val: the schedule, steps like "R0" separated by spaces or commas
 * @out: the parsed schedule; left unchanged on error
 *
 * Every thread (0 and 1) must run each of its steps exactly once, in the
 * scenario's order. Unknown steps, steps out of a thread's own order,
 * missing steps or a schedule too long are refused, and so is every
 * schedule of a scenario with more than RACELAB_SCRIPT_STEPS steps: two
 * threads could not run them all within RACELAB_SCRIPT_MAX.
 *
 * Return: 0 or -EINVAL.
 */
int racelab_script_parse(const struct racelab_script_ops *ops, const char *val,
			 struct racelab_script *out)
{
	unsigned int len = strlen(ops->steps), next[RACELAB_SCRIPT_THREADS] = {};
	struct racelab_script s = {};
	const char *p = val;
	unsigned int i;

	if (!len || len > RACELAB_SCRIPT_STEPS)
		return -EINVAL;
	while (*p) {
		const char *at;

		if (*p == ' ' || *p == ',') {
			p++;
			continue;
		}
		if (s.nr == RACELAB_SCRIPT_MAX || !p[1] ||
		    p[1] < '0' || p[1] >= '0' + RACELAB_SCRIPT_THREADS ||
		    (p[2] && p[2] != ' ' && p[2] != ','))
			return -EINVAL;
		at = strchr(ops->steps, p[0]);
		i = p[1] - '0';
		/* A thread's steps in its own order, each once. */
		if (!at || next[i] >= len || ops->steps[next[i]] != p[0])
			return -EINVAL;
		next[i]++;
		s.thread[s.nr] = i;
		s.step[s.nr] = p[0];
		s.nr++;
		p += 2;
	}
	for (i = 0; i < RACELAB_SCRIPT_THREADS; i++)
		if (next[i] != len)
			return -EINVAL;
	*out = s;
	return 0;
}
EXPORT_SYMBOL_GPL(racelab_script_parse);

/**
 * racelab_script_show() - format a schedule, steps separated by spaces
 * @s:   the schedule
 * @buf: output
 * @len: size of @buf
 * @sep: separator between steps
 *
 * Return: characters written ("none" for an empty schedule).
 */
int racelab_script_show(const struct racelab_script *s, char *buf, size_t len,
			char sep)
{
	unsigned int i;
	int n = 0;

	if (!s->nr)
		return scnprintf(buf, len, "none");
	for (i = 0; i < s->nr; i++) {
		if (i && n < len - 1)
			buf[n++] = sep;
		n += scnprintf(buf + n, len - n, "%c%u", s->step[i],
			       s->thread[i]);
	}
	return n;
}

struct racelab_conductor;

struct racelab_player {
	struct racelab_conductor *c;
	unsigned int id;
	struct task_struct *task;
	int err;
};

struct racelab_conductor {
	const struct racelab_script *script;
	const struct racelab_script_ops *ops;
	struct racelab_run *run;
	unsigned int turn;	/* index of the step allowed to run next */
	bool stop;
	wait_queue_head_t wq;
	struct racelab_player player[RACELAB_SCRIPT_THREADS];
};

static int racelab_script_thread(void *arg)
{
	struct racelab_player *pl = arg;
	struct racelab_conductor *c = pl->c;
	unsigned int me = pl->id, k;

	for (k = 0; k < c->script->nr; k++) {
		if (c->script->thread[k] != me)
			continue;
		/* Pairs with the smp_store_release() that hands the turn on. */
		if (!wait_event_timeout(c->wq, smp_load_acquire(&c->turn) == k ||
					READ_ONCE(c->stop), RACELAB_STEP_TIMEOUT) ||
		    READ_ONCE(c->stop)) {
			pl->err = -ETIMEDOUT;
			break;
		}
		c->ops->exec(c->run, me, c->script->step[k]);
		/* This step's effects are visible to whoever runs the next. */
		smp_store_release(&c->turn, k + 1);
		wake_up_all(&c->wq);
	}
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/**
 * racelab_script_run() - run a schedule to its end under a conductor
 * @name:   scenario name, for the threads' names
 * @script: the schedule, from racelab_script_parse()
 * @ops:    the scenario's script operations
 * @run:    the run, its scenario state set up
 *
 * Return: 0, -ETIMEDOUT if a step did not come (the threads are stopped,
 * nothing hangs), or another negative errno.
 */
int racelab_script_run(const char *name, const struct racelab_script *script,
		       const struct racelab_script_ops *ops,
		       struct racelab_run *run)
{
	struct racelab_conductor *c;
	unsigned int i;
	int err = 0;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->script = script;
	c->ops = ops;
	c->run = run;
	init_waitqueue_head(&c->wq);
	for (i = 0; i < RACELAB_SCRIPT_THREADS; i++) {
		struct racelab_player *pl = &c->player[i];
		struct task_struct *task;

		pl->c = c;
		pl->id = i;
		task = kthread_run(racelab_script_thread, pl, "racelab-%s/s%u",
				   name, i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			WRITE_ONCE(c->stop, true);
			break;
		}
		pl->task = task;
	}
	/* Pairs with the last step's smp_store_release(). */
	if (!err && !wait_event_timeout(c->wq, smp_load_acquire(&c->turn) ==
					script->nr,
					script->nr * RACELAB_STEP_TIMEOUT))
		err = -ETIMEDOUT;
	WRITE_ONCE(c->stop, true);
	wake_up_all(&c->wq);
	for (i = 0; i < RACELAB_SCRIPT_THREADS; i++)
		if (c->player[i].task)
			kthread_stop(c->player[i].task);
	for (i = 0; i < RACELAB_SCRIPT_THREADS && !err; i++)
		err = c->player[i].err;
	kfree(c);
	return err;
}

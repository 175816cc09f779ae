// SPDX-License-Identifier: GPL-2.0
/*
 * The double-fetch race driven from user space, as an exploit would: one
 * thread submits a request { u32 len; u8 payload[64] } to
 * racelab/double-fetch/request while another flips its len between a
 * valid 16 and an invalid 4096. A handler that reads len twice uses, now
 * and then, a length it never validated; one that copies the request once
 * never does. The kernel counts both (user_unvalidated= in the verdict of
 * the run the requests came in).
 *
 * The only racelab test that names a scenario: it speaks the request
 * format of that scenario's own file. Its modes come from the plan.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "kselftest_harness.h"
#include "racelab_util.h"

#define DF_SCN		"double-fetch"
#define DF_MAX		64
#define DF_SMALL	16
#define DF_LARGE	4096
#define RUN_MS		"1000"
#define RACY_DEADLINE_MS 60000	/* a racy mode may take this long to race */
#define RUN_TIMEOUT_MS	30000	/* a 1 s run ends by then */
#define DF_MAX_CPUS	256

struct df_req {
	__u32 len;
	__u8 payload[DF_MAX];
};

struct df_drive {
	struct df_req req;	/* shared by the two threads: the race */
	int fd;
	bool stop;		/* __atomic: read by the flipper */
	unsigned long submitted, refused, eagain, other;
};

static void *df_flipper(void *arg)
{
	struct df_drive *d = arg;

	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&d->req.len, DF_LARGE, __ATOMIC_RELAXED);
		__atomic_store_n(&d->req.len, DF_SMALL, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Submit until the run is over: the request file says -EAGAIN then, and
 * the run file idle. The run was started before: idle means it ended.
 */
static void df_submit(struct df_drive *d)
{
	double end = rl_now_ms() + RUN_TIMEOUT_MS;

	while (rl_now_ms() < end) {
		ssize_t n = write(d->fd, &d->req, sizeof(d->req));

		if (n == sizeof(d->req)) {
			d->submitted++;
		} else if (errno == EINVAL) {
			d->refused++;	/* len 4096 seen by the check */
		} else if (errno == EAGAIN) {
			if (rl_is_idle(DF_SCN) == 1)
				return;	/* the run ended */
			d->eagain++;	/* set up, not published yet */
			usleep(1000);
		} else {
			d->other++;
			return;
		}
	}
}

static const char *df_path(char *buf, size_t len)
{
	return rl_path(DF_SCN, "request", buf, len);
}

static bool df_present(struct rl_scenario *s)
{
	char why[320];

	return !rl_plan_read(DF_SCN, s, why, sizeof(why));
}

/* Configure @mode, start a run, drive it from two threads, get its verdict. */
static int df_run(struct __test_metadata *_metadata, const struct rl_scenario *s,
		  const char *mode, char *line, size_t len)
{
	struct df_drive d = { .req.len = DF_SMALL };
	char path[256], amp[RL_AMP_LEN];
	pthread_t flip;
	int i, err;

	snprintf(amp, sizeof(amp), "%s", s->nr_plans ? s->plans[0].amp : "auto");
	for (i = 0; i < DF_MAX; i++)
		d.req.payload[i] = i;
	err = rl_put(DF_SCN, "mode", mode);
	err = err ?: rl_put(DF_SCN, "threads", "2");
	err = err ?: rl_put(DF_SCN, "iterations", "0");
	err = err ?: rl_put(DF_SCN, "amplifier", amp);
	err = err ?: rl_put(DF_SCN, "duration_ms", RUN_MS);
	err = err ?: rl_put(DF_SCN, "cpus", "any");
	if (err)
		return err;
	d.fd = open(df_path(path, sizeof(path)), O_WRONLY | O_CLOEXEC);
	if (d.fd < 0)
		return -errno;
	if (pthread_create(&flip, NULL, df_flipper, &d)) {
		close(d.fd);
		return -EAGAIN;
	}
	err = rl_put(DF_SCN, "run", "start");
	if (!err)
		df_submit(&d);
	__atomic_store_n(&d.stop, true, __ATOMIC_RELAXED);
	pthread_join(flip, NULL);
	close(d.fd);
	if (err)
		return err;
	if (!rl_wait_idle(DF_SCN, RUN_TIMEOUT_MS))
		return -ETIMEDOUT;
	TH_LOG("%s: %lu submitted, %lu refused (EINVAL), %lu other errors",
	       mode, d.submitted, d.refused, d.other);
	if (d.other)
		return -EIO;
	return rl_stats_line(DF_SCN, "last: ", line, len);
}

/* A request of another size is refused; so is one outside a run. */
TEST(request_refused)
{
	struct rl_scenario s;
	struct df_req req = { .len = DF_SMALL };
	char path[256];
	int fd;

	if (!df_present(&s))
		SKIP(return, "no racelab/" DF_SCN " (racelab.ko not loaded?)");
	ASSERT_EQ(1, rl_wait_idle(DF_SCN, RUN_TIMEOUT_MS));
	fd = open(df_path(path, sizeof(path)), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_EQ(-1, write(fd, &req, sizeof(req)));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("outside a run: %s", strerror(errno));
	EXPECT_EQ(-1, write(fd, &req, sizeof(req) - 1));
	EXPECT_EQ(EINVAL, errno) TH_LOG("short request: %s", strerror(errno));
	close(fd);
}

/*
 * Every fixed mode: requests handled, none with an unvalidated length.
 * Every racy and broken-fix mode: the same runs repeat until one shows a
 * request handled with an unvalidated length, or the deadline passes.
 */
TEST(every_mode_from_user_space)
{
	int cpus[DF_MAX_CPUS], ncpus;
	struct rl_scenario s;
	unsigned int i;
	bool asked;

	if (!df_present(&s))
		SKIP(return, "no racelab/" DF_SCN " (racelab.ko not loaded?)");
	/*
	 * On fewer CPUs than the plan's racy_cpus, the flipper runs only
	 * when the submitter is off the CPU: racy modes are not asked to
	 * race there, and fixed ones are still held to none.
	 */
	ncpus = rl_online_cpus(cpus, DF_MAX_CPUS);
	ASSERT_LT(0, ncpus);
	asked = !s.nr_plans || (unsigned int)ncpus >= s.plans[0].racy_cpus;
	if (!asked)
		TH_LOG("%d CPU(s), under the plan's racy_cpus=%u: racy modes not asked",
		       ncpus, s.plans[0].racy_cpus);
	for (i = 0; i < s.nr_modes; i++) {
		const struct rl_mode *m = &s.modes[i];
		double end = rl_now_ms() + RACY_DEADLINE_MS;
		unsigned long long bad = 0;
		char line[2048];
		int runs = 0;

		do {
			ASSERT_EQ(0, df_run(_metadata, &s, m->name, line,
					    sizeof(line)));
			runs++;
			ASSERT_NE(~0ULL, rl_num(line, "user_requests"))
				TH_LOG("%s", line);
			EXPECT_LT(0ULL, rl_num(line, "user_requests"))
				TH_LOG("no request of ours was handled: %s",
				       line);
			bad = rl_num(line, "user_unvalidated");
			if (rl_fixed(m) || !asked)
				break;
		} while (!bad && rl_now_ms() < end);
		if (rl_fixed(m)) {
			EXPECT_EQ(0ULL, bad)
				TH_LOG("%s used a length it never validated: %s",
				       m->name, line);
		} else if (asked) {
			EXPECT_LT(0ULL, bad)
				TH_LOG("%s never raced in %d runs: %s", m->name,
				       runs, line);
		}
		TH_LOG("%s (%s): user_unvalidated=%llu after %d run(s)",
		       m->name, m->kind, bad, runs);
	}
}

TEST_HARNESS_MAIN

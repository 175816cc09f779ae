// SPDX-License-Identifier: GPL-2.0
/*
 * racelab knobs from user space: permissions, every mode's verdict,
 * -EINVAL on bad input with every knob unchanged, -EBUSY while running,
 * stop, and /proc/racelab. Needs racelab.ko loaded and debugfs mounted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#define TOP		"/sys/kernel/debug/racelab"
#define DIR		TOP "/counter"
#define PROC		"/proc/racelab"
#define RACY_DEADLINE_S	60

static const char *const knobs[] = {
	"mode", "threads", "iterations", "duration_ms", "amplifier", "cpus",
	"schedule",
};

/*
 * How each scenario's modes are run, in runs of PLAN_MS: with 2+ CPUs the
 * default amplifier (auto: each mode's own window), with one CPU the one
 * the README names for one CPU. A fixed mode must be exact in exactly the
 * run that shows its racy siblings.
 */
#define PLAN_MS		"500"

static const struct plan {
	const char *scn;
	const char *amp;	/* 2+ CPUs */
	const char *amp1;	/* 1 CPU; NULL: needs 2 CPUs */
} plans[] = {
	{ "counter", "auto", "delay:1000" },
	{ "check-then-act", "auto", "delay:1000" },
	{ "torn-read", "auto", "delay:1000" },
	{ "rcu-pointer", "auto", "delay:1000" },
	{ "rcu-list", "auto", "delay:1000" },
	{ "ordering", "auto", NULL },
	{ "aba", "auto", "delay:1000" },
	{ "false-sharing", "auto", "auto" },
};

static const char *scn = "counter";	/* the scenario under test */

static const char *path_of(const char *file)
{
	static char path[256];

	snprintf(path, sizeof(path), TOP "/%s/%s", scn, file);
	return path;
}

/* Write @val to @file in one write(): 0 or -errno. */
static int put(const char *file, const char *val)
{
	int fd = open(path_of(file), O_WRONLY);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(val))
		err = -EIO;
	close(fd);
	return err;
}

static int read_path(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return n < 0 ? -errno : 0;
}

static int get(const char *file, char *buf, size_t len)
{
	int err = read_path(path_of(file), buf, len);

	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* All knob values, one string, to check that a refused write changed none. */
static void snapshot(char *buf, size_t len)
{
	char val[256];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (get(knobs[i], val, sizeof(val)))
			snprintf(val, sizeof(val), "<none>");
		n += snprintf(buf + n, len - n, "%s=%s ", knobs[i], val);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool wait_idle(double timeout_s)
{
	double end = now() + timeout_s;
	char state[32];

	do {
		if (!get("run", state, sizeof(state)) && !strcmp(state, "idle"))
			return true;
		usleep(20000);
	} while (now() < end);
	return false;
}

/* The verdict line of the last run, from stats. */
static int last_verdict(char *line, size_t len)
{
	char stats[4096], *p;

	if (read_path(path_of("stats"), stats, sizeof(stats)))
		return -1;
	p = strstr(stats, "last: ");
	if (!p)
		return -1;
	p += 6;
	snprintf(line, len, "%.*s", (int)strcspn(p, "\n"), p);
	return 0;
}

static bool field(const char *line, const char *key, char *val, size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p) {
		snprintf(pat, sizeof(pat), "%s=", key);
		if (strncmp(line, pat, strlen(pat)))
			return false;
		p = line - 1;
	}
	p += strlen(pat);
	snprintf(val, len, "%.*s", (int)strcspn(p, " "), p);
	return true;
}

static unsigned long long num(const char *line, const char *key)
{
	char val[64];

	if (!field(line, key, val, sizeof(val)))
		return ~0ULL;
	return strtoull(val, NULL, 10);
}

static int run_once(char *line, size_t len)
{
	int err = put("run", "start");

	if (err)
		return err;
	if (!wait_idle(120))
		return -ETIMEDOUT;
	return last_verdict(line, len);
}

static int online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static bool mode_is(const char *path, mode_t mode, mode_t *is)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	*is = st.st_mode & 07777;
	return *is == mode && st.st_uid == 0;
}

/* Knobs 0600, stats 0400 in every scenario; /proc/racelab 0444. */
static void test_permissions(void)
{
	static const char *const files[] = {
		"mode", "threads", "iterations", "duration_ms", "amplifier",
		"cpus", "run", "stats",
	};
	size_t i, f;
	mode_t is = 0;

	for (i = 0; i < ARRAY_SIZE(plans); i++) {
		bool ok = true;

		scn = plans[i].scn;
		for (f = 0; f < ARRAY_SIZE(files); f++) {
			mode_t want = strcmp(files[f], "stats") ? 0600 : 0400;

			if (!mode_is(path_of(files[f]), want, &is)) {
				ksft_print_msg("%s is %04o, want %04o\n",
					       path_of(files[f]), is, want);
				ok = false;
			}
		}
		/* Only scenarios that replay schedules have the knob. */
		if (!strcmp(scn, "counter") || !strcmp(scn, "check-then-act"))
			ok = ok && mode_is(path_of("schedule"), 0600, &is);
		else
			ok = ok && access(path_of("schedule"), F_OK);
		ksft_test_result(ok, "permissions of %s/*\n", scn);
	}
	scn = "counter";
	ksft_test_result(mode_is(PROC, 0444, &is), "permissions %s 0444 (is %04o)\n",
			 PROC, is);
}

/*
 * Write @knob=@val (accepted: each value alone is fine), start: the whole
 * configuration is refused (returned), nothing ran, stats says why. Then
 * @knob=@good again.
 */
static int refused_at_start(const char *knob, const char *val,
			    const char *good)
{
	char before[4096], after[4096];
	int err;

	if (put(knob, val))
		return -EIO;
	read_path(path_of("stats"), before, sizeof(before));
	err = put("run", "start");
	read_path(path_of("stats"), after, sizeof(after));
	if (put(knob, good))
		return -EIO;
	/* Nothing ran, nothing changed, and stats says why it would not. */
	if (strstr(after, "state=running") || strcmp(before, after) ||
	    !strstr(after, "next: refused: "))
		return -EIO;
	return err;
}

/* Rules of one scenario that the generic knobs do not know. */
static void test_scenario_rules(void)
{
	int e1, e2, e3;

	/* Each value alone is fine; the scenario refuses it at start. */
	scn = "ordering";
	e1 = refused_at_start("threads", "3", "2");
	e2 = refused_at_start("amplifier", "delay:100", "auto");
	e3 = refused_at_start("cpus", "0", "any");
	ksft_test_result(e1 == -EINVAL && e2 == -EINVAL && e3 == -EINVAL,
			 "ordering refuses 3 threads, an amplifier, one CPU at start\n");
	scn = "torn-read";
	e1 = refused_at_start("threads", "1", "2");
	ksft_test_result(e1 == -EINVAL,
			 "torn-read refuses 1 thread at start (needs a reader)\n");
	scn = "counter";
}

/*
 * The directories above a knob, which an unprivileged user must be able to
 * search to reach it: debugfs mounts its root 0700, which would refuse the
 * user before the knob's own mode is ever tested.
 */
static const char *const unpriv_dirs[] = { "/sys/kernel/debug", TOP, DIR };

/* The modes of unpriv_dirs into @old. */
static bool unpriv_dirs_save(mode_t *old)
{
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unpriv_dirs); i++) {
		if (stat(unpriv_dirs[i], &st)) {
			ksft_print_msg("stat %s: %s\n", unpriv_dirs[i],
				       strerror(errno));
			return false;
		}
		old[i] = st.st_mode & 07777;
	}
	return true;
}

/* Set each of unpriv_dirs to its @old mode plus @add, and check it. */
static bool unpriv_dirs_chmod(const mode_t *old, mode_t add)
{
	struct stat st;
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unpriv_dirs); i++) {
		mode_t want = old[i] | add;

		if (chmod(unpriv_dirs[i], want) || stat(unpriv_dirs[i], &st) ||
		    (st.st_mode & 07777) != want) {
			ksft_print_msg("%s: cannot make it %04o\n",
				       unpriv_dirs[i], want);
			ok = false;
		}
	}
	return ok;
}

/*
 * An unprivileged user reads /proc/racelab, reaches a knob (the
 * directories above it opened to others for the test) and is refused by
 * the knob's own 0600 mode, for writing and for reading.
 */
static void test_unprivileged(void)
{
	static const char *const why[] = {
		[2] = "cannot become nobody",
		[3] = "cannot read " PROC,
		[4] = "cannot reach the knob (stat failed): nothing would be tested",
		[5] = "open for write was not refused with EACCES",
		[6] = "open for read was not refused with EACCES",
	};
	const char *knob = DIR "/threads";
	mode_t old[ARRAY_SIZE(unpriv_dirs)];
	int status = -1, code = -1;
	bool saved;
	pid_t pid = -1;

	saved = unpriv_dirs_save(old);
	if (saved && unpriv_dirs_chmod(old, 0005))
		pid = fork();
	if (pid == 0) {
		char buf[4096];
		struct stat st;
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (read_path(PROC, buf, sizeof(buf)) || !strstr(buf, "counter"))
			_exit(3);
		if (stat(knob, &st))
			_exit(4);
		fd = open(knob, O_WRONLY);
		if (fd >= 0 || errno != EACCES)
			_exit(5);
		fd = open(knob, O_RDONLY);
		if (fd >= 0 || errno != EACCES)
			_exit(6);
		_exit(0);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		code = WEXITSTATUS(status);
	/* Put the modes back, whatever happened. */
	if (saved && !unpriv_dirs_chmod(old, 0))
		code = -1;
	if (code > 0 && code < (int)ARRAY_SIZE(why) && why[code])
		ksft_print_msg("nobody: %s\n", why[code]);
	ksft_test_result(code == 0,
			 "unprivileged: reads %s, reaches %s and is refused by its 0600 (status %d)\n",
			 PROC, knob, code);
}

static bool set_cfg(const char *mode, const char *threads,
		    const char *duration_ms, const char *amp)
{
	return !put("mode", mode) && !put("threads", threads) &&
	       !put("iterations", "0") && !put("amplifier", amp) &&
	       !put("duration_ms", duration_ms) && !put("cpus", "any");
}

/*
 * x86-TSO keeps stores in order and loads in order, and QEMU keeps that:
 * the message-passing reordering cannot show here.
 */
static bool race_impossible(const char *mode)
{
	struct utsname u;

	/* KCSAN's runtime drains the store buffer: see the KUnit suite. */
	if (!strcmp(scn, "ordering") && !strcmp(mode, "sb-plain") &&
	    !access("/sys/kernel/debug/kcsan", F_OK))
		return true;

	if (uname(&u) || (strcmp(u.machine, "x86_64") &&
			  strcmp(u.machine, "i686")))
		return false;
	return !strcmp(scn, "ordering") && !strcmp(mode, "mp-plain");
}

/* Every mode: fixed ones exact, racy and broken-fix ones show the race. */
static void test_modes(const struct plan *p)
{
	bool one = online_cpus() < 2;
	const char *amp = one ? p->amp1 : p->amp;
	char modes[512], *save, *m, line[1024], kind[32], verdict[32];

	if (get("mode", modes, sizeof(modes))) {
		ksft_test_result_fail("%s: mode file unreadable\n", scn);
		return;
	}
	for (m = strtok_r(modes, " []", &save); m;
	     m = strtok_r(NULL, " []", &save)) {
		double end = now() + RACY_DEADLINE_S;
		unsigned int attempts = 0;
		bool ok, fixed = false, want_race;
		int err;

		if (!amp) {
			char name[128];

			/* "ok N name # SKIP why": kunit.py wants the name. */
			snprintf(name, sizeof(name), "%s/%s", scn, m);
			ksft_test_result_code(KSFT_SKIP, name, "needs 2 CPUs\n");
			continue;
		}
		if (!set_cfg(m, "2", PLAN_MS, amp)) {
			ksft_test_result_fail("%s/%s: knobs refused\n", scn, m);
			continue;
		}
		want_race = !race_impossible(m);
		do {
			attempts++;
			err = run_once(line, sizeof(line));
			if (err || !field(line, "kind", kind, sizeof(kind)) ||
			    !field(line, "verdict", verdict, sizeof(verdict)))
				break;
			fixed = !strcmp(kind, "fixed");
		} while (!fixed && want_race && strcmp(verdict, "race") &&
			 now() < end);

		if (err || !field(line, "kind", kind, sizeof(kind))) {
			ksft_test_result_fail("%s/%s: run failed (%d)\n", scn, m,
					      err);
			continue;
		}
		ksft_print_msg("%s\n", line);
		ok = num(line, "expected") > 0 &&
		     num(line, "observed") <= num(line, "expected") &&
		     num(line, "min_thread_ops") > 0;
		if (fixed || !want_race)
			ok = ok && !strcmp(verdict, "clean") &&
			     num(line, "anomalies") == 0;
		else
			ok = ok && !strcmp(verdict, "race") &&
			     num(line, "anomalies") > 0;
		ksft_test_result(ok, "%s/%s (%s%s, amplifier %s): verdict %s after %u run(s)\n",
				 scn, m, kind, want_race ? "" : ", cannot show here",
				 amp, verdict, attempts);
	}
}

/* Word @idx (from 0) of the line at @line, blank-separated. */
static bool word_at(const char *line, int idx, char *out, size_t len)
{
	const char *p = line;
	size_t n;
	int i;

	for (i = 0; ; i++) {
		p += strspn(p, " \t");
		if (!*p || *p == '\n')
			return false;
		n = strcspn(p, " \t\n");
		if (i == idx) {
			snprintf(out, len, "%.*s", (int)n, p);
			return true;
		}
		p += n;
	}
}

/*
 * The cell of column @col in the row of scenario @name of the /proc/racelab
 * results table: a header line naming the columns, one row per scenario,
 * then a blank line. The modes list after it, which names every mode, is
 * never searched.
 */
static bool proc_cell(const char *table, const char *name, const char *col,
		      char *val, size_t len)
{
	const char *line = table;
	char word[64];
	int i, idx = -1;

	for (i = 0; word_at(table, i, word, sizeof(word)); i++)
		if (!strcmp(word, col))
			idx = i;
	if (idx < 0)
		return false;
	while ((line = strchr(line, '\n')) && *++line && *line != '\n')
		if (word_at(line, 0, word, sizeof(word)) && !strcmp(word, name))
			return word_at(line, idx, val, len);
	return false;
}

/*
 * /proc/racelab has a row for every scenario, and the row of the scenario
 * that just ran holds what its last verdict line in stats says.
 */
static void test_proc(void)
{
	static const char *const cols[] = {
		"mode", "kind", "expected", "observed", "anomalies", "verdict",
	};
	char buf[8192], line[1024], want[64], got[64];
	bool ok;
	size_t i;

	ok = !last_verdict(line, sizeof(line)) &&
	     !read_path(PROC, buf, sizeof(buf));
	for (i = 0; ok && i < ARRAY_SIZE(cols); i++) {
		snprintf(want, sizeof(want), "?");
		snprintf(got, sizeof(got), "?");
		ok = field(line, cols[i], want, sizeof(want)) &&
		     proc_cell(buf, scn, cols[i], got, sizeof(got)) &&
		     !strcmp(want, got);
		if (!ok)
			ksft_print_msg("%s: %s in stats, %s in %s\n", cols[i],
				       want, got, PROC);
	}
	for (i = 0; ok && i < ARRAY_SIZE(plans); i++) {
		ok = proc_cell(buf, plans[i].scn, "scenario", got, sizeof(got));
		if (!ok)
			ksft_print_msg("%s: no row for %s\n", PROC, plans[i].scn);
	}
	ksft_test_result(ok, "%s: the %s row is its last verdict; a row per scenario\n",
			 PROC, scn);
}

static void test_mode_listing(void)
{
	char buf[512];

	put("mode", "mutex");
	ksft_test_result(!get("mode", buf, sizeof(buf)) &&
			 strstr(buf, "[mutex]") && strstr(buf, "none ") &&
			 !strstr(buf, "[none]"),
			 "mode lists every mode, current in brackets: %s\n", buf);
}

/* Each bad value: -EINVAL, and no knob changes. */
static void test_bad_input(void)
{
	static const struct {
		const char *file, *val;
	} bad[] = {
		{ "mode", "nosuchmode" }, { "mode", "" }, { "mode", "\n" },
		{ "threads", "0" }, { "threads", "65" }, { "threads", "-3" },
		{ "threads", "two" }, { "threads", "2 2" },
		{ "duration_ms", "0" }, { "iterations", "1e6" },
		{ "iterations", "99999999999999999999999" },
		{ "duration_ms", "600001" },
		{ "amplifier", "delay:0" }, { "amplifier", "delay:abc" },
		{ "amplifier", "nap" },
		{ "cpus", "" }, { "cpus", "9999" }, { "cpus", "0-" },
		{ "run", "go" }, { "run", "" },
	};
	char before[2048], after[2048], longval[200];
	size_t i;
	int err;

	set_cfg("mutex", "2", "1000", "none");
	put("iterations", "1000");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snapshot(before, sizeof(before));
		err = put(bad[i].file, bad[i].val);
		snapshot(after, sizeof(after));
		ksft_test_result(err == -EINVAL && !strcmp(before, after),
				 "%s=\"%s\": %s, knobs unchanged\n", bad[i].file,
				 bad[i].val, strerror(-err));
	}

	memset(longval, '7', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	snapshot(before, sizeof(before));
	err = put("threads", longval);
	snapshot(after, sizeof(after));
	ksft_test_result(err == -EINVAL && !strcmp(before, after),
			 "overlong value: %s, knobs unchanged\n", strerror(-err));

	/*
	 * A sleeping amplifier inside a spinlock is refused at start, in
	 * whichever order the two knobs were written.
	 */
	set_cfg("spinlock", "2", "1000", "none");
	err = refused_at_start("amplifier", "sleep", "none");
	ksft_test_result(err == -EINVAL,
			 "mode=spinlock, then amplifier=sleep: start %s\n",
			 strerror(-err));
	set_cfg("mutex", "2", "1000", "sleep");
	err = refused_at_start("mode", "spinlock", "mutex");
	ksft_test_result(err == -EINVAL,
			 "amplifier=sleep, then mode=spinlock: start %s\n",
			 strerror(-err));

	/* A write at an offset is not a whole value. */
	{
		int fd = open(path_of("threads"), O_WRONLY);
		ssize_t n = fd < 0 ? -1 : pwrite(fd, "3", 1, 1);

		err = n < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		ksft_test_result(err == -EINVAL, "write at offset 1: %s\n",
				 strerror(-err));
	}
}

/* A schedule replays one exact interleaving: the same outcome every time. */
static void test_schedule(void)
{
	static const struct {
		const char *scn, *sched, *shown, *value;
		unsigned long long anomalies;
	} cases[] = {
		{ "counter", "R0 R1 M0 M1 W0 W1", "R0,R1,M0,M1,W0,W1", "value=1", 1 },
		{ "counter", "R0 M0 W0 R1 M1 W1", "R0,M0,W0,R1,M1,W1", "value=2", 0 },
		{ "check-then-act", "C0 C1 A0 A1", "C0,C1,A0,A1", "balance=-20", 1 },
		{ "check-then-act", "C0 A0 C1 A1", "C0,A0,C1,A1", "balance=40", 0 },
	};
	char line[1024], stats[4096], before[2048], after[2048];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool ok = true;
		int round;

		scn = cases[i].scn;
		/* Twice: a replay gives the same outcome every time. */
		for (round = 0; round < 2 && ok; round++) {
			ok = !put("schedule", cases[i].sched) &&
			     !run_once(line, sizeof(line)) &&
			     strstr(line, cases[i].shown) &&
			     strstr(line, cases[i].value) &&
			     num(line, "anomalies") == cases[i].anomalies;
		}
		ok = ok && !read_path(path_of("stats"), stats, sizeof(stats)) &&
		     strstr(stats, cases[i].shown);
		ksft_test_result(ok, "%s schedule %s: %s, twice\n", scn,
				 cases[i].sched, cases[i].value);
		put("schedule", "none");
	}
	scn = "counter";
	snapshot(before, sizeof(before));
	err = put("schedule", "M0 R0 W0 R1 M1 W1");
	snapshot(after, sizeof(after));
	ksft_test_result(err == -EINVAL && !strcmp(before, after),
			 "schedule out of a thread's order: %s\n", strerror(-err));
}

/* While a run is in flight: -EBUSY for start and knobs; stop ends it. */
static void test_busy(void)
{
	char before[2048], after[2048], line[1024], verdict[32], state[32];
	int err, err2;
	double t;

	set_cfg("mutex", "2", "600000", "sleep");
	if (put("run", "start")) {
		ksft_test_result_fail("start a long run\n");
		return;
	}
	get("run", state, sizeof(state));
	ksft_test_result(!strcmp(state, "running"), "run reads 'running' (%s)\n",
			 state);
	err = put("run", "start");
	ksft_test_result(err == -EBUSY, "second start: %s\n", strerror(-err));
	snapshot(before, sizeof(before));
	err = put("threads", "4");
	err2 = put("mode", "none");
	snapshot(after, sizeof(after));
	ksft_test_result(err == -EBUSY && err2 == -EBUSY &&
			 !strcmp(before, after),
			 "knob writes while running: %s, unchanged\n",
			 strerror(-err));
	t = now();
	err = put("run", "stop");
	ksft_test_result(!err && wait_idle(5), "stop: idle after %.2f s\n",
			 now() - t);
	ksft_test_result(!last_verdict(line, sizeof(line)) &&
			 field(line, "verdict", verdict, sizeof(verdict)) &&
			 !strcmp(verdict, "stopped") &&
			 strstr(line, " ended=stop "),
			 "stopped run's verdict is stopped\n");
	ksft_test_result(!put("threads", "2"), "knobs writable again after stop\n");
}

static unsigned int count_modes(void)
{
	char modes[512], *save, *m;
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(plans); i++) {
		scn = plans[i].scn;
		if (get("mode", modes, sizeof(modes)))
			continue;
		for (m = strtok_r(modes, " []", &save); m;
		     m = strtok_r(NULL, " []", &save))
			n++;
	}
	scn = "counter";
	return n;
}

int main(void)
{
	struct stat st;
	size_t i;

	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("must run as root\n");
	if (stat(DIR, &st))
		ksft_exit_skip("%s missing: load racelab.ko, mount debugfs\n", DIR);
	ksft_set_plan(ARRAY_SIZE(plans) + 1 + 1 + count_modes() + 1 + 1 +
		      20 + 1 + 2 + 1 + 5 + 6 + 2);

	test_permissions();
	test_unprivileged();
	for (i = 0; i < ARRAY_SIZE(plans); i++) {
		scn = plans[i].scn;
		test_modes(&plans[i]);
	}
	scn = "counter";
	test_proc();
	test_mode_listing();
	test_bad_input();
	test_schedule();
	test_busy();
	test_scenario_rules();
	ksft_finished();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * racelab knobs from user space: permissions, every mode's verdict in
 * every plan run, -EINVAL on bad input with every knob unchanged, rules
 * refused at start in either order, -EBUSY while running, stop, schedules
 * replayed, and /proc/racelab. Needs racelab.ko loaded and debugfs mounted.
 *
 * The test knows no scenario, mode or knob by name: it learns them from
 * racelab/<scenario>/plan. Each scenario is a variant of the fixture
 * "racelab", registered at run time from its plan file; the checks that
 * need "a fixed mode" or "a racy mode that can show here" pick one by its
 * kind= and shows_here=.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "racelab_util.h"

#define RACY_DEADLINE_MS	60000	/* a racy mode may take this long to race */
#define RUN_TIMEOUT_MS		120000	/* a run of at most a few s ends by then */
#define KNOB_VAL_LEN		512
#define MAX_CPUS		256
#define NOBODY			65534

/* Every scenario found under RL_TOP is one variant: its parsed plan. */
FIXTURE(racelab) {
	const struct rl_scenario *scn;
	const char *name;
	char saved[RL_MAX_KNOBS][KNOB_VAL_LEN];	/* knobs before the test */
	bool saved_ok;
	int nr_cpus;
	int cpus[MAX_CPUS];
};

FIXTURE_VARIANT(racelab) {
	struct rl_scenario scn;
	char err[320];		/* why its plan could not be read, or "" */
};

/*
 * The variants, one per plan file. The harness registers its own from
 * constructors of priority KSELFTEST_PRIO_TEST; this one runs after all of
 * them (a constructor of a lower priority number runs first), when
 * _racelab_fixture_object has been registered and __constructor_order_forward
 * has its final value: true whichever way the toolchain orders same-priority
 * constructors (__constructor_order_first runs first and sets it, or runs
 * last of them and sets it). __register_fixture_variant() then appends, so
 * the variants run in the sorted order of the scenario directories.
 */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST + 1)))
racelab_register_variants(void)
{
	static char names[RL_MAX_SCNS][RL_NAME_LEN];
	int i, n = rl_list_scenarios(names, RL_MAX_SCNS);

	/*
	 * n < 0: no racelab directory (main() says so), or more scenarios
	 * than RL_MAX_SCNS (the /proc test fails on it).
	 */
	for (i = 0; i < n; i++) {
		struct __fixture_variant_metadata *meta = calloc(1, sizeof(*meta));
		/* FIXTURE_VARIANT(racelab), spelt out for checkpatch */
		struct _fixture_variant_racelab *v = calloc(1, sizeof(*v));

		if (!meta || !v) {
			fprintf(stderr, "racelab_knobs: out of memory\n");
			exit(KSFT_FAIL);
		}
		if (rl_plan_read(names[i], &v->scn, v->err, sizeof(v->err)) &&
		    !v->err[0])
			snprintf(v->err, sizeof(v->err), "%.31s: plan unreadable",
				 names[i]);
		meta->name = names[i];
		meta->data = v;
		__register_fixture_variant(&_racelab_fixture_object, meta);
	}
}

static __printf(1, 2) void say(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* One check inside a test: said either way, and a failure fails the test. */
static __printf(3, 4) void check(struct __test_metadata *_metadata, bool ok,
				 const char *fmt, ...)
{
	va_list ap;

	printf("# %s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		_metadata->exit_code = KSFT_FAIL;
}

#define CHECK(ok, ...)	check(_metadata, (ok), __VA_ARGS__)

/* ---- knobs ---- */

/* The current mode, from "a [b] c". */
static bool current_mode(const char *scn, char *out, size_t len)
{
	char buf[KNOB_VAL_LEN], *l, *r;

	if (rl_get(scn, "mode", buf, sizeof(buf)))
		return false;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return false;
	snprintf(out, len, "%.*s", (int)(r - l - 1), l + 1);
	return true;
}

/* Every knob of the plan and its value, one string. */
static void snapshot(const struct rl_scenario *s, char *buf, size_t len)
{
	char val[KNOB_VAL_LEN];
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < s->nr_knobs && n < len; i++) {
		if (rl_get(s->name, s->knobs[i], val, sizeof(val)))
			snprintf(val, sizeof(val), "<unreadable>");
		n += snprintf(buf + n, len - n, "%s=%s ", s->knobs[i], val);
	}
}

/*
 * The threads a run of @m takes: 2 (a race needs a partner), or the
 * mode's min_threads (its plan's, the scenario's included), within the
 * scenario's max_threads.
 */
static unsigned int mode_threads(const struct rl_scenario *s,
				 const struct rl_mode *m)
{
	unsigned int t = 2;

	if (t < m->min_threads)
		t = m->min_threads;
	if (t > s->max_threads)
		t = s->max_threads;
	return t;
}

/*
 * A whole configuration: @mode, @threads, no iteration cap, @duration_ms,
 * @amp, any CPU, and no schedule (a free run). 0 or the -errno of the
 * first write refused.
 */
static int set_cfg(const struct rl_scenario *s, const char *mode,
		   unsigned int threads, unsigned int duration_ms,
		   const char *amp)
{
	char t[16], d[16];
	int err;

	snprintf(t, sizeof(t), "%u", threads);
	snprintf(d, sizeof(d), "%u", duration_ms);
	err = rl_put(s->name, "mode", mode);
	err = err ?: rl_put(s->name, "threads", t);
	err = err ?: rl_put(s->name, "iterations", "0");
	err = err ?: rl_put(s->name, "amplifier", amp);
	err = err ?: rl_put(s->name, "duration_ms", d);
	err = err ?: rl_put(s->name, "cpus", "any");
	if (!err && rl_has_knob(s, "schedule"))
		err = rl_put(s->name, "schedule", "none");
	return err;
}

/* Why the knobs as they are would be refused at start; "" if they would not. */
static void refusal(const char *scn, char *why, size_t len)
{
	if (rl_stats_line(scn, "next: refused: ", why, len))
		why[0] = '\0';
}

/* Start, wait for the end, and the verdict line of the run: 0 or -errno. */
static int run_once(const char *scn, char *line, size_t len)
{
	int err = rl_put(scn, "run", "start");

	if (err)
		return err;
	if (!rl_wait_idle(scn, RUN_TIMEOUT_MS))
		return -ETIMEDOUT;
	return rl_stats_line(scn, "last: ", line, len);
}

/*
 * The mode a test runs when it needs a run that is not about a race: a
 * fixed one that is no one-shot experiment, preferring one whose window
 * may sleep. NULL if the scenario has none.
 */
static const struct rl_mode *quiet_mode(const struct rl_scenario *s)
{
	const struct rl_mode *pick = NULL;
	unsigned int i;

	for (i = 0; i < s->nr_modes; i++) {
		const struct rl_mode *m = &s->modes[i];

		if (!rl_fixed(m) || m->experiment)
			continue;
		if (!rl_atomic_window(m))
			return m;
		if (!pick)
			pick = m;
	}
	return pick;
}

/* A mode a test may run, if a refusal it expects does not come. */
static const struct rl_mode *runnable_mode(const struct rl_scenario *s)
{
	unsigned int i;

	if (quiet_mode(s))
		return quiet_mode(s);
	for (i = 0; i < s->nr_modes; i++)
		if (!rl_never_run(&s->modes[i]))
			return &s->modes[i];
	return NULL;
}

/* The amplifier of a plan run that is no experiment about the window. */
static const char *quiet_amp(const struct rl_scenario *s)
{
	return s->nr_plans ? s->plans[0].amp : "none";
}

/*
 * Write @knob=@val (accepted: each value alone is fine), start: the whole
 * configuration is refused (returned), nothing ran, stats says why. Then
 * @knob=@good again, which must be accepted at start once more.
 */
static int refused_at_start(const struct rl_scenario *s, const char *knob,
			    const char *val, const char *good)
{
	char path[256], before[8192], after[8192], why[256];
	int err;

	refusal(s->name, why, sizeof(why));
	if (why[0]) {
		say("%s: refused before %s=%s: %s", s->name, knob, val, why);
		return -EIO;
	}
	err = rl_put(s->name, knob, val);
	if (err) {
		say("%s: %s=%s not accepted as a value: %s", s->name, knob, val,
		    strerror(-err));
		return -EIO;
	}
	rl_path(s->name, "stats", path, sizeof(path));
	rl_read_path(path, before, sizeof(before));
	err = rl_put(s->name, "run", "start");
	rl_read_path(path, after, sizeof(after));
	refusal(s->name, why, sizeof(why));
	say("%s: %s=%s: start %s, stats: %s", s->name, knob, val,
	    strerror(-err), why[0] ? why : "(no reason)");
	if (rl_put(s->name, knob, good))
		return -EIO;
	/* Nothing ran, nothing changed, and stats says why it would not. */
	if (strstr(after, "state=running") || strcmp(before, after) || !why[0])
		return -EIO;
	refusal(s->name, why, sizeof(why));
	if (why[0]) {
		say("%s: still refused with %s=%s: %s", s->name, knob, good, why);
		return -EIO;
	}
	return err;
}

/* ---- the fixture ---- */

FIXTURE_SETUP(racelab)
{
	char path[256], val[KNOB_VAL_LEN];
	const struct rl_scenario *s;
	unsigned int i;
	int n;

	ASSERT_NE(NULL, variant)
		TH_LOG("no scenario directory under %s: nothing to test", RL_TOP);
	ASSERT_EQ('\0', variant->err[0])
		TH_LOG("plan: %s", variant->err);
	s = &variant->scn;
	self->scn = s;
	self->name = s->name;
	ASSERT_EQ(0, access(rl_path(s->name, "run", path, sizeof(path)), W_OK))
		TH_LOG("%s: %s", path, strerror(errno));
	n = rl_online_cpus(self->cpus, MAX_CPUS);
	ASSERT_LT(0, n) TH_LOG("%s unreadable", RL_CPUS_ONLINE);
	self->nr_cpus = n;
	/* A run left by someone else: stop it. */
	rl_put(s->name, "run", "stop");
	ASSERT_TRUE(rl_wait_idle(s->name, 15000))
		TH_LOG("%s still running 15 s after stop", s->name);
	for (i = 0; i < s->nr_knobs; i++) {
		bool ok = !strcmp(s->knobs[i], "mode") ?
			  current_mode(s->name, val, sizeof(val)) :
			  !rl_get(s->name, s->knobs[i], val, sizeof(val));

		ASSERT_TRUE(ok) TH_LOG("%s/%s unreadable", s->name, s->knobs[i]);
		snprintf(self->saved[i], KNOB_VAL_LEN, "%s", val);
	}
	self->saved_ok = true;
}

/* Stop what the test started, and put every knob back. */
FIXTURE_TEARDOWN(racelab)
{
	const struct rl_scenario *s = self->scn;
	unsigned int i;
	int err;

	if (!s || !self->saved_ok)
		return;
	rl_put(s->name, "run", "stop");
	EXPECT_TRUE(rl_wait_idle(s->name, 15000))
		TH_LOG("%s still running 15 s after stop", s->name);
	for (i = 0; i < s->nr_knobs; i++) {
		err = rl_put(s->name, s->knobs[i], self->saved[i]);
		EXPECT_EQ(0, err)
			TH_LOG("%s: cannot put %s=%s back: %s", s->name,
			       s->knobs[i], self->saved[i], strerror(-err));
	}
}

/* ---- /proc/racelab, for all scenarios ---- */

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
 * /proc/racelab: 0444, a results row for every scenario directory and for
 * nothing else, and a modes list that says what every plan says: each
 * mode, in order, with its kind.
 */
TEST(proc_racelab)
{
	static char buf[32768];
	char names[RL_MAX_SCNS][RL_NAME_LEN], want[512], got[64], why[320];
	struct rl_scenario s;
	const char *modes, *line;
	struct stat st;
	int i, n, rows = 0;
	unsigned int k;

	ASSERT_EQ(0, stat(RL_PROC, &st)) TH_LOG("%s: %s", RL_PROC, strerror(errno));
	CHECK((st.st_mode & 07777) == 0444 && st.st_uid == 0,
	      "%s is %04o uid %u, want 0444 uid 0", RL_PROC,
	      st.st_mode & 07777, st.st_uid);
	ASSERT_EQ(0, rl_read_path(RL_PROC, buf, sizeof(buf)));
	n = rl_list_scenarios(names, RL_MAX_SCNS);
	ASSERT_LT(0, n) TH_LOG("no scenario under %s", RL_TOP);
	modes = strstr(buf, "\nmodes:\n");
	ASSERT_NE(NULL, modes) TH_LOG("%s has no modes list", RL_PROC);
	for (line = strchr(buf, '\n'); line && line < modes; line = strchr(line, '\n')) {
		line++;
		if (*line == '\n')
			break;
		rows++;
	}
	CHECK(rows == n, "%s: %d result row(s), %d scenario directories",
	      RL_PROC, rows, n);
	for (i = 0; i < n; i++) {
		CHECK(proc_cell(buf, names[i], "scenario", got, sizeof(got)),
		      "%s: a row for %s", RL_PROC, names[i]);
		if (rl_plan_read(names[i], &s, why, sizeof(why))) {
			CHECK(false, "%s", why);
			continue;
		}
		/* " <scn>\n  mode <name> <kind> <about>\n..." */
		snprintf(want, sizeof(want), "\n %.31s\n", names[i]);
		line = strstr(modes, want);
		CHECK(line, "%s: %s in the modes list", RL_PROC, names[i]);
		if (!line)
			continue;
		line += strlen(want);
		for (k = 0; k < s.nr_modes; k++) {
			char name[RL_NAME_LEN] = "", kind[16] = "";

			if (sscanf(line, "  mode %31s %15s", name, kind) != 2 ||
			    strcmp(name, s.modes[k].name) ||
			    strcmp(kind, s.modes[k].kind))
				break;
			line = strchr(line, '\n') + 1;
		}
		CHECK(k == s.nr_modes && strncmp(line, "  mode ", 7),
		      "%s: the modes of %s are its plan's %u, in order, with their kinds",
		      RL_PROC, names[i], s.nr_modes);
	}
}

/* ---- each scenario ---- */

/* @path is a file of mode @want, owned by root. */
static void check_mode(struct __test_metadata *_metadata, const char *path,
		       mode_t want)
{
	struct stat st;
	bool root = false;
	mode_t is = 0;

	if (!stat(path, &st)) {
		is = st.st_mode & 07777;
		root = st.st_uid == 0;
	}
	CHECK(is == want && root, "%s is %04o, want %04o, owner root", path,
	      is, want);
}

/* Is @name one of the scenario's own files that its plan declares? */
static bool own_file(const struct rl_scenario *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr_files; i++)
		if (!strcmp(s->files[i], name))
			return true;
	return false;
}

/*
 * Every knob of the plan is a file 0600, run 0600, stats and plan 0400
 * (root only, as every racelab file), a file of the scenario's own has the
 * mode its plan says, and the directory holds nothing else.
 */
TEST_F(racelab, files)
{
	const struct rl_scenario *s = self->scn;
	char path[256], dir[256];
	struct dirent *e;
	unsigned int i;
	DIR *d;

	for (i = 0; i < s->nr_knobs; i++)
		check_mode(_metadata, rl_path(s->name, s->knobs[i], path,
					      sizeof(path)), 0600);
	check_mode(_metadata, rl_path(s->name, "run", path, sizeof(path)), 0600);
	check_mode(_metadata, rl_path(s->name, "stats", path, sizeof(path)), 0400);
	check_mode(_metadata, rl_path(s->name, "plan", path, sizeof(path)), 0400);
	for (i = 0; i < s->nr_files; i++) {
		CHECK(!(s->file_modes[i] & 077), "%s: %04o is not root only",
		      s->files[i], s->file_modes[i]);
		check_mode(_metadata, rl_path(s->name, s->files[i], path,
					      sizeof(path)), s->file_modes[i]);
	}

	snprintf(dir, sizeof(dir), RL_TOP "/%s", s->name);
	d = opendir(dir);
	ASSERT_NE(NULL, d) TH_LOG("%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		CHECK(rl_has_knob(s, e->d_name) || !strcmp(e->d_name, "run") ||
		      !strcmp(e->d_name, "stats") || !strcmp(e->d_name, "plan") ||
		      own_file(s, e->d_name),
		      "%s/%s is a knob or a file of the plan, run, stats or plan",
		      dir, e->d_name);
	}
	closedir(d);
}

/*
 * The directories above a knob, which an unprivileged user must be able to
 * search to reach it: debugfs mounts its root 0700, which would refuse the
 * user before the knob's own mode is ever tested.
 */
#define NR_UNPRIV_DIRS	3

static void unpriv_dirs(const char *scn, char dirs[NR_UNPRIV_DIRS][256])
{
	snprintf(dirs[0], 256, "/sys/kernel/debug");
	snprintf(dirs[1], 256, RL_TOP);
	snprintf(dirs[2], 256, RL_TOP "/%s", scn);
}

/* Set each of @dirs to its @old mode plus @add, and check it. */
static bool unpriv_dirs_chmod(char dirs[NR_UNPRIV_DIRS][256],
			      const mode_t *old, mode_t add)
{
	struct stat st;
	bool ok = true;
	int i;

	for (i = 0; i < NR_UNPRIV_DIRS; i++) {
		mode_t want = old[i] | add;

		if (chmod(dirs[i], want) || stat(dirs[i], &st) ||
		    (st.st_mode & 07777) != want) {
			say("%s: cannot make it %04o", dirs[i], want);
			ok = false;
		}
	}
	return ok;
}

/* As nobody: exit 0, or the number of the first check that failed. */
static int nobody_checks(const struct rl_scenario *s)
{
	static char buf[32768];
	static const char *const others[] = { "run", "stats", "plan" };
	char path[256];
	struct stat st;
	unsigned int i;

	if (setgid(NOBODY) || setuid(NOBODY))
		return 2;
	if (rl_read_path(RL_PROC, buf, sizeof(buf)) || !strstr(buf, s->name))
		return 3;
	/* The plan is root's, as every racelab file: refused below. */
	for (i = 0; i < s->nr_knobs + ARRAY_SIZE(others); i++) {
		const char *f = i < s->nr_knobs ? s->knobs[i] :
				others[i - s->nr_knobs];

		rl_path(s->name, f, path, sizeof(path));
		if (stat(path, &st))
			return 5;
		if (open(path, O_WRONLY) >= 0 || errno != EACCES)
			return 6;
		if (open(path, O_RDONLY) >= 0 || errno != EACCES)
			return 7;
	}
	return 0;
}

/*
 * An unprivileged user reads /proc/racelab, reaches every knob, run,
 * stats and plan (the directories above opened to others for the test)
 * and is refused by their own modes, for writing and for reading.
 */
TEST_F(racelab, unprivileged)
{
	static const char *const why[] = {
		[2] = "cannot become nobody",
		[3] = "cannot read " RL_PROC " or it lacks the scenario",
		[5] = "cannot reach a file (stat failed): nothing would be tested",
		[6] = "open for write was not refused with EACCES",
		[7] = "open for read was not refused with EACCES",
	};
	char dirs[NR_UNPRIV_DIRS][256];
	mode_t old[NR_UNPRIV_DIRS];
	int status = -1, code = -1, i;
	struct stat st;
	pid_t pid = -1;

	unpriv_dirs(self->name, dirs);
	for (i = 0; i < NR_UNPRIV_DIRS; i++) {
		ASSERT_EQ(0, stat(dirs[i], &st))
			TH_LOG("%s: %s", dirs[i], strerror(errno));
		old[i] = st.st_mode & 07777;
	}
	fflush(stdout);
	if (unpriv_dirs_chmod(dirs, old, 0005))
		pid = fork();
	if (pid == 0)
		_exit(nobody_checks(self->scn));
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		code = WEXITSTATUS(status);
	/* Put the modes back, whatever happened. */
	if (!unpriv_dirs_chmod(dirs, old, 0))
		code = -1;
	if (code > 0 && code < (int)ARRAY_SIZE(why) && why[code])
		say("nobody: %s", why[code]);
	CHECK(code == 0,
	      "nobody reads %s, reaches %s's %u knob(s), run, stats and plan and is refused (status %d)",
	      RL_PROC, self->name, self->scn->nr_knobs, code);
}

/* The mode file lists the plan's modes in order, the current one in brackets. */
TEST_F(racelab, mode_listing)
{
	const struct rl_scenario *s = self->scn;
	char buf[KNOB_VAL_LEN], want[KNOB_VAL_LEN];
	unsigned int i, k;
	size_t n;

	for (i = 0; i < s->nr_modes; i++) {
		int err = rl_put(s->name, "mode", s->modes[i].name);

		for (k = 0, n = 0; k < s->nr_modes; k++)
			n += snprintf(want + n, sizeof(want) - n,
				      k == i ? "%s[%s]" : "%s%s", k ? " " : "",
				      s->modes[k].name);
		CHECK(!err && !rl_get(s->name, "mode", buf, sizeof(buf)) &&
		      !strcmp(buf, want),
		      "mode=%s: the mode file reads \"%s\" (want \"%s\")",
		      s->modes[i].name, buf, want);
	}
}

/* Each bad value: -EINVAL, and no knob changes. */
TEST_F(racelab, bad_values)
{
	static const struct {
		const char *file, *val;
	} bad[] = {
		{ "mode", "" }, { "mode", "\n" },
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
	const struct rl_scenario *s = self->scn;
	char before[4096], after[4096], longval[200], nosuch[RL_NAME_LEN + 16];
	char path[256];
	unsigned int i, tried = 0;
	int err, fd;
	ssize_t n;

	ASSERT_EQ(0, set_cfg(s, s->modes[0].name, mode_threads(s, &s->modes[0]),
			     1000, "none"));
	ASSERT_EQ(0, rl_put(s->name, "iterations", "1000"));

	/* A mode no plan names. */
	snprintf(nosuch, sizeof(nosuch), "%s-no-such", s->modes[0].name);
	snapshot(s, before, sizeof(before));
	err = rl_put(s->name, "mode", nosuch);
	snapshot(s, after, sizeof(after));
	CHECK(err == -EINVAL && !strcmp(before, after),
	      "mode=\"%s\": %s, knobs unchanged", nosuch, strerror(-err));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (strcmp(bad[i].file, "run") && !rl_has_knob(s, bad[i].file))
			continue;
		tried++;
		snapshot(s, before, sizeof(before));
		err = rl_put(s->name, bad[i].file, bad[i].val);
		snapshot(s, after, sizeof(after));
		CHECK(err == -EINVAL && !strcmp(before, after),
		      "%s=\"%s\": %s, knobs unchanged", bad[i].file,
		      bad[i].val, strerror(-err));
	}
	CHECK(tried == ARRAY_SIZE(bad),
	      "the plan lists every knob with bad values to try (%u of %zu tried)",
	      tried, ARRAY_SIZE(bad));

	/* Every knob of the plan: nothing, and a value too long. */
	memset(longval, '7', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	for (i = 0; i < s->nr_knobs; i++) {
		int err2;

		snapshot(s, before, sizeof(before));
		err = rl_put(s->name, s->knobs[i], "");
		err2 = rl_put(s->name, s->knobs[i], longval);
		snapshot(s, after, sizeof(after));
		CHECK(err == -EINVAL && err2 == -EINVAL && !strcmp(before, after),
		      "%s: empty %s, overlong %s, knobs unchanged", s->knobs[i],
		      strerror(-err), strerror(-err2));
	}

	/* A write at an offset is not a whole value. */
	fd = open(rl_path(s->name, s->knobs[s->nr_knobs > 1], path, sizeof(path)),
		  O_WRONLY);
	n = fd < 0 ? -1 : pwrite(fd, "3", 1, 1);
	err = n < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	CHECK(err == -EINVAL, "%s: write at offset 1: %s", path, strerror(-err));
}

/*
 * A sleeping amplifier in a mode whose window is atomic is refused at
 * start, in whichever order the two knobs were written.
 */
TEST_F(racelab, sleep_in_atomic_window)
{
	const struct rl_scenario *s = self->scn;
	const struct rl_mode *atomic = NULL, *other = NULL;
	unsigned int i, threads;
	int err;

	if (s->amp_none_only)
		SKIP(return, "%s takes no amplifier at all (scenario_rules)", s->name);
	for (i = 0; i < s->nr_modes; i++) {
		const struct rl_mode *m = &s->modes[i];

		if (rl_never_run(m))
			continue;
		if (rl_atomic_window(m) && !atomic)
			atomic = m;
		else if (!rl_atomic_window(m) && !rl_serial_window(m) && !other)
			other = m;
	}
	if (!atomic)
		SKIP(return, "no mode of %s has an atomic window", s->name);

	ASSERT_EQ(0, set_cfg(s, atomic->name, mode_threads(s, atomic), 1000,
			     "none"));
	err = refused_at_start(s, "amplifier", "sleep", "none");
	CHECK(err == -EINVAL, "mode=%s (window %s), then amplifier=sleep: start %s",
	      atomic->name, atomic->window, strerror(-err));
	if (!other) {
		say("no mode of %s has a plain window: the amplifier cannot come first",
		    s->name);
		return;
	}
	/* Threads that suit both modes: the mode is written second. */
	threads = mode_threads(s, other);
	if (threads < mode_threads(s, atomic))
		threads = mode_threads(s, atomic);
	ASSERT_EQ(0, set_cfg(s, other->name, threads, 1000, "sleep"));
	err = refused_at_start(s, "mode", atomic->name, other->name);
	CHECK(err == -EINVAL, "amplifier=sleep, then mode=%s (window %s): start %s",
	      atomic->name, atomic->window, strerror(-err));
}

/*
 * The rules a scenario's plan declares on top of the generic knobs: its
 * thread bounds, its fewest CPUs, an amplifier it does not take. Each
 * value alone is fine; the scenario refuses it at start.
 */
TEST_F(racelab, scenario_rules)
{
	const struct rl_scenario *s = self->scn;
	const struct rl_mode *m = runnable_mode(s);
	char val[32], good[32], why[256];
	unsigned int rules = 0;
	int err;

	if (!m)
		SKIP(return, "every mode of %s is a racy one-shot experiment", s->name);
	ASSERT_EQ(0, set_cfg(s, m->name, mode_threads(s, m), 1000,
			     s->amp_none_only ? "none" : quiet_amp(s)));
	refusal(s->name, why, sizeof(why));
	if (why[0] && self->nr_cpus < (int)s->min_cpus) {
		/* The CPU rule refuses anything here: that is the rule. */
		CHECK(rl_put(s->name, "run", "start") == -EINVAL,
		      "%s needs %u CPUs, %d online: start refused (%s)", s->name,
		      s->min_cpus, self->nr_cpus, why);
		return;
	}
	ASSERT_EQ('\0', why[0]) TH_LOG("%s: mode=%s refused: %s", s->name, m->name, why);
	snprintf(good, sizeof(good), "%u", mode_threads(s, m));
	if (s->max_threads < RL_MAX_THREADS) {
		snprintf(val, sizeof(val), "%u", s->max_threads + 1);
		err = refused_at_start(s, "threads", val, good);
		CHECK(err == -EINVAL, "threads=%s above max_threads=%u: start %s",
		      val, s->max_threads, strerror(-err));
		rules++;
	}
	if (s->min_threads > 1) {
		snprintf(val, sizeof(val), "%u", s->min_threads - 1);
		err = refused_at_start(s, "threads", val, good);
		CHECK(err == -EINVAL, "threads=%s below min_threads=%u: start %s",
		      val, s->min_threads, strerror(-err));
		rules++;
	}
	if (s->min_cpus > 1) {
		snprintf(val, sizeof(val), "%d", self->cpus[0]);
		err = refused_at_start(s, "cpus", val, "any");
		CHECK(err == -EINVAL, "cpus=%s, fewer than min_cpus=%u: start %s",
		      val, s->min_cpus, strerror(-err));
		rules++;
	}
	if (s->amp_none_only) {
		err = refused_at_start(s, "amplifier", "delay:100",
				       "none");
		CHECK(err == -EINVAL, "amplifier=delay:100 where none-only: start %s",
		      strerror(-err));
		rules++;
	}
	if (!rules)
		SKIP(return, "%s declares no bound beyond the generic knobs", s->name);
}

/* While a run is in flight: -EBUSY for start and every knob; stop ends it. */
TEST_F_TIMEOUT(racelab, busy, 120)
{
	const struct rl_scenario *s = self->scn;
	const struct rl_mode *m = quiet_mode(s);
	char before[4096], after[4096], line[1024], verdict[32], state[32];
	char val[KNOB_VAL_LEN];
	const char *amp;
	unsigned int i;
	bool all_busy = true;
	double t;
	int err;

	if (!m)
		SKIP(return, "every fixed mode of %s is a one-shot experiment",
		     s->name);
	if (self->nr_cpus < (int)s->min_cpus)
		SKIP(return, "%s needs %u CPUs", s->name, s->min_cpus);
	/* Threads that sleep in their window, where the window allows it. */
	amp = s->amp_none_only ? "none" :
	      rl_atomic_window(m) ? "delay:1000" : "sleep";
	ASSERT_EQ(0, set_cfg(s, m->name, mode_threads(s, m), 600000, amp));
	ASSERT_EQ(0, rl_put(s->name, "run", "start"))
		TH_LOG("%s/%s amplifier=%s: start refused", s->name, m->name, amp);
	rl_get(s->name, "run", state, sizeof(state));
	CHECK(!strcmp(state, "running"), "%s/%s: run reads 'running' (%s)",
	      s->name, m->name, state);
	err = rl_put(s->name, "run", "start");
	CHECK(err == -EBUSY, "second start: %s", strerror(-err));

	snapshot(s, before, sizeof(before));
	for (i = 0; i < s->nr_knobs; i++) {
		/* Another mode if there is one; any other knob as it is. */
		if (!strcmp(s->knobs[i], "mode"))
			snprintf(val, sizeof(val), "%s",
				 s->modes[m == &s->modes[0] && s->nr_modes > 1].name);
		else if (rl_get(s->name, s->knobs[i], val, sizeof(val)))
			snprintf(val, sizeof(val), "?");
		err = rl_put(s->name, s->knobs[i], val);
		if (err != -EBUSY) {
			say("%s=%s while running: %s", s->knobs[i], val,
			    strerror(-err));
			all_busy = false;
		}
	}
	snapshot(s, after, sizeof(after));
	CHECK(all_busy && !strcmp(before, after),
	      "each of the %u knob writes while running: EBUSY, knobs unchanged",
	      s->nr_knobs);

	t = rl_now_ms();
	err = rl_put(s->name, "run", "stop");
	CHECK(!err && rl_wait_idle(s->name, 5000), "stop: idle after %.0f ms",
	      rl_now_ms() - t);
	CHECK(!rl_stats_line(s->name, "last: ", line, sizeof(line)) &&
	      rl_field(line, "verdict", verdict, sizeof(verdict)) &&
	      !strcmp(verdict, "stopped") && strstr(line, " ended=stop "),
	      "the stopped run's verdict is stopped: %s", line);
	snprintf(val, sizeof(val), "%u", mode_threads(s, m));
	CHECK(!rl_put(s->name, "threads", val), "knobs writable again after stop");
}

/*
 * Every plan run, every mode: a fixed one exact, a racy or broken-fix one
 * that can show here shows its race (retried up to RACY_DEADLINE_MS) where
 * there are the CPUs the plan asks for, one that cannot show here is
 * clean. Racy experiments are one per boot: never run. A sleeping
 * amplifier in an atomic window is refused at start: no case.
 */
TEST_F_TIMEOUT(racelab, modes, 1800)
{
	const struct rl_scenario *s = self->scn;
	char line[1024], verdict[32], kind[32];
	unsigned int p, i;

	if (!s->nr_plans)
		SKIP(return, "%s declares no plan run", s->name);
	if (self->nr_cpus < (int)s->min_cpus)
		SKIP(return, "%s needs %u CPUs, %d online", s->name,
		     s->min_cpus, self->nr_cpus);
	for (p = 0; p < s->nr_plans; p++) {
		const struct rl_run_plan *plan = &s->plans[p];

		for (i = 0; i < s->nr_modes; i++) {
			const struct rl_mode *m = &s->modes[i];
			bool ask = !rl_fixed(m) && m->shows_here &&
				   self->nr_cpus >= (int)plan->racy_cpus;
			double end = rl_now_ms() + RACY_DEADLINE_MS;
			unsigned int attempts = 0;
			const char *how;
			bool ok;
			int err;

			if (rl_never_run(m)) {
				say("%s/%s: not run, a one-shot experiment",
				    s->name, m->name);
				continue;
			}
			/* A rule refuses it at start: sleep_in_atomic_window. */
			if (!strncmp(plan->amp, "sleep", 5) &&
			    rl_atomic_window(m)) {
				say("%s/%s amplifier %s: no case, its window is atomic",
				    s->name, m->name, plan->amp);
				continue;
			}
			err = set_cfg(s, m->name, mode_threads(s, m),
				      plan->duration_ms, plan->amp);
			if (err) {
				CHECK(false, "%s/%s amplifier %s: knobs refused (%s)",
				      s->name, m->name, plan->amp, strerror(-err));
				continue;
			}
			do {
				attempts++;
				err = run_once(s->name, line, sizeof(line));
				if (err || !rl_field(line, "verdict", verdict,
						     sizeof(verdict)))
					break;
			} while (ask && strcmp(verdict, "race") &&
				 rl_now_ms() < end);
			if (err || !rl_field(line, "verdict", verdict,
					     sizeof(verdict))) {
				CHECK(false, "%s/%s amplifier %s: run failed (%s)",
				      s->name, m->name, plan->amp,
				      strerror(err ? -err : EINVAL));
				continue;
			}
			say("%s", line);
			ok = rl_is(line, "mode", m->name) &&
			     rl_field(line, "kind", kind, sizeof(kind)) &&
			     !strcmp(kind, m->kind) &&
			     rl_num(line, "expected") > 0 &&
			     rl_num(line, "observed") <= rl_num(line, "expected") &&
			     rl_num(line, "min_thread_ops") > 0;
			if (ask) {
				how = "must race";
				ok = ok && !strcmp(verdict, "race") &&
				     rl_num(line, "anomalies") > 0;
			} else if (rl_fixed(m) || !m->shows_here) {
				how = rl_fixed(m) ? "must be exact" :
				      "cannot show here, must be clean";
				ok = ok && !strcmp(verdict, "clean") &&
				     rl_num(line, "anomalies") == 0 &&
				     (!rl_fixed(m) || rl_num(line, "observed") ==
						      rl_num(line, "expected"));
			} else {
				how = "not asked to race on this few CPUs";
				ok = ok && strcmp(verdict, "stopped");
			}
			CHECK(ok, "%s/%s (%s, %s; amplifier %s, %u ms): verdict %s after %u run(s)",
			      s->name, m->name, m->kind, how, plan->amp,
			      plan->duration_ms, verdict, attempts);
		}
	}
}

/*
 * The scenario's row of /proc/racelab holds what its last verdict line in
 * stats says, after a run of its own.
 */
TEST_F_TIMEOUT(racelab, proc_row, 120)
{
	static const char *const cols[] = {
		"mode", "kind", "expected", "observed", "anomalies", "verdict",
	};
	const struct rl_scenario *s = self->scn;
	const struct rl_mode *m = quiet_mode(s);
	static char buf[32768];
	char line[1024], want[64], got[64];
	unsigned int i;
	int err;

	if (!m || self->nr_cpus < (int)s->min_cpus) {
		ASSERT_EQ(0, rl_read_path(RL_PROC, buf, sizeof(buf)));
		CHECK(proc_cell(buf, s->name, "scenario", got, sizeof(got)),
		      "%s: a row for %s", RL_PROC, s->name);
		SKIP(return, "%s: no run to compare (%s)", s->name,
		     m ? "too few CPUs" : "only one-shot experiments are fixed");
	}
	ASSERT_EQ(0, set_cfg(s, m->name, mode_threads(s, m), 200,
			     quiet_amp(s)));
	err = run_once(s->name, line, sizeof(line));
	ASSERT_EQ(0, err) TH_LOG("%s/%s: run failed: %s", s->name, m->name,
				 strerror(-err));
	ASSERT_EQ(0, rl_read_path(RL_PROC, buf, sizeof(buf)));
	for (i = 0; i < ARRAY_SIZE(cols); i++) {
		snprintf(want, sizeof(want), "?");
		snprintf(got, sizeof(got), "?");
		CHECK(rl_field(line, cols[i], want, sizeof(want)) &&
		      proc_cell(buf, s->name, cols[i], got, sizeof(got)) &&
		      !strcmp(want, got),
		      "%s: %s is %s in stats, %s in %s", s->name, cols[i], want,
		      got, RL_PROC);
	}
}

/* Steps of @threads threads: lock-step (every thread's step i, then i+1...) or serial. */
static void make_schedule(const struct rl_scenario *s, bool lockstep,
			  char sep, char *buf, size_t len)
{
	unsigned int n = strlen(s->steps), t, i;
	char between[2] = { sep, '\0' };
	size_t w = 0;

	buf[0] = '\0';
	for (i = 0; i < n * s->sched_threads && w < len; i++) {
		unsigned int step = lockstep ? i / s->sched_threads : i % n;

		t = lockstep ? i % s->sched_threads : i / n;
		w += snprintf(buf + w, len - w, "%s%c%u", i ? between : "",
			      s->steps[step], t);
	}
}

/* The outcome of a run, for comparing two replays. */
static void outcome(const char *line, char *out, size_t len)
{
	snprintf(out, len, "expected=%llu observed=%llu anomalies=%llu",
		 rl_num(line, "expected"), rl_num(line, "observed"),
		 rl_num(line, "anomalies"));
}

/*
 * A schedule replays one exact interleaving: the same outcome every time.
 * The lock-step one (every thread's first step before any thread's second)
 * is the race, the serial one (thread 0's steps, then thread 1's) is not.
 * Schedules out of a thread's order, incomplete or with a step or thread
 * the plan lacks are refused, knobs unchanged.
 */
TEST_F_TIMEOUT(racelab, schedule, 120)
{
	const struct rl_scenario *s = self->scn;
	const struct rl_mode *m = runnable_mode(s);
	char sched[128], shown[128], line[1024], stats[8192], path[256];
	char first[128], again[128], bad[128], before[4096], after[4096];
	unsigned int n = strlen(s->steps), round, i, k;
	char letter;
	int lockstep, err;

	if (!s->steps[0])
		SKIP(return, "%s replays no schedule", s->name);
	ASSERT_NE(NULL, m);
	ASSERT_LE(2U, s->sched_threads);
	ASSERT_GE(s->sched_max_steps, n * s->sched_threads);
	ASSERT_EQ(0, set_cfg(s, m->name, s->sched_threads, 1000, "none"));

	for (lockstep = 1; lockstep >= 0; lockstep--) {
		bool ok = true;

		make_schedule(s, lockstep, ' ', sched, sizeof(sched));
		make_schedule(s, lockstep, ',', shown, sizeof(shown));
		/* Twice: a replay gives the same outcome every time. */
		for (round = 0; round < 2 && ok; round++) {
			err = rl_put(s->name, "schedule", sched);
			ok = !err && !run_once(s->name, line, sizeof(line)) &&
			     rl_is(line, "mode", "schedule") &&
			     strstr(line, shown);
			outcome(line, round ? again : first, sizeof(first));
			say("%s", line);
		}
		ok = ok && !strcmp(first, again) &&
		     (lockstep ? rl_num(line, "anomalies") > 0 :
				 rl_num(line, "anomalies") == 0);
		ok = ok && !rl_read_path(rl_path(s->name, "stats", path, sizeof(path)),
					 stats, sizeof(stats)) &&
		     strstr(stats, shown);
		CHECK(ok, "%s schedule %s (%s): %s, twice", s->name, sched,
		      lockstep ? "lock-step, a race" : "serial, no race", first);
		rl_put(s->name, "schedule", "none");
	}

	/* Refused, knobs unchanged: the bad schedules. */
	for (i = 0; i < 4; i++) {
		make_schedule(s, false, ' ', bad, sizeof(bad));
		switch (i) {
		case 0:		/* thread 0's steps rotated by one */
			/* Its order whatever the order, if all are one letter. */
			if (strspn(s->steps, (char []){ s->steps[0], '\0' }) == n)
				continue;
			for (k = 0; k < n; k++)
				bad[3 * k] = s->steps[(k + n - 1) % n];
			break;
		case 1:		/* thread 0's steps only */
			bad[n * 3 - 1] = '\0';
			break;
		case 2:		/* a thread the schedule has not */
			bad[1] = '0' + s->sched_threads;
			break;
		case 3:		/* a step the scenario has not */
			for (letter = 'A'; strchr(s->steps, letter); letter++)
				;
			bad[0] = letter;
			break;
		}
		snapshot(s, before, sizeof(before));
		err = rl_put(s->name, "schedule", bad);
		snapshot(s, after, sizeof(after));
		CHECK(err == -EINVAL && !strcmp(before, after),
		      "schedule \"%s\": %s, knobs unchanged", bad, strerror(-err));
	}
}

int main(int argc, char **argv)
{
	if (geteuid()) {
		ksft_print_header();
		ksft_exit_skip("must run as root\n");
	}
	if (access(RL_TOP, F_OK)) {
		ksft_print_header();
		ksft_exit_skip("%s missing: load racelab.ko, mount debugfs\n",
			       RL_TOP);
	}
	return test_harness_run(argc, argv);
}

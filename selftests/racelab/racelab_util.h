/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the racelab kselftests share: reading and writing the debugfs files
 * of a scenario, key=value lines (verdicts, stats), and the parser of
 * racelab/<scenario>/plan, from which the tests learn every scenario, mode
 * and knob: no test names one.
 *
 * A plan file has one record per line, its type first, then key=value
 * pairs without blanks, except about=, names= and pairs=, which run to the
 * end of the line:
 *
 *   scenario name= modes= min_cpus= min_threads= max_threads=
 *            reader_writer=yes|no amplifier=any|none-only
 *            one_cpu_amplifier= detect_amplifier= demo_compare= about=
 *   knobs names=mode,threads,...
 *   file name= mode=0600 about=                   (0..n: a scenario's own)
 *   schedule steps= threads= max_steps=          (a schedule knob only)
 *   plan amplifier= duration_ms= racy_cpus=       (0..n lines)
 *   mode name= kind=racy|broken-fix|fixed min_threads= window=
 *        auto_amplifier= experiment=yes|no lockdep_off=yes|no
 *        shows_here=yes|no why_not= kcsan= lockdep= kasan= kcheck= about=
 *   report mode= detector= must=yes|no names=a|b
 *   sample min_expected=                          (0..1 line)
 *   always pairs=k=v k=v                          (0..1 line)
 *
 * Everything here is static inline: each test takes what it uses.
 */
#ifndef RACELAB_UTIL_H
#define RACELAB_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef RL_TOP
#define RL_TOP		"/sys/kernel/debug/racelab"	/* -D for a fake tree */
#endif
#define RL_PROC		"/proc/racelab"
#define RL_CPUS_ONLINE	"/sys/devices/system/cpu/online"

#define RL_NAME_LEN	32
#define RL_MAX_SCNS	64	/* the module's own bound */
#define RL_MAX_MODES	32
#define RL_MAX_KNOBS	16
#define RL_MAX_FILES	4
#define RL_MAX_PLANS	8
#define RL_AMP_LEN	24
#define RL_MAX_THREADS	64	/* the threads knob's range: 1-64 */

struct rl_mode {
	char name[RL_NAME_LEN];
	char kind[16];		/* racy, broken-fix, fixed */
	unsigned int min_threads;	/* its own, the scenario's included */
	char window[24];	/* plain, atomic, serial, atomic,serial */
	char auto_amp[RL_AMP_LEN];
	char why_not[RL_NAME_LEN];
	bool experiment;	/* a one-shot lockdep experiment */
	bool lockdep_off;	/* its report turns lockdep off */
	bool shows_here;	/* racy, and can show its race on this kernel */
};

/* One run the tests hold every mode to. */
struct rl_run_plan {
	char amp[RL_AMP_LEN];
	unsigned int duration_ms;
	unsigned int racy_cpus;	/* fewest CPUs its racy modes must race on */
};

struct rl_scenario {
	char name[RL_NAME_LEN];
	unsigned int min_cpus, min_threads, max_threads;
	bool reader_writer;
	bool amp_none_only;	/* amplifier=none-only: takes no amplifier */
	char one_cpu_amp[RL_AMP_LEN];
	char detect_amp[RL_AMP_LEN];
	char knobs[RL_MAX_KNOBS][RL_NAME_LEN];
	unsigned int nr_knobs;
	char files[RL_MAX_FILES][RL_NAME_LEN];	/* its own files */
	unsigned int file_modes[RL_MAX_FILES];
	unsigned int nr_files;
	char steps[RL_NAME_LEN];	/* schedule letters; "" if none */
	unsigned int sched_threads, sched_max_steps;
	struct rl_run_plan plans[RL_MAX_PLANS];
	unsigned int nr_plans;
	struct rl_mode modes[RL_MAX_MODES];
	unsigned int nr_modes;
};

/* ---- files ---- */

static inline double rl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The path of @file in the directory of scenario @scn. */
static inline const char *rl_path(const char *scn, const char *file,
				  char *buf, size_t len)
{
	snprintf(buf, len, RL_TOP "/%.31s/%.31s", scn, file);
	return buf;
}

/* Write @val to @path in one write(): 0 or -errno. */
static inline int rl_put_path(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
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

/* Write @val to @file of scenario @scn in one write(): 0 or -errno. */
static inline int rl_put(const char *scn, const char *file, const char *val)
{
	char path[256];

	return rl_put_path(rl_path(scn, file, path, sizeof(path)), val);
}

/* All of @path (up to @len - 1 bytes) into @buf: 0 or -errno. */
static inline int rl_read_path(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The first line of @file of scenario @scn, without its newline. */
static inline int rl_get(const char *scn, const char *file, char *buf,
			 size_t len)
{
	char path[256];
	int err = rl_read_path(rl_path(scn, file, path, sizeof(path)), buf, len);

	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* 1: idle, 0: running, -errno: unreadable (module gone?). */
static inline int rl_is_idle(const char *scn)
{
	char state[32];
	int err = rl_get(scn, "run", state, sizeof(state));

	if (err)
		return err;
	return !strcmp(state, "idle");
}

/* Wait up to @ms for scenario @scn to be idle. */
static inline bool rl_wait_idle(const char *scn, double ms)
{
	double end = rl_now_ms() + ms;

	do {
		if (rl_is_idle(scn) == 1)
			return true;
		usleep(10000);
	} while (rl_now_ms() < end);
	return false;
}

/* The line of stats that starts with @prefix, without it; "" if none. */
static inline int rl_stats_line(const char *scn, const char *prefix,
				char *out, size_t len)
{
	char path[256], stats[8192], *p;
	int err;

	out[0] = '\0';
	err = rl_read_path(rl_path(scn, "stats", path, sizeof(path)), stats,
			   sizeof(stats));
	if (err)
		return err;
	p = strstr(stats, prefix);
	if (!p)
		return -ENOENT;
	p += strlen(prefix);
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	return 0;
}

/* ---- key=value lines ---- */

/* The value of @key in a line of key=value pairs; false if absent. */
static inline bool rl_field(const char *line, const char *key, char *val,
			    size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!strncmp(line, pat + 1, strlen(pat + 1)))
		p = line + strlen(pat + 1);	/* the first key */
	else if (p)
		p += strlen(pat);
	else
		return false;
	snprintf(val, len, "%.*s", (int)strcspn(p, "\n "), p);
	return true;
}

/* The number @key holds; ~0ULL if absent. */
static inline unsigned long long rl_num(const char *line, const char *key)
{
	char val[64];

	if (!rl_field(line, key, val, sizeof(val)))
		return ~0ULL;
	return strtoull(val, NULL, 10);
}

static inline bool rl_is(const char *line, const char *key, const char *want)
{
	char val[128];

	return rl_field(line, key, val, sizeof(val)) && !strcmp(val, want);
}

/* Is @word one of the @sep separated words of @list? */
static inline bool rl_in_list(const char *list, const char *word, char sep)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && *p) {
		if (!strncmp(p, word, n) && (p[n] == sep || !p[n]))
			return true;
		p = strchr(p, sep);
		if (p)
			p++;
	}
	return false;
}

/* ---- plan files ---- */

/*
 * Split @rec (modified) into @max key=value pairs after its type: about=,
 * names= and pairs= take the rest of the line. Return the number of pairs,
 * or -1 if a word is not key=value.
 */
static inline int rl_split(char *rec, char **key, char **val, int max)
{
	char *p = rec + strcspn(rec, " ");
	int n = 0;

	while (*p) {
		char *eq;

		*p++ = '\0';
		if (!*p)
			break;
		eq = strchr(p, '=');
		if (!eq || eq == p || memchr(p, ' ', eq - p) || n == max)
			return -1;
		*eq = '\0';
		key[n] = p;
		val[n] = eq + 1;
		if (!strcmp(p, "about") || !strcmp(p, "names") ||
		    !strcmp(p, "pairs"))
			return n + 1;
		p = eq + 1 + strcspn(eq + 1, " ");
		n++;
	}
	return n;
}

/* The value of @name among the pairs, or NULL. */
static inline const char *rl_pair(char **key, char **val, int n,
				  const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(key[i], name))
			return val[i];
	return NULL;
}

/* Copy a required string value; false (and @why says so) if absent. */
static inline bool rl_take(char *dst, size_t len, const char *v,
			   const char *what, char *why, size_t wlen)
{
	if (!v || !*v) {
		snprintf(why, wlen, "%s missing", what);
		return false;
	}
	if (strlen(v) >= len) {
		snprintf(why, wlen, "%s too long: %s", what, v);
		return false;
	}
	snprintf(dst, len, "%s", v);
	return true;
}

static inline bool rl_take_uint(unsigned int *dst, const char *v,
				const char *what, char *why, size_t wlen)
{
	char *end;
	unsigned long n;

	if (!v || !*v) {
		snprintf(why, wlen, "%s missing", what);
		return false;
	}
	n = strtoul(v, &end, 10);
	if (*end || n > 1000000000UL) {
		snprintf(why, wlen, "%s is not a number: %s", what, v);
		return false;
	}
	*dst = n;
	return true;
}

static inline bool rl_take_bool(bool *dst, const char *v, const char *what,
				char *why, size_t wlen)
{
	if (v && (!strcmp(v, "yes") || !strcmp(v, "no"))) {
		*dst = !strcmp(v, "yes");
		return true;
	}
	snprintf(why, wlen, "%s is not yes or no: %s", what, v ? v : "(missing)");
	return false;
}

static inline int rl_parse_scenario_rec(struct rl_scenario *s, char **k,
					char **v, int n, unsigned int *modes,
					char *why, size_t wlen)
{
	const char *amp = rl_pair(k, v, n, "amplifier");

	if (!rl_take(s->name, sizeof(s->name), rl_pair(k, v, n, "name"),
		     "scenario name", why, wlen) ||
	    !rl_take_uint(modes, rl_pair(k, v, n, "modes"), "modes", why, wlen) ||
	    !rl_take_uint(&s->min_cpus, rl_pair(k, v, n, "min_cpus"),
			  "min_cpus", why, wlen) ||
	    !rl_take_uint(&s->min_threads, rl_pair(k, v, n, "min_threads"),
			  "min_threads", why, wlen) ||
	    !rl_take_uint(&s->max_threads, rl_pair(k, v, n, "max_threads"),
			  "max_threads", why, wlen) ||
	    !rl_take_bool(&s->reader_writer, rl_pair(k, v, n, "reader_writer"),
			  "reader_writer", why, wlen) ||
	    !rl_take(s->one_cpu_amp, sizeof(s->one_cpu_amp),
		     rl_pair(k, v, n, "one_cpu_amplifier"), "one_cpu_amplifier",
		     why, wlen) ||
	    !rl_take(s->detect_amp, sizeof(s->detect_amp),
		     rl_pair(k, v, n, "detect_amplifier"), "detect_amplifier",
		     why, wlen))
		return -EINVAL;
	if (!amp || (strcmp(amp, "any") && strcmp(amp, "none-only"))) {
		snprintf(why, wlen, "amplifier is not any or none-only: %s",
			 amp ? amp : "(missing)");
		return -EINVAL;
	}
	s->amp_none_only = !strcmp(amp, "none-only");
	if (!s->min_cpus || !s->min_threads ||
	    s->min_threads > s->max_threads || s->max_threads > RL_MAX_THREADS) {
		snprintf(why, wlen, "bounds out of range: cpus>=%u threads %u..%u",
			 s->min_cpus, s->min_threads, s->max_threads);
		return -EINVAL;
	}
	return 0;
}

static inline int rl_parse_knobs_rec(struct rl_scenario *s, const char *names,
				     char *why, size_t wlen)
{
	const char *p = names;

	if (!names || !*names) {
		snprintf(why, wlen, "knobs names= missing");
		return -EINVAL;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		if (!len || len >= RL_NAME_LEN || s->nr_knobs == RL_MAX_KNOBS) {
			snprintf(why, wlen, "knobs: bad list %s", names);
			return -EINVAL;
		}
		snprintf(s->knobs[s->nr_knobs++], RL_NAME_LEN, "%.*s",
			 (int)len, p);
		p += len + !!p[len];
	}
	return 0;
}

static inline int rl_parse_mode_rec(struct rl_scenario *s, char **k, char **v,
				    int n, char *why, size_t wlen)
{
	struct rl_mode *m;
	const char *kind = rl_pair(k, v, n, "kind");

	if (s->nr_modes == RL_MAX_MODES) {
		snprintf(why, wlen, "more than %d modes", RL_MAX_MODES);
		return -EINVAL;
	}
	m = &s->modes[s->nr_modes];
	if (!rl_take(m->name, sizeof(m->name), rl_pair(k, v, n, "name"),
		     "mode name", why, wlen) ||
	    !rl_take(m->kind, sizeof(m->kind), kind, "kind", why, wlen) ||
	    !rl_take_uint(&m->min_threads, rl_pair(k, v, n, "min_threads"),
			  "mode min_threads", why, wlen) ||
	    !rl_take(m->window, sizeof(m->window), rl_pair(k, v, n, "window"),
		     "window", why, wlen) ||
	    !rl_take(m->auto_amp, sizeof(m->auto_amp),
		     rl_pair(k, v, n, "auto_amplifier"), "auto_amplifier",
		     why, wlen) ||
	    !rl_take(m->why_not, sizeof(m->why_not), rl_pair(k, v, n, "why_not"),
		     "why_not", why, wlen) ||
	    !rl_take_bool(&m->experiment, rl_pair(k, v, n, "experiment"),
			  "experiment", why, wlen) ||
	    !rl_take_bool(&m->lockdep_off, rl_pair(k, v, n, "lockdep_off"),
			  "lockdep_off", why, wlen) ||
	    !rl_take_bool(&m->shows_here, rl_pair(k, v, n, "shows_here"),
			  "shows_here", why, wlen))
		return -EINVAL;
	if (strcmp(m->kind, "racy") && strcmp(m->kind, "broken-fix") &&
	    strcmp(m->kind, "fixed")) {
		snprintf(why, wlen, "mode %s: unknown kind %s", m->name, m->kind);
		return -EINVAL;
	}
	if (!strcmp(m->kind, "fixed") && m->shows_here) {
		snprintf(why, wlen, "mode %s: fixed, yet shows_here=yes", m->name);
		return -EINVAL;
	}
	s->nr_modes++;
	return 0;
}

static inline const struct rl_mode *rl_mode_find(const struct rl_scenario *s,
						 const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr_modes; i++)
		if (!strcmp(s->modes[i].name, name))
			return &s->modes[i];
	return NULL;
}

static inline bool rl_has_knob(const struct rl_scenario *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr_knobs; i++)
		if (!strcmp(s->knobs[i], name))
			return true;
	return false;
}

/*
 * Parse the text of a plan file (modified) into @s. Unknown record types
 * and keys are ignored, so that a plan may grow; what the tests rely on
 * must be there and make sense. 0, or -EINVAL with the reason in @why.
 */
static inline int rl_plan_parse(char *text, struct rl_scenario *s, char *why,
				size_t wlen)
{
	unsigned int modes = 0, line = 0;
	bool seen_scn = false, seen_knobs = false;
	char *rec, *save, *k[24], *v[24];
	int n, err = 0;

	memset(s, 0, sizeof(*s));
	why[0] = '\0';
	for (rec = strtok_r(text, "\n", &save); rec && !err;
	     rec = strtok_r(NULL, "\n", &save)) {
		char type[16];

		line++;
		snprintf(type, sizeof(type), "%.*s", (int)strcspn(rec, " "), rec);
		n = rl_split(rec, k, v, 24);
		if (n < 0) {
			snprintf(why, wlen, "line %u (%s): not key=value pairs",
				 line, type);
			return -EINVAL;
		}
		if (!strcmp(type, "scenario")) {
			err = rl_parse_scenario_rec(s, k, v, n, &modes, why, wlen);
			seen_scn = true;
		} else if (!strcmp(type, "knobs")) {
			err = rl_parse_knobs_rec(s, rl_pair(k, v, n, "names"),
						 why, wlen);
			seen_knobs = true;
		} else if (!strcmp(type, "schedule")) {
			if (!rl_take(s->steps, sizeof(s->steps),
				     rl_pair(k, v, n, "steps"), "schedule steps",
				     why, wlen) ||
			    !rl_take_uint(&s->sched_threads,
					  rl_pair(k, v, n, "threads"),
					  "schedule threads", why, wlen) ||
			    !rl_take_uint(&s->sched_max_steps,
					  rl_pair(k, v, n, "max_steps"),
					  "schedule max_steps", why, wlen))
				err = -EINVAL;
		} else if (!strcmp(type, "plan")) {
			struct rl_run_plan *p = &s->plans[s->nr_plans];

			if (s->nr_plans == RL_MAX_PLANS) {
				snprintf(why, wlen, "more than %d plans",
					 RL_MAX_PLANS);
				err = -EINVAL;
			} else if (!rl_take(p->amp, sizeof(p->amp),
					    rl_pair(k, v, n, "amplifier"),
					    "plan amplifier", why, wlen) ||
				   !rl_take_uint(&p->duration_ms,
						 rl_pair(k, v, n, "duration_ms"),
						 "plan duration_ms", why, wlen) ||
				   !rl_take_uint(&p->racy_cpus,
						 rl_pair(k, v, n, "racy_cpus"),
						 "plan racy_cpus", why, wlen)) {
				err = -EINVAL;
			} else {
				s->nr_plans++;
			}
		} else if (!strcmp(type, "file")) {
			const char *fmode = rl_pair(k, v, n, "mode");

			if (s->nr_files == RL_MAX_FILES || !fmode) {
				snprintf(why, wlen, "file: too many or no mode");
				err = -EINVAL;
			} else if (rl_take(s->files[s->nr_files], RL_NAME_LEN,
					   rl_pair(k, v, n, "name"), "file name",
					   why, wlen)) {
				s->file_modes[s->nr_files++] =
					strtoul(fmode, NULL, 8);
			} else {
				err = -EINVAL;
			}
		} else if (!strcmp(type, "mode")) {
			err = rl_parse_mode_rec(s, k, v, n, why, wlen);
		} else if (!strcmp(type, "report")) {
			const char *m = rl_pair(k, v, n, "mode");

			if (!m || !rl_mode_find(s, m)) {
				snprintf(why, wlen, "report of an unknown mode %s",
					 m ? m : "(missing)");
				err = -EINVAL;
			}
		}
	}
	if (err)
		return err;
	if (!seen_scn || !seen_knobs) {
		snprintf(why, wlen, "no %s record",
			 seen_scn ? "knobs" : "scenario");
		return -EINVAL;
	}
	if (!modes || modes != s->nr_modes) {
		snprintf(why, wlen, "modes=%u but %u mode record(s)", modes,
			 s->nr_modes);
		return -EINVAL;
	}
	if (!s->nr_knobs || strcmp(s->knobs[0], "mode")) {
		snprintf(why, wlen, "the knobs do not start with the mode knob");
		return -EINVAL;
	}
	if (!s->steps[0] != !rl_has_knob(s, "schedule")) {
		snprintf(why, wlen, "a schedule record without the schedule knob, or the reverse");
		return -EINVAL;
	}
	return 0;
}

/* Read and parse the plan of the scenario in directory @dir of RL_TOP. */
static inline int rl_plan_read(const char *dir, struct rl_scenario *s,
			       char *why, size_t wlen)
{
	static char text[32768];
	char path[256], msg[256] = "";
	int err;

	err = rl_read_path(rl_path(dir, "plan", path, sizeof(path)), text,
			   sizeof(text));
	if (err)
		snprintf(msg, sizeof(msg), "%s", strerror(-err));
	else if (strlen(text) == sizeof(text) - 1)
		snprintf(msg, sizeof(msg), "longer than %zu bytes",
			 sizeof(text) - 1);
	else
		err = rl_plan_parse(text, s, msg, sizeof(msg));
	if (!err && strcmp(s->name, dir)) {
		snprintf(msg, sizeof(msg), "names scenario %s", s->name);
		err = -EINVAL;
	}
	if (err)
		snprintf(why, wlen, "%.100s: %.150s", path, msg);
	return err;
}

static inline int rl_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The scenario directories under RL_TOP, sorted (readdir() order is not
 * stable across boots; a seed must be). Return their number, or -errno.
 */
static inline int rl_list_scenarios(char names[][RL_NAME_LEN], int max)
{
	DIR *d = opendir(RL_TOP);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= RL_NAME_LEN)
			continue;
		if (n == max) {		/* never cut the list short silently */
			closedir(d);
			return -E2BIG;
		}
		snprintf(names[n++], RL_NAME_LEN, "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, RL_NAME_LEN, rl_name_cmp);
	return n;
}

/* ---- modes, as the plan describes them ---- */

static inline bool rl_fixed(const struct rl_mode *m)
{
	return !strcmp(m->kind, "fixed");
}

/* A racy experiment is one per boot (it may turn lockdep off): never run. */
static inline bool rl_never_run(const struct rl_mode *m)
{
	return m->experiment && !rl_fixed(m);
}

static inline bool rl_atomic_window(const struct rl_mode *m)
{
	return rl_in_list(m->window, "atomic", ',');
}

static inline bool rl_serial_window(const struct rl_mode *m)
{
	return rl_in_list(m->window, "serial", ',');
}

/* ---- CPUs ---- */

/* Online CPUs, from a cpulist such as "0-1,3": how many, or -errno. */
static inline int rl_online_cpus(int *cpus, int max)
{
	char buf[1024], *p, *save;
	int lo, hi, n = 0, err;

	err = rl_read_path(RL_CPUS_ONLINE, buf, sizeof(buf));
	if (err)
		return err;
	for (p = strtok_r(buf, ",\n", &save); p; p = strtok_r(NULL, ",\n", &save)) {
		if (sscanf(p, "%d-%d", &lo, &hi) != 2) {
			lo = atoi(p);
			hi = lo;
		}
		for (; lo <= hi && n < max; lo++)
			cpus[n++] = lo;
	}
	return n ? n : -ENOENT;
}

#endif /* RACELAB_UTIL_H */

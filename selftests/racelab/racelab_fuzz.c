// SPDX-License-Identifier: GPL-2.0
/*
 * racelab valid-configuration fuzzer.
 *
 * Random knob combinations for every scenario and mode, started through
 * debugfs. A start the module refuses (-EINVAL) is counted and skipped;
 * every run it accepts must keep the promises of issue 8:
 *
 *   - it ends (run reads idle) within duration_ms + 1 s;
 *   - a stop written at a random moment takes effect within 100 ms;
 *   - rmmod at a random moment returns within 1 s, leaves no racelab
 *     kthread behind, and the module loads again;
 *   - a fixed mode is clean: no anomaly, ever;
 *   - the verdict line matches the run (mode, knobs, how it ended);
 *   - MemAvailable stays above a floor during runs and comes back at the
 *     end;
 *   - the kernel log shows no RCU stall, lockup, hung task, OOM, BUG or
 *     WARNING.
 *
 * Then a phase of long runs (20 s each by default) of the fixed modes most
 * at risk, those of the reader/writer scenarios, with the widest window the
 * knobs accept and many threads: they must be clean, every thread must
 * have progressed, and they must end on time.
 *
 * Seeded: a case's knobs, the order they are written in and the moment of
 * its stop or rmmod come from (seed, case number) alone, so
 * "racelab_fuzz -s SEED -c CASE" replays one case. The fuzzer is budgeted
 * by time, not by a count.
 *
 * Usage: racelab_fuzz [-s SEED] [-n CASES] [-t SECONDS] [-c CASE] [-L SECONDS]
 *   -s  seed (default: from the clock; also RACELAB_FUZZ_SEED)
 *   -n  at most this many random cases (default: as many as time allows)
 *   -t  budget of the whole fuzzer in seconds, long phase included (290)
 *   -c  run random case CASE only, and no long phase
 *   -L  length of each long run in seconds (20, one of them 33; 0: none)
 *
 * Needs root, debugfs and racelab.ko loaded. rmmod cases reload the module
 * from $RACELAB_KO (modprobe if unset).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <sched.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "racelab_util.h"

#define MAX_THREADS	RL_MAX_THREADS
#define MAX_SCHED_THREADS 8	/* threads a schedule is drawn for, at most */
#define MAX_DELAY_NS	100000
#define MAX_SLEEP_US	10000
#define MAX_ITERATIONS	1000000000ULL
#define MAX_CPUS	256

#define END_SLACK_MS	1000	/* a run ends within duration_ms + this */
#define STOP_MS		100	/* the threads stop within this of a stop */
#define STOP_IDLE_MS	1000	/* and the run is over (idle) within this */
#define RMMOD_MS	1000	/* rmmod returns within this */
#define HUNG_MS		15000	/* not idle after this: the module is hung */
#define EARLY_MS	20	/* ended=deadline this much before duration_ms */
#define MEM_DRIFT_MIB	64	/* MemAvailable drop allowed, start to end */
#define MEM_DIP_MIB	256	/* MemAvailable drop allowed during a run */
#define MEM_SETTLE_MS	15000	/* how long the end waits for memory back */
#define BUDGET_S	290
#define LONG_S		20
/*
 * One long run (the seed picks which) lasts this long: past 32.767 s, a
 * kernel timer of HZ=1000 is rounded up to 4.096 s (kernel/time/timer.c),
 * a deadline kept with one would end the run late.
 */
#define LONG_WHEEL_S	33
#define LONG_AMP	"delay:100000"	/* the widest window the knobs accept */
#define RMMOD_CASE	3	/* this case always does an rmmod */
#define MAX_REASONS	16

/* One configuration, and what the fuzzer does while it runs. */
struct cfg {
	const struct rl_scenario *scn;
	const struct rl_mode *mode;
	unsigned int threads;
	unsigned long long iterations;
	unsigned int duration_ms;
	char amp[24];
	char cpus[64];
	char sched[64];		/* "" if the scenario has no schedule knob */
	int stop_ms;		/* write stop this long after start; -1: never */
	int rmmod_ms;		/* rmmod this long after start; -1: never */
	char desc[320];		/* the knobs, as a KTAP description */
};

/* What happened to one started run. */
struct outcome {
	double t_start;		/* ms, just before the start write */
	double t_stop;		/* ms, just before the stop write; 0: none */
	double t_idle;		/* ms, first seen idle; 0: never */
	double rmmod_took;	/* ms; -1: no rmmod yet, -2: it failed */
	bool stopped;
	bool late;		/* not idle by duration_ms + 1 s */
	int kmsg_hits;
	long long mem_low_kb;
	char line[1024];	/* the verdict line */
	char why[512];		/* what broke, if anything */
};

static struct rl_scenario scns[RL_MAX_SCNS];
static unsigned int nr_scns;
static int cpus[MAX_CPUS];
static unsigned int nr_cpus;
static unsigned long long seed;
static long long mem_start_kb, mem_low_kb, mem_floor_kb;
static int kmsg_fd = -1;
static bool can_rmmod;
static double t_begin;

static struct {
	unsigned int runs, refused, stopped, rmmods, failed, long_runs;
} count;

static struct {
	char why[256];
	unsigned int n;
} reasons[MAX_REASONS];

/* ---- random numbers: splitmix64, one stream per case ---- */

struct rng {
	unsigned long long s;
};

static unsigned long long rng_next(struct rng *r)
{
	unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, unsigned long long seed,
		     unsigned long long stream)
{
	r->s = seed ^ (stream * 0xd1342543de82ef95ULL);
	rng_next(r);
}

static unsigned long long rng_below(struct rng *r, unsigned long long n)
{
	return n ? rng_next(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static unsigned long long rng_range(struct rng *r, unsigned long long lo,
				    unsigned long long hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static bool rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

static unsigned int bits_of(unsigned long long v)
{
	unsigned int b = 0;

	while (v) {
		b++;
		v >>= 1;
	}
	return b;
}

/* Log-uniform in [lo, hi], lo >= 1: as many small values as large ones. */
static unsigned long long rng_log(struct rng *r, unsigned long long lo,
				  unsigned long long hi)
{
	unsigned int b = rng_range(r, bits_of(lo), bits_of(hi));
	unsigned long long from = 1ULL << (b - 1), to = (1ULL << b) - 1;

	if (from < lo)
		from = lo;
	if (to > hi)
		to = hi;
	return rng_range(r, from, to);
}

/* A size in [1, max], biased to both extremes. */
static unsigned long long rng_size(struct rng *r, unsigned long long max)
{
	unsigned long long edge[] = { 1, 2, max - 1, max };

	if (!rng_pct(r, 30))
		return rng_log(r, 1, max);
	return edge[rng_below(r, ARRAY_SIZE(edge))];
}

/* ---- files ---- */

static const char *path_of(const struct rl_scenario *scn, const char *file)
{
	static char path[256];

	return rl_path(scn->name, file, path, sizeof(path));
}

static int put(const struct rl_scenario *scn, const char *file, const char *val)
{
	return rl_put(scn->name, file, val);
}

/* 1: idle, 0: running, -errno: unreadable (module gone?). */
static int is_idle(const struct rl_scenario *scn)
{
	return rl_is_idle(scn->name);
}

/* The line of stats that starts with @prefix, without it; "" if none. */
static void stats_line(const struct rl_scenario *scn, const char *prefix,
		       char *out, size_t len)
{
	rl_stats_line(scn->name, prefix, out, len);
}

static void print_stats(const struct rl_scenario *scn)
{
	char stats[8192], *line, *save;

	if (rl_read_path(path_of(scn, "stats"), stats, sizeof(stats)))
		return;
	for (line = strtok_r(stats, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("  stats: %s\n", line);
}

/* ---- the kernel: memory, log, modules ---- */

static long long mem_available_kb(void)
{
	char buf[4096], *p;

	if (rl_read_path("/proc/meminfo", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "MemAvailable:");
	return p ? strtoll(p + 13, NULL, 10) : -1;
}

/* Sample MemAvailable; false if it is below the floor. */
static bool mem_sample(long long *low)
{
	long long kb = mem_available_kb();

	if (kb < 0)
		return true;
	if (kb < *low)
		*low = kb;
	if (kb < mem_low_kb)
		mem_low_kb = kb;
	return kb >= mem_floor_kb;
}

/* Kernel log lines that mean the kernel is not healthy. */
static const char *const kmsg_bad[] = {
	"rcu_preempt detected stall", "detected stalls", "soft lockup",
	"hard LOCKUP", "hung_task", "blocked for more than", "Out of memory",
	"BUG:", "WARNING:", "Oops", "general protection fault",
	"circular locking dependency", "inconsistent lock state",
	"suspicious RCU usage", "called from invalid context",
	"scheduling while atomic", ": run failed",
};

/* Read the kernel log records that came since the last call; count the bad. */
static int kmsg_scan(void)
{
	char rec[8192], *msg;
	int hits = 0;
	size_t i;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(kmsg_bad); i++) {
			if (strstr(msg, kmsg_bad[i])) {
				if (hits++ < 20)
					ksft_print_msg("  kernel log: %s\n", msg);
				break;
			}
		}
	}
	return hits;
}

static bool module_loaded(const char *name)
{
	char buf[16384], pat[64];

	if (rl_read_path("/proc/modules", buf, sizeof(buf)))
		return false;
	snprintf(pat, sizeof(pat), "\n%s ", name);
	return !strncmp(buf, pat + 1, strlen(pat + 1)) || strstr(buf, pat);
}

/* Kernel threads whose name starts with "racelab-". */
static int racelab_kthreads(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], comm[64];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!rl_read_path(path, comm, sizeof(comm)) &&
		    !strncmp(comm, "racelab-", 8))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * delete_module() in a child, so that a hung rmmod is measured, not
 * suffered. Return: 0, -errno of the call, or -ETIMEDOUT if it did not
 * return within HUNG_MS (the child is left stuck in the kernel).
 */
static int rmmod_module(const char *name, double *took)
{
	double t0 = rl_now_ms();
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(syscall(SYS_delete_module, name, O_NONBLOCK) ? errno : 0);
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (rl_now_ms() - t0 > HUNG_MS) {
			*took = rl_now_ms() - t0;
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
	*took = rl_now_ms() - t0;
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

static int load_racelab(void)
{
	const char *ko = getenv("RACELAB_KO");
	int fd, err = 0;

	if (!ko || !*ko)
		return system("modprobe racelab") ? -ENOENT : 0;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = -errno;
	close(fd);
	return err;
}

/* ---- scenarios and modes, as the module lists them ---- */

/* Every scenario directory, its modes, kinds and knobs: from its plan. */
static int discover(void)
{
	static char names[RL_MAX_SCNS][RL_NAME_LEN];
	char why[320];
	int i, n = rl_list_scenarios(names, RL_MAX_SCNS);
	size_t steps;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		struct rl_scenario *scn = &scns[nr_scns];

		if (rl_plan_read(names[i], scn, why, sizeof(why))) {
			ksft_print_msg("%s\n", why);
			return -EINVAL;
		}
		steps = strlen(scn->steps) * scn->sched_threads;
		if (scn->steps[0] &&
		    (!scn->sched_threads || scn->sched_threads > MAX_SCHED_THREADS ||
		     steps > scn->sched_max_steps ||
		     steps * 3 > sizeof(((struct cfg *)0)->sched))) {
			ksft_print_msg("%s: %u threads x %zu steps, max %u: no schedule drawn\n",
				       scn->name, scn->sched_threads,
				       strlen(scn->steps), scn->sched_max_steps);
			return -EINVAL;
		}
		nr_scns++;
	}
	/* Sorted: readdir() order is not stable across boots, a seed must be. */
	return nr_scns ? 0 : -ENOENT;
}

/* Online CPUs, from a cpulist such as "0-1,3". */
static int read_cpus(void)
{
	int n = rl_online_cpus(cpus, MAX_CPUS);

	if (n < 0)
		return n;
	nr_cpus = n;
	return 0;
}

/* ---- knob generation ---- */

static unsigned int gen_threads(struct rng *r, const struct rl_scenario *scn)
{
	static const unsigned int edge[] = { 1, 2, MAX_THREADS - 1, MAX_THREADS };
	unsigned int t;

	if (rng_pct(r, 15))
		t = edge[rng_below(r, ARRAY_SIZE(edge))];
	else if (rng_pct(r, 40))
		t = rng_range(r, 1, 4);
	else
		t = rng_range(r, 1, MAX_THREADS);
	/*
	 * Outside the scenario's min_threads..max_threads a start is
	 * refused: mostly draw again inside them.
	 */
	if ((t < scn->min_threads || t > scn->max_threads) && rng_pct(r, 85))
		t = rng_range(r, scn->min_threads, scn->max_threads);
	return t;
}

static void gen_amp(struct rng *r, const struct rl_scenario *scn, char *buf,
		    size_t len)
{
	unsigned int k = rng_below(r, 100);

	/* Scenarios that take no amplifier: mostly auto or none. */
	if (scn->amp_none_only && rng_pct(r, 85))
		k = rng_below(r, 30);
	if (k < 15)
		snprintf(buf, len, "auto");
	else if (k < 30)
		snprintf(buf, len, "none");
	else if (k < 65)
		snprintf(buf, len, "delay:%llu", rng_size(r, MAX_DELAY_NS));
	else if (k < 75)
		snprintf(buf, len, "sleep");
	else
		snprintf(buf, len, "sleep:%llu", rng_size(r, MAX_SLEEP_US));
}

/* Mostly short, sometimes longer: the budget is time. */
static unsigned int gen_duration(struct rng *r)
{
	unsigned int k = rng_below(r, 100);

	if (k < 25)
		return rng_log(r, 1, 20);
	if (k < 80)
		return rng_range(r, 20, 1500);
	if (k < 95)
		return rng_range(r, 1500, 5000);
	return rng_range(r, 5000, 12000);
}

static unsigned long long gen_iterations(struct rng *r)
{
	unsigned int k = rng_below(r, 100);

	if (k < 65)
		return 0;
	if (k < 70)
		return 1;
	if (k < 85)
		return rng_log(r, 1, 1000);
	if (k < 95)
		return rng_log(r, 1000, 1000000);
	return MAX_ITERATIONS;
}

/*
 * any, one CPU, a range, or a list of online CPUs; mostly any where that
 * is fewer CPUs than the scenario's min_cpus (a start would be refused).
 */
static void gen_cpus(struct rng *r, const struct rl_scenario *scn, char *buf,
		     size_t len)
{
	unsigned int k = rng_below(r, 100), i, a, b, n = 0, picked = 0;

	if (k < 40) {
		snprintf(buf, len, "any");
		return;
	}
	if (k < 60) {
		snprintf(buf, len, "%d", cpus[rng_below(r, nr_cpus)]);
		picked = 1;
	} else if (k < 80) {
		a = rng_below(r, nr_cpus);
		b = rng_range(r, a, nr_cpus - 1);
		snprintf(buf, len, "%d-%d", cpus[a], cpus[b]);
		picked = b - a + 1;
	} else {
		buf[0] = '\0';
		/* A random subset, at least one CPU, in ascending order. */
		a = rng_below(r, nr_cpus);
		for (i = 0; i < nr_cpus && n < len - 8; i++) {
			if (i == a || rng_pct(r, 50)) {
				n += snprintf(buf + n, len - n, "%s%d",
					      n ? "," : "", cpus[i]);
				picked++;
			}
		}
	}
	if (picked < scn->min_cpus && rng_pct(r, 85))
		snprintf(buf, len, "any");
}

/* A random interleaving of the threads' steps, each thread in its order. */
static void gen_schedule(struct rng *r, const struct rl_scenario *scn,
			 char *buf, size_t len)
{
	unsigned int next[MAX_SCHED_THREADS] = { 0 }, threads = scn->sched_threads;
	unsigned int nsteps = strlen(scn->steps), left = nsteps * threads;
	const char *sep = rng_pct(r, 50) ? " " : ",";
	unsigned int t;
	size_t n = 0;

	buf[0] = '\0';
	for (; left && n < len; left--) {
		/* A random thread among those with steps left. */
		for (t = rng_below(r, threads); next[t] == nsteps;
		     t = (t + 1) % threads)
			;
		n += snprintf(buf + n, len - n, "%s%c%u", n ? sep : "",
			      scn->steps[next[t]++], t);
	}
}

static void describe(struct cfg *c)
{
	int n;

	n = snprintf(c->desc, sizeof(c->desc),
		     "%s/%s threads=%u iterations=%llu duration_ms=%u amplifier=%s cpus=%s",
		     c->scn->name, c->mode->name, c->threads, c->iterations,
		     c->duration_ms, c->amp, c->cpus);
	if (c->sched[0])
		n += snprintf(c->desc + n, sizeof(c->desc) - n,
			      " schedule=\"%s\"", c->sched);
	if (c->stop_ms >= 0)
		snprintf(c->desc + n, sizeof(c->desc) - n, " stop@%dms",
			 c->stop_ms);
	else if (c->rmmod_ms >= 0)
		snprintf(c->desc + n, sizeof(c->desc) - n, " rmmod@%dms",
			 c->rmmod_ms);
}

/* A moment during the run: sometimes at once, else anywhere in it. */
static int gen_moment(struct rng *r, unsigned int duration_ms)
{
	if (rng_pct(r, 15))
		return rng_range(r, 0, 2);
	return rng_range(r, 0, duration_ms);
}

/* Case @n of @seed: its knobs come from these two numbers alone. */
static void gen_case(unsigned long long n, struct cfg *c)
{
	const struct rl_scenario *scn;
	unsigned int k, allowed;
	struct rng r;

	rng_init(&r, seed, n);
	memset(c, 0, sizeof(*c));
	scn = &scns[rng_below(&r, nr_scns)];
	c->scn = scn;
	/* A racy experiment is one per boot (it may turn lockdep off). */
	for (k = 0, allowed = 0; k < scn->nr_modes; k++)
		allowed += !rl_never_run(&scn->modes[k]);
	allowed = rng_below(&r, allowed);
	for (k = 0; k < scn->nr_modes; k++) {
		if (rl_never_run(&scn->modes[k]))
			continue;
		if (!allowed--)
			break;
	}
	c->mode = &scn->modes[k];
	c->threads = gen_threads(&r, scn);
	c->iterations = gen_iterations(&r);
	c->duration_ms = gen_duration(&r);
	gen_amp(&r, scn, c->amp, sizeof(c->amp));
	gen_cpus(&r, scn, c->cpus, sizeof(c->cpus));
	if (rl_has_knob(scn, "schedule")) {
		if (scn->steps[0] && rng_pct(&r, 20))
			gen_schedule(&r, scn, c->sched, sizeof(c->sched));
		else
			snprintf(c->sched, sizeof(c->sched), "none");
	}
	c->stop_ms = -1;
	c->rmmod_ms = -1;
	if (n == RMMOD_CASE || rng_pct(&r, 4))
		c->rmmod_ms = gen_moment(&r, c->duration_ms);
	else if (rng_pct(&r, 25))
		c->stop_ms = gen_moment(&r, c->duration_ms);
	describe(c);
}

/* Write every knob, in an order drawn from @r: the order must not matter. */
static int write_knobs(const struct cfg *c, struct rng *r, char *why,
		       size_t len)
{
	char threads[16], iterations[32], duration[16];
	static const char * const knob[] = {
		"mode", "threads", "iterations", "duration_ms", "amplifier",
		"cpus", "schedule",
	};
	const char *val[ARRAY_SIZE(knob)];
	unsigned int order[ARRAY_SIZE(knob)], n = ARRAY_SIZE(knob), i, j, t;
	int err;

	snprintf(threads, sizeof(threads), "%u", c->threads);
	snprintf(iterations, sizeof(iterations), "%llu", c->iterations);
	snprintf(duration, sizeof(duration), "%u", c->duration_ms);
	val[0] = c->mode->name;
	val[1] = threads;
	val[2] = iterations;
	val[3] = duration;
	val[4] = c->amp;
	val[5] = c->cpus;
	val[6] = c->sched;
	if (!c->sched[0])
		n--;	/* no schedule knob */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = rng_below(r, i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		err = put(c->scn, knob[order[i]], val[order[i]]);
		if (err) {
			snprintf(why, len, "knob write %s=%s: %s",
				 knob[order[i]], val[order[i]], strerror(-err));
			return err;
		}
	}
	return 0;
}

static void count_refusal(const char *why)
{
	unsigned int i;

	for (i = 0; i < MAX_REASONS; i++) {
		if (!reasons[i].n)
			snprintf(reasons[i].why, sizeof(reasons[i].why), "%s",
				 why);
		if (!strcmp(reasons[i].why, why)) {
			reasons[i].n++;
			count.refused++;
			return;
		}
	}
	count.refused++;	/* one reason too many: counted, not named */
}

/* ---- one run ---- */

static __printf(3, 4) void append(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n && n < len - 2) {
		why[n++] = ';';
		why[n++] = ' ';
		why[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
}

/*
 * rmmod racelab while a run is in flight: it must return within RMMOD_MS,
 * leave no kthread, and the module must load again. Return: 1 if it went
 * and came back, 0 if the module is hung or gone (the fuzzer cannot go
 * on), -1 if rmmod failed and the run goes on.
 */
static int rmmod_during_run(struct outcome *o)
{
	const struct rl_scenario *probe = &scns[0];
	double t0;
	int err, left = -1;

	err = rmmod_module("racelab", &o->rmmod_took);
	count.rmmods++;
	if (err == -ETIMEDOUT) {
		append(o->why, sizeof(o->why),
		       "rmmod did not return within %d ms", HUNG_MS);
		return 0;
	}
	if (err) {
		append(o->why, sizeof(o->why), "rmmod failed: %s",
		       strerror(-err));
		/* Failed, or only its waiter did: is the module gone? */
		return module_loaded("racelab") ? -1 : 0;
	}
	if (o->rmmod_took > RMMOD_MS)
		append(o->why, sizeof(o->why), "rmmod took %.0f ms (> %d)",
		       o->rmmod_took, RMMOD_MS);
	if (module_loaded("racelab"))
		append(o->why, sizeof(o->why), "racelab still loaded after rmmod");
	/* Reaped kthreads disappear from /proc at once; allow a moment. */
	t0 = rl_now_ms();
	while ((left = racelab_kthreads()) > 0 && rl_now_ms() - t0 < 500)
		usleep(10000);
	if (left > 0)
		append(o->why, sizeof(o->why), "%d racelab kthread(s) left",
		       left);
	err = load_racelab();
	if (err) {
		append(o->why, sizeof(o->why), "insmod after rmmod: %s",
		       strerror(-err));
		return 0;
	}
	if (access(path_of(probe, "run"), F_OK))
		append(o->why, sizeof(o->why), "no %s after insmod",
		       path_of(probe, "run"));
	return 1;
}

/*
 * Wait for the run of @c, started at o->t_start, to end; stop it or rmmod
 * in the middle of it as @c says. False if the module is hung.
 */
static bool watch_run(const struct cfg *c, struct outcome *o)
{
	double end = o->t_start + c->duration_ms + END_SLACK_MS, t, t_mem = 0;
	double t_log = 0;
	int idle;

	for (;;) {
		t = rl_now_ms();
		idle = is_idle(c->scn);
		if (idle == 1) {
			o->t_idle = rl_now_ms();
			return true;
		}
		if (idle < 0) {
			append(o->why, sizeof(o->why), "run unreadable: %s",
			       strerror(-idle));
			return true;
		}
		if (c->stop_ms >= 0 && !o->t_stop &&
		    t >= o->t_start + c->stop_ms) {
			o->t_stop = rl_now_ms();
			put(c->scn, "run", "stop");
			o->stopped = true;
			count.stopped++;
		}
		if (c->rmmod_ms >= 0 && o->rmmod_took == -1 &&
		    t >= o->t_start + c->rmmod_ms) {
			int gone = rmmod_during_run(o);

			if (gone >= 0)
				return gone;
			o->rmmod_took = -2;	/* failed: watch the run end */
		}
		if (t - t_mem >= 50) {
			t_mem = t;
			if (!mem_sample(&o->mem_low_kb) && !o->t_stop) {
				append(o->why, sizeof(o->why),
				       "MemAvailable %lld MiB below the floor %lld MiB: stopped",
				       o->mem_low_kb >> 10, mem_floor_kb >> 10);
				o->t_stop = rl_now_ms();
				o->stopped = true;
				put(c->scn, "run", "stop");
			}
		}
		if (t - t_log >= 100) {
			t_log = t;
			o->kmsg_hits += kmsg_scan();
		}
		if (t > end && !o->late) {
			o->late = true;
			append(o->why, sizeof(o->why),
			       "still running %d ms after duration_ms",
			       END_SLACK_MS);
			print_stats(c->scn);
			if (!o->t_stop) {
				o->t_stop = rl_now_ms();
				o->stopped = true;
				put(c->scn, "run", "stop");
			}
		}
		if (o->late && t > o->t_stop + HUNG_MS) {
			append(o->why, sizeof(o->why),
			       "not idle %d ms after stop: hung", HUNG_MS);
			print_stats(c->scn);
			return false;
		}
		usleep(o->t_stop ? 1000 : 5000);
	}
}

/* May a fixed mode's run be inconclusive? Only on a sample too small. */
static bool small_sample(const struct cfg *c, const char *line)
{
	unsigned long long reads = rl_num(line, "reads");
	unsigned long long min_reads = rl_num(line, "min_reads");

	if (reads == ~0ULL || min_reads == ~0ULL || reads >= min_reads)
		return false;	/* starved readers are no small sample */
	if (c->iterations && c->iterations * (c->threads - 1) < 10 * min_reads)
		return true;
	return c->duration_ms <= 2000;
}

/* The verdict line must describe this run and keep the mode's promise. */
static void check_verdict(const struct cfg *c, struct outcome *o)
{
	const char *l = o->line;
	bool sched = c->sched[0] && strcmp(c->sched, "none");
	bool fixed = !strcmp(c->mode->kind, "fixed") && !sched;
	char verdict[32] = "", ended[32] = "";
	double took = o->t_idle - o->t_start;

	rl_field(l, "verdict", verdict, sizeof(verdict));
	rl_field(l, "ended", ended, sizeof(ended));
	if (!rl_is(l, "scenario", c->scn->name) ||
	    !rl_is(l, "mode", sched ? "schedule" : c->mode->name)) {
		append(o->why, sizeof(o->why), "verdict of another run");
		return;
	}
	if (strcmp(verdict, "race") && strcmp(verdict, "clean") &&
	    strcmp(verdict, "stopped") && strcmp(verdict, "inconclusive"))
		append(o->why, sizeof(o->why), "verdict=%s", verdict);
	if (sched)
		return;	/* a replay: two threads, no time, no stop */
	if (rl_num(l, "threads") != c->threads ||
	    rl_num(l, "duration_ms") != c->duration_ms ||
	    rl_num(l, "iterations") != c->iterations)
		append(o->why, sizeof(o->why), "knobs in the verdict differ");
	if (strcmp(ended, "deadline") && strcmp(ended, "iterations") &&
	    strcmp(ended, "stop"))
		append(o->why, sizeof(o->why), "ended=%s", ended);
	if (!o->stopped && (!strcmp(ended, "stop") || !strcmp(verdict, "stopped")))
		append(o->why, sizeof(o->why), "ended=%s verdict=%s, never stopped",
		       ended, verdict);
	if (!strcmp(ended, "stop") != !strcmp(verdict, "stopped"))
		append(o->why, sizeof(o->why), "ended=%s but verdict=%s", ended,
		       verdict);
	if (!strcmp(ended, "deadline") && took + EARLY_MS < c->duration_ms)
		append(o->why, sizeof(o->why),
		       "ended=deadline after %.0f ms of %u", took,
		       c->duration_ms);
	if (!fixed)
		return;
	if (rl_num(l, "anomalies") != 0 || !strcmp(verdict, "race"))
		append(o->why, sizeof(o->why), "fixed mode: anomalies=%llu",
		       rl_num(l, "anomalies"));
	if (!strcmp(verdict, "inconclusive") && !small_sample(c, l))
		append(o->why, sizeof(o->why),
		       "fixed mode inconclusive on a sample that is not small");
}

/* Start @c; 1 if started, 0 if refused, -1 if the start itself broke a rule. */
static int start_run(const struct cfg *c, struct outcome *o)
{
	char refused[256];
	int err;

	stats_line(c->scn, "next: refused: ", refused, sizeof(refused));
	o->t_start = rl_now_ms();
	err = put(c->scn, "run", "start");
	if (err == -EINVAL && refused[0]) {
		count_refusal(refused);
		return 0;
	}
	if (err == -EINVAL) {
		snprintf(o->why, sizeof(o->why),
			 "start refused, stats gave no reason");
		return -1;
	}
	if (err) {
		snprintf(o->why, sizeof(o->why), "start: %s", strerror(-err));
		return -1;
	}
	if (refused[0])
		append(o->why, sizeof(o->why),
		       "started although stats said refused: %s", refused);
	count.runs++;
	return 1;
}

static void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->rmmod_took = -1;
	o->mem_low_kb = mem_start_kb;
}

static void report(const char *what, const struct cfg *c, struct outcome *o,
		   const char *note)
{
	bool ok = !o->why[0];

	if (!ok) {
		count.failed++;
		ksft_print_msg("FAIL %s: %s\n", c->desc, o->why);
		if (o->line[0])
			ksft_print_msg("  verdict: %s\n", o->line);
		ksft_print_msg("  replay: racelab_fuzz -s %llu %s\n", seed, what);
	}
	ksft_test_result(ok, "%s %s: %s\n", c->desc, note, ok ? "ok" : o->why);
}

/*
 * A stop takes effect when the threads stop racing: the last one ends
 * within STOP_MS of the request, both times taken by the kernel (stop_ns
 * and duration_ns, from the start gate). Reaping the threads and the
 * verdict may take longer on a slow host; that is bounded by STOP_IDLE_MS.
 */
static void stop_latency(struct outcome *o)
{
	unsigned long long stop_ns = rl_num(o->line, "stop_ns");
	unsigned long long ran_ns = rl_num(o->line, "duration_ns");

	if (!o->t_stop || !stop_ns || stop_ns == ~0ULL || ran_ns == ~0ULL ||
	    ran_ns <= stop_ns)
		return;
	if (ran_ns - stop_ns > STOP_MS * 1000000ULL)
		append(o->why, sizeof(o->why),
		       "threads ran %.0f ms after the stop (> %d)",
		       (ran_ns - stop_ns) / 1e6, STOP_MS);
}

/*
 * Run @c and judge it; @label says which case it is, @what how to replay
 * it. A long run must also be clean, end at its deadline, and every thread
 * must have progressed. Return: false if the module is hung and the fuzzer
 * must stop.
 */
static bool run_one(const struct cfg *c, struct rng *r, bool long_run,
		    const char *label, const char *what)
{
	char before[32], after[32], note[256], verdict[32] = "?";
	struct outcome o;
	bool alive;
	int started;
	size_t n;

	outcome_init(&o);
	if (write_knobs(c, r, o.why, sizeof(o.why))) {
		report(what, c, &o, label);
		return true;
	}
	/* A replayed schedule gives the same line twice: count the runs. */
	stats_line(c->scn, "runs: ", before, sizeof(before));
	started = start_run(c, &o);
	if (!started && !long_run)
		return true;
	if (started <= 0) {
		if (!o.why[0])
			snprintf(o.why, sizeof(o.why), "refused at start");
		report(what, c, &o, label);
		return true;
	}
	alive = watch_run(c, &o);
	o.kmsg_hits += kmsg_scan();
	if (o.kmsg_hits)
		append(o.why, sizeof(o.why), "%d bad kernel log line(s)",
		       o.kmsg_hits);
	if (!alive) {
		report(what, c, &o, label);
		return false;
	}
	if (o.rmmod_took >= 0) {
		snprintf(note, sizeof(note), "%s: rmmod in %.0f ms", label,
			 o.rmmod_took);
		report(what, c, &o, note);
		return true;
	}
	if (o.t_stop && o.t_idle && o.t_idle - o.t_stop > STOP_IDLE_MS)
		append(o.why, sizeof(o.why), "idle %.0f ms after stop (> %d)",
		       o.t_idle - o.t_stop, STOP_IDLE_MS);
	stats_line(c->scn, "last: ", o.line, sizeof(o.line));
	stop_latency(&o);
	stats_line(c->scn, "runs: ", after, sizeof(after));
	if (!strcmp(after, before))
		append(o.why, sizeof(o.why), "no new verdict");
	else if (!o.late)
		check_verdict(c, &o);
	rl_field(o.line, "verdict", verdict, sizeof(verdict));
	if (long_run && !o.late) {
		if (strcmp(verdict, "clean") || !rl_is(o.line, "ended", "deadline"))
			append(o.why, sizeof(o.why),
			       "want verdict=clean ended=deadline");
		if (rl_num(o.line, "min_thread_ops") == 0 ||
		    rl_num(o.line, "min_thread_ops") == ~0ULL)
			append(o.why, sizeof(o.why),
			       "a thread never progressed (min_thread_ops=0)");
	}
	/* Wall time from the start write to idle, and the threads' own. */
	snprintf(note, sizeof(note), "%s: %s in %.0f ms", label, verdict,
		 o.t_idle - o.t_start);
	n = strlen(note);
	if (rl_num(o.line, "duration_ns") != ~0ULL)
		snprintf(note + n, sizeof(note) - n, " (threads ran %.0f ms)",
			 rl_num(o.line, "duration_ns") / 1e6);
	if (o.t_stop) {
		unsigned long long stop_ns = rl_num(o.line, "stop_ns");
		unsigned long long ran_ns = rl_num(o.line, "duration_ns");

		n = strlen(note);
		snprintf(note + n, sizeof(note) - n,
			 ", stopped %.0f ms in, idle %.0f ms after",
			 o.t_stop - o.t_start, o.t_idle - o.t_stop);
		n = strlen(note);
		if (stop_ns && stop_ns != ~0ULL && ran_ns != ~0ULL &&
		    ran_ns > stop_ns)
			snprintf(note + n, sizeof(note) - n,
				 ", threads out %.1f ms after",
				 (ran_ns - stop_ns) / 1e6);
	}
	report(what, c, &o, note);
	return true;
}

/* Random case @n. False if the module is hung. */
static bool run_case(unsigned long long n, const struct cfg *c)
{
	char label[32], what[32];
	struct rng r;

	snprintf(label, sizeof(label), "case %llu", n);
	snprintf(what, sizeof(what), "-c %llu", n);
	rng_init(&r, seed ^ 0x5bd1e995ULL, n);	/* the write order */
	return run_one(c, &r, false, label, what);
}

/* Any run in flight (a previous test's): stop it. */
static void stop_all(void)
{
	unsigned int i;
	double t0;

	for (i = 0; i < nr_scns; i++) {
		if (is_idle(&scns[i]) != 0)
			continue;
		put(&scns[i], "run", "stop");
		t0 = rl_now_ms();
		while (is_idle(&scns[i]) == 0 && rl_now_ms() - t0 < HUNG_MS)
			usleep(10000);
	}
}

/* ---- the long phase ---- */

/*
 * The fixed modes most at risk: those of the reader/writer scenarios
 * (reader_writer=yes in their plans), where readers race a writer through
 * RCU grace periods, deferred frees, seqlock retries. One at a time, so
 * that a failure names its mode; the scenarios take turns.
 */
#define MAX_LONG	32

static struct {
	const struct rl_scenario *scn;
	const struct rl_mode *mode;
} long_plan[MAX_LONG];
static unsigned int nr_long;

static void plan_long_runs(void)
{
	unsigned int round, i, k, seen;
	bool more = true;

	for (round = 0; more && nr_long < MAX_LONG; round++) {
		more = false;
		for (i = 0; i < nr_scns && nr_long < MAX_LONG; i++) {
			if (!scns[i].reader_writer)
				continue;
			/* The scenario's fixed mode number @round. */
			for (k = 0, seen = 0; k < scns[i].nr_modes; k++) {
				const struct rl_mode *m = &scns[i].modes[k];

				if (!rl_fixed(m) || m->experiment || seen++ != round)
					continue;
				long_plan[nr_long].scn = &scns[i];
				long_plan[nr_long++].mode = m;
				more = true;
				break;
			}
		}
	}
}

/* Long run @i; 16 or 64 threads, alternating, the seed says which first. */
static bool long_run(unsigned int i, unsigned int secs)
{
	char label[48], what[48];
	struct outcome o;
	struct cfg c;
	struct rng r;

	memset(&c, 0, sizeof(c));
	c.stop_ms = -1;
	c.rmmod_ms = -1;
	c.scn = long_plan[i].scn;
	c.mode = long_plan[i].mode;
	c.threads = (i + seed) % 2 ? 64 : 16;
	if (c.threads > c.scn->max_threads)
		c.threads = c.scn->max_threads;
	if (c.threads < c.mode->min_threads)
		c.threads = c.mode->min_threads;
	c.duration_ms = (i == seed % nr_long && secs < LONG_WHEEL_S ?
			 LONG_WHEEL_S : secs) * 1000;
	snprintf(c.amp, sizeof(c.amp), "%s",
		 c.scn->amp_none_only ? "none" : LONG_AMP);
	snprintf(c.cpus, sizeof(c.cpus), "any");
	if (rl_has_knob(c.scn, "schedule"))
		snprintf(c.sched, sizeof(c.sched), "none");
	describe(&c);
	outcome_init(&o);
	snprintf(label, sizeof(label), "long %u/%u", i + 1, nr_long);
	snprintf(what, sizeof(what), "-n 0 -L %u", secs);
	rng_init(&r, seed ^ 0x10e6ULL, i);
	count.long_runs++;
	return run_one(&c, &r, true, label, what);
}

/* ---- main ---- */

/*
 * The fuzzer is the stopwatch: with 64 busy kthreads a normal task polls
 * rarely, and the module would be blamed for the poller's own delay. A
 * real-time poller sleeps between polls, so it takes little; its children
 * (rmmod) go back to the normal class.
 */
static void measure_promptly(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		ksft_print_msg("no SCHED_FIFO (%s): timings include our own delays\n",
			       strerror(errno));
}

static void bad_usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-n CASES] [-t SECONDS] [-c CASE] [-L SECONDS]\n",
		argv0);
	exit(KSFT_FAIL);
}

/* MemAvailable back within MEM_DRIFT_MIB of the start: poll, then judge. */
static void check_memory(void)
{
	double t0 = rl_now_ms();
	long long kb;

	do {
		kb = mem_available_kb();
		if (kb >= mem_start_kb - (MEM_DRIFT_MIB << 10))
			break;
		usleep(200000);
	} while (rl_now_ms() - t0 < MEM_SETTLE_MS);
	ksft_test_result(kb >= mem_start_kb - (MEM_DRIFT_MIB << 10) &&
			 mem_low_kb >= mem_floor_kb,
			 "memory: MemAvailable %lld MiB at start, %lld MiB at end (drop <= %d), lowest %lld MiB (floor %lld)\n",
			 mem_start_kb >> 10, kb >> 10, MEM_DRIFT_MIB,
			 mem_low_kb >> 10, mem_floor_kb >> 10);
}

int main(int argc, char **argv)
{
	unsigned long long max_cases = ~0ULL, only = ~0ULL, n;
	unsigned int budget_s = BUDGET_S, long_s = LONG_S;
	const char *env = getenv("RACELAB_FUZZ_SEED");
	double long_ms, random_end;
	bool alive = true;
	struct cfg c;
	int opt, err, hits;
	unsigned int i;

	seed = env && *env ? strtoull(env, NULL, 0) :
	       ((unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32));
	while ((opt = getopt(argc, argv, "s:n:t:c:L:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			max_cases = strtoull(optarg, NULL, 0);
			break;
		case 't':
			budget_s = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			only = strtoull(optarg, NULL, 0);
			break;
		case 'L':
			long_s = strtoul(optarg, NULL, 0);
			break;
		default:
			bad_usage(argv[0]);
		}
	}
	if (only != ~0ULL)
		long_s = 0;

	t_begin = rl_now_ms();
	ksft_print_header();
	measure_promptly();
	ksft_print_msg("seed=%llu budget=%u s long runs=%u s\n", seed, budget_s,
		       long_s);
	ksft_print_msg("replay: %s -s %llu (one case: -c CASE)\n", argv[0], seed);
	if (geteuid())
		ksft_exit_skip("must run as root\n");
	if (access(RL_TOP, F_OK))
		ksft_exit_skip("%s missing: load racelab.ko, mount debugfs\n", RL_TOP);
	err = discover();
	if (err || read_cpus())
		ksft_exit_fail_msg("cannot list scenarios, modes, kinds or CPUs: %s\n",
				   strerror(err ? -err : errno));
	for (i = 0; i < nr_scns; i++)
		ksft_print_msg("scenario %s: %u mode(s)%s\n", scns[i].name,
			       scns[i].nr_modes,
			       scns[i].steps[0] ? ", schedules" : "");
	can_rmmod = getenv("RACELAB_KO") || !access("/sbin/modprobe", X_OK);
	if (can_rmmod && module_loaded("racelab_kunit")) {
		double took;

		/* It depends on racelab: it must go first. */
		if (rmmod_module("racelab_kunit", &took))
			can_rmmod = false;
	}
	if (!can_rmmod)
		ksft_print_msg("no $RACELAB_KO: rmmod cases stop the run instead\n");

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		ksft_print_msg("/dev/kmsg: %s: kernel log not checked\n",
			       strerror(errno));
	else
		lseek(kmsg_fd, 0, SEEK_END);
	stop_all();
	mem_start_kb = mem_available_kb();
	mem_low_kb = mem_start_kb;
	mem_floor_kb = mem_start_kb - (MEM_DIP_MIB << 10);

	/* The random phase, then the long one; both inside the budget. */
	plan_long_runs();
	long_ms = long_s ? nr_long * (long_s * 1000.0 + END_SLACK_MS + 500) : 0;
	if (long_s && nr_long && long_s < LONG_WHEEL_S)
		long_ms += (LONG_WHEEL_S - long_s) * 1000.0;
	random_end = t_begin + budget_s * 1000.0 - long_ms - 5000;
	for (n = only == ~0ULL ? 0 : only; alive && n < max_cases; n++) {
		if (only != ~0ULL && n != only)
			break;
		gen_case(n, &c);
		/* Skip a case that would not fit; a shorter one may. */
		if (only == ~0ULL &&
		    rl_now_ms() + c.duration_ms + END_SLACK_MS > random_end) {
			if (rl_now_ms() + 2 * END_SLACK_MS > random_end)
				break;
			continue;
		}
		if (c.rmmod_ms >= 0 && !can_rmmod) {
			c.stop_ms = c.rmmod_ms;
			c.rmmod_ms = -1;
			describe(&c);
		}
		alive = run_case(n, &c);
	}
	ksft_print_msg("random phase: %llu case(s) drawn, %u run(s), %u refused, %.0f s\n",
		       n - (only == ~0ULL ? 0 : only), count.runs, count.refused,
		       (rl_now_ms() - t_begin) / 1000);

	if (long_s)
		ksft_print_msg("long phase: %u fixed reader/writer mode(s), %u s each\n",
			       nr_long, long_s);
	for (i = 0; alive && long_s && i < nr_long; i++)
		alive = long_run(i, long_s);
	if (!alive)
		ksft_exit_fail_msg("the module is hung or gone: fuzzing stopped (seed %llu)\n",
				   seed);

	check_memory();
	hits = kmsg_scan();
	ksft_test_result(!hits, "kernel log: %d bad line(s) after the last run\n",
			 hits);

	for (i = 0; i < MAX_REASONS && reasons[i].n; i++)
		ksft_print_msg("refused %u time(s): %s\n", reasons[i].n,
			       reasons[i].why);
	ksft_print_msg("racelab_fuzz: seed=%llu cases=%u (random %u, long %u) wall=%.0f s\n",
		       seed, count.runs, count.runs - count.long_runs,
		       count.long_runs, (rl_now_ms() - t_begin) / 1000);
	ksft_print_msg("racelab_fuzz: refused=%u stopped=%u rmmod=%u failed=%u\n",
		       count.refused, count.stopped, count.rmmods, count.failed);
	ksft_exit(!ksft_get_fail_cnt());
}

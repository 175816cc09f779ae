// SPDX-License-Identifier: GPL-2.0
/*
 * Print the host's TSC rate in kHz, for the guest's tsc_early_khz=.
 *
 * Under TCG the guest reads the host's TSC, so the guest kernel needs the
 * host's TSC rate, not the CPU's current frequency ("cpu MHz" in
 * /proc/cpuinfo). Count TSC ticks against CLOCK_MONOTONIC_RAW over a few
 * rounds and print the median. Exit 1, saying why, if the rounds disagree
 * or the TSC is not usable.
 */
#include <cpuid.h>		/* x86 only, as is the TSC */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define ROUNDS		5
#define ROUND_NS	100000000LL	/* 100 ms per round */
#define BRACKET_TRIES	16
#define MAX_SPREAD_PPM	1000		/* rounds must agree within 0.1% */
#define MIN_KHZ		100000ULL	/* 100 MHz */
#define MAX_KHZ		20000000ULL	/* 20 GHz */

struct tsc_sample {
	long long ns;		/* CLOCK_MONOTONIC_RAW, ns */
	unsigned long long tsc;
};

static long long raw_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_RAW, &ts)) {
		perror("tsc-khz: clock_gettime(CLOCK_MONOTONIC_RAW)");
		exit(1);
	}
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * One TSC reading paired with a clock reading: the TSC is read between two
 * clock reads, and the tightest of several brackets wins, so that a
 * preemption between the reads cannot skew the pair.
 */
static struct tsc_sample sample(void)
{
	struct tsc_sample best = { 0, 0 };
	long long best_width = LLONG_MAX;
	int i;

	for (i = 0; i < BRACKET_TRIES; i++) {
		long long before = raw_ns();
		unsigned long long tsc = __rdtsc();
		long long after = raw_ns();

		if (after - before < best_width) {
			best_width = after - before;
			best.ns = before + (after - before) / 2;
			best.tsc = tsc;
		}
	}
	return best;
}

/* TSC ticks per ms of CLOCK_MONOTONIC_RAW over one round, or 0. */
static unsigned long long measure_round(void)
{
	struct timespec pause = { 0, ROUND_NS };
	struct tsc_sample a, b;

	a = sample();
	nanosleep(&pause, NULL);
	b = sample();
	if (b.ns <= a.ns || b.tsc <= a.tsc)
		return 0;
	return (b.tsc - a.tsc) * 1e6 / (b.ns - a.ns);
}

static int cmp_u64(const void *a, const void *b)
{
	const unsigned long long *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

int main(void)
{
	unsigned int eax, ebx, ecx, edx;
	unsigned long long khz[ROUNDS], median;
	int i;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(edx & (1U << 4))) {
		fprintf(stderr, "tsc-khz: this CPU has no TSC\n");
		return 1;
	}
	/* Without an invariant TSC the rate follows the CPU's frequency. */
	if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) ||
	    !(edx & (1U << 8)))
		fprintf(stderr, "tsc-khz: warning: the TSC is not invariant\n");

	for (i = 0; i < ROUNDS; i++) {
		khz[i] = measure_round();
		if (!khz[i]) {
			fprintf(stderr, "tsc-khz: round %d: the TSC or the clock did not advance\n",
				i);
			return 1;
		}
	}
	qsort(khz, ROUNDS, sizeof(khz[0]), cmp_u64);
	median = khz[ROUNDS / 2];
	if ((khz[ROUNDS - 1] - khz[0]) * 1000000 / median > MAX_SPREAD_PPM) {
		fprintf(stderr, "tsc-khz: rounds disagree: %llu..%llu kHz\n",
			khz[0], khz[ROUNDS - 1]);
		return 1;
	}
	if (median < MIN_KHZ || median > MAX_KHZ) {
		fprintf(stderr, "tsc-khz: %llu kHz is not a plausible TSC rate\n",
			median);
		return 1;
	}
	printf("%llu\n", median);
	return 0;
}

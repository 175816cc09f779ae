/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racelab - the kernel API differences it builds across, in one place.
 *
 * racelab builds against Debian's 6.1 (linux-headers-amd64) and the 6.12
 * lab kernel. Where an API differs between those, or has been renamed in
 * a later kernel, the difference is kept here, each with the version that
 * changed it, and scenarios use the racelab_ name.
 *
 * Not here because both kernels have them: timer_delete(),
 * timer_delete_sync() and timer_shutdown_sync() (6.2, and backported to
 * 6.1 stable: Debian's 6.1 has them), sched_set_fifo() (5.9),
 * wq_has_sleeper() (4.10).
 */
#ifndef _RACELAB_COMPAT_H
#define _RACELAB_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/timer.h>

/* from_timer() is timer_container_of() from 6.16 on (a macro there). */
#ifdef timer_container_of
#define racelab_timer_container_of(var, t, field) \
	timer_container_of(var, t, field)
#else
#define racelab_timer_container_of(var, t, field) from_timer(var, t, field)
#endif

/*
 * hrtimer_setup() (6.13) takes the callback; before it, hrtimer_init() and
 * a store to ->function. hrtimer_init() is gone from 6.15 on. Kbuild looks
 * for hrtimer_setup() in the kernel's headers (RACELAB_HAVE_HRTIMER_SETUP).
 */
static inline void
racelab_hrtimer_setup(struct hrtimer *timer,
		      enum hrtimer_restart (*fn)(struct hrtimer *),
		      clockid_t clock, enum hrtimer_mode mode)
{
#ifdef RACELAB_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

#endif /* _RACELAB_COMPAT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Positive control for the lab's KASAN kernel: before a silence of KASAN
 * counts as "no bad access", KASAN must be seen to report one. Loading this
 * module reads one byte past the end of a 16-byte allocation, once, and
 * then refuses to stay loaded. Built only where CONFIG_KASAN is set.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>

static noinline char racelab_kasan_control(void)
{
	size_t size = 16, past = 16;
	char *p, c;

	OPTIMIZER_HIDE_VAR(past);
	p = kmalloc(size, GFP_KERNEL);
	if (!p)
		return 0;
	c = READ_ONCE(p[past]);		/* KASAN: slab-out-of-bounds */
	kfree(p);
	return c;
}

static int __init racelab_controls_init(void)
{
	pr_info("racelab_controls: KASAN positive control, byte %d\n",
		racelab_kasan_control());
	return -EAGAIN;		/* nothing to keep loaded */
}
module_init(racelab_controls_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("racelab lab: detector positive controls");

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scenarios, one line each, in the order the lab shows them. A line
 * RACELAB_SCENARIO(foo); registers the struct racelab_scenario named
 * racelab_foo_scenario that module/scenarios/foo.c defines; the build
 * picks up every file in module/scenarios/ by itself.
 *
 * No include guard: this is an X-macro list, included with
 * RACELAB_SCENARIO() defined.
 */
RACELAB_SCENARIO(counter);
RACELAB_SCENARIO(check_act);
RACELAB_SCENARIO(torn_read);
RACELAB_SCENARIO(rcu_pointer);
RACELAB_SCENARIO(rcu_list);
RACELAB_SCENARIO(ordering);
RACELAB_SCENARIO(aba);
RACELAB_SCENARIO(bitfield);
RACELAB_SCENARIO(running_max);
RACELAB_SCENARIO(refcount);
RACELAB_SCENARIO(lost_wakeup);
RACELAB_SCENARIO(double_fetch);
RACELAB_SCENARIO(prio_inversion);
RACELAB_SCENARIO(teardown);
RACELAB_SCENARIO(livelock);
RACELAB_SCENARIO(starvation);
RACELAB_SCENARIO(irq_counter);
RACELAB_SCENARIO(false_sharing);
RACELAB_SCENARIO(lockdep);

// SPDX-License-Identifier: GPL-2.0
/*
 * racelab control plane: debugfs knobs per scenario and /proc/racelab.
 *
 *   /sys/kernel/debug/racelab/<scenario>/{mode,threads,iterations,
 *                              duration_ms,amplifier,cpus}  knobs, 0600,
 *                              and the knobs the scenario adds (schedule)
 *   /sys/kernel/debug/racelab/<scenario>/run    write start|stop, read state
 *   /sys/kernel/debug/racelab/<scenario>/stats  live state and last verdict
 *   /sys/kernel/debug/racelab/<scenario>/plan   what the scenario declares:
 *                              modes, test plans, detector expectations
 *   /proc/racelab                                last result of every scenario
 *
 * Every access to a slot's configuration and result happens under its
 * mutex; the racing threads' progress counters are read with READ_ONCE().
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "racelab_core.h"

static struct dentry *racelab_dir;
static struct proc_dir_entry *racelab_proc;
static struct racelab_slot *racelab_slots;
static unsigned int racelab_nr_slots;

static const char *racelab_file_name(struct file *file)
{
	return file_dentry(file)->d_name.name;
}

/* Copy a short user write into @buf and strip white space around it. */
static char *racelab_get_value(const char __user *ubuf, size_t count,
			       loff_t *ppos, char *buf, size_t size)
{
	if (*ppos != 0 || count == 0 || count >= size)
		return ERR_PTR(-EINVAL);
	if (copy_from_user(buf, ubuf, count))
		return ERR_PTR(-EFAULT);
	buf[count] = '\0';
	return strim(buf);
}

static ssize_t racelab_knob_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct racelab_slot *slot = file->private_data;
	char buf[512];		/* the mode knob lists every mode */
	int n;

	mutex_lock(&slot->lock);
	n = racelab_cfg_show(slot->scn, &slot->cfg, racelab_file_name(file),
			     buf, sizeof(buf) - 1);
	mutex_unlock(&slot->lock);
	if (n < 0)
		return n;
	buf[n++] = '\n';
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t racelab_knob_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct racelab_slot *slot = file->private_data;
	char buf[RACELAB_KNOB_MAX];
	char *val;
	int err;

	val = racelab_get_value(ubuf, count, ppos, buf, sizeof(buf));
	if (IS_ERR(val))
		return PTR_ERR(val);
	mutex_lock(&slot->lock);
	if (slot->busy)
		err = -EBUSY;
	else
		err = racelab_knob_parse(slot->scn, &slot->cfg,
					 racelab_file_name(file), val);
	mutex_unlock(&slot->lock);
	return err ? err : count;
}

static const struct file_operations racelab_knob_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = racelab_knob_read,
	.write = racelab_knob_write,
	.llseek = default_llseek,
};

void racelab_run_work(struct work_struct *work)
{
	struct racelab_slot *slot = container_of(work, struct racelab_slot,
						 work);
	struct racelab_result *res;
	int err = -ENOMEM;

	res = kmalloc(sizeof(*res), GFP_KERNEL);
	if (res)
		err = racelab_execute(slot, &slot->work_cfg, res);
	if (err)
		pr_warn("racelab: %s: run failed: %d\n", slot->scn->name, err);
	racelab_release(slot, err ? NULL : res);
	kfree(res);
}

/**
 * racelab_start_async() - start an asynchronous run of the slot's current knobs
 * @slot: the scenario's slot
 *
 * The whole configuration is checked here, so the order in which the knobs
 * were written does not matter; a refusal says why in the kernel log and
 * in stats.
 *
 * Return: 0, -EBUSY if a run is in flight, -EINVAL if the knobs together
 * break a rule (or a pinned CPU went offline).
 */
int racelab_start_async(struct racelab_slot *slot)
{
	const char *why = NULL;
	int err;

	mutex_lock(&slot->lock);
	err = slot->busy ? -EBUSY : 0;
	if (!err) {
		err = racelab_cfg_validate(slot->scn, &slot->cfg, &why);
		if (err)
			pr_notice("racelab: %s: start refused: %s\n",
				  slot->scn->name, why);
	}
	if (!err) {
		slot->busy = true;
		slot->abort = false;
		slot->work_cfg = slot->cfg;
		queue_work(system_unbound_wq, &slot->work);
	}
	mutex_unlock(&slot->lock);
	return err;
}

static ssize_t racelab_run_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct racelab_slot *slot = file->private_data;
	bool busy;

	mutex_lock(&slot->lock);
	busy = slot->busy;
	mutex_unlock(&slot->lock);
	return simple_read_from_buffer(ubuf, count, ppos,
				       busy ? "running\n" : "idle\n",
				       busy ? 8 : 5);
}

static ssize_t racelab_run_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct racelab_slot *slot = file->private_data;
	char buf[16];
	char *val;
	int err;

	val = racelab_get_value(ubuf, count, ppos, buf, sizeof(buf));
	if (IS_ERR(val))
		return PTR_ERR(val);
	if (!strcmp(val, "start") || !strcmp(val, "1")) {
		err = racelab_start_async(slot);
	} else if (!strcmp(val, "stop") || !strcmp(val, "0")) {
		racelab_abort(slot);
		err = 0;
	} else {
		err = -EINVAL;
	}
	return err ? err : count;
}

static const struct file_operations racelab_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = racelab_run_read,
	.write = racelab_run_write,
	.llseek = default_llseek,
};

static int racelab_stats_show(struct seq_file *m, void *v)
{
	struct racelab_slot *slot = m->private;
	const struct racelab_scenario *scn = slot->scn;
	const struct racelab_mode *mode;
	const struct racelab_knob *k;
	const char *why = NULL;
	char buf[256];
	unsigned int i;

	mutex_lock(&slot->lock);
	mode = &scn->modes[slot->cfg.mode];
	seq_printf(m, "scenario=%s state=%s\n", scn->name,
		   slot->busy ? "running" : "idle");
	seq_printf(m, "next: mode=%s kind=%s", mode->name,
		   racelab_kind_name(mode->kind));
	/* Every knob but the mode, as key=value: a value has no blank. */
	for (i = 1; (k = racelab_knob_at(scn, i)); i++) {
		buf[0] = '\0';
		k->show(scn, &slot->cfg, buf, sizeof(buf));
		strreplace(buf, ' ', ',');
		seq_printf(m, " %s=%s", k->name, buf);
	}
	seq_puts(m, "\n");
	if (racelab_cfg_validate(scn, &slot->cfg, &why))
		seq_printf(m, "next: refused: %s\n", why);
	if (slot->run) {
		struct racelab_run *run = slot->run;

		for (i = 0; i < run->cfg.threads; i++)
			seq_printf(m, "live: thread=%u cpu=%d ops=%lu\n", i,
				   run->thr[i].cpu, READ_ONCE(run->thr[i].ops));
	}
	seq_printf(m, "runs: %lu\n", slot->runs);
	seq_printf(m, "last: %s\n", slot->has_last ? slot->last.line : "none");
	mutex_unlock(&slot->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(racelab_stats);

static const char *const racelab_detector_names[RACELAB_NR_DETECTORS] = {
	[RACELAB_KCSAN] = "kcsan",
	[RACELAB_LOCKDEP] = "lockdep",
	[RACELAB_KASAN] = "kasan",
	[RACELAB_KCHECK] = "kcheck",
};

static const char *racelab_says_name(const struct racelab_mode *mode,
				     enum racelab_detector d)
{
	if (mode->kind == RACELAB_FIXED)
		return "silent";
	switch (mode->expect[d].says) {
	case RACELAB_REPORTS:
		return "reports";
	case RACELAB_SILENT:
		return "silent";
	case RACELAB_NOT_ASKED:
		break;
	}
	return "not-asked";
}

static void racelab_mode_plan(struct seq_file *m,
			      const struct racelab_scenario *scn,
			      const struct racelab_mode *mode)
{
	enum racelab_detector d;
	const char *why;
	char amp[32];

	racelab_amp_name(mode->auto_amp, mode->auto_arg, amp, sizeof(amp));
	seq_printf(m, "mode name=%s kind=%s min_threads=%u window=%s auto_amplifier=%s experiment=%s lockdep_off=%s shows_here=%s why_not=%s",
		   mode->name, racelab_kind_name(mode->kind),
		   max(mode->min_threads, racelab_min_threads(scn)),
		   (mode->flags & RACELAB_MODE_ATOMIC_WINDOW) ?
		   ((mode->flags & RACELAB_MODE_SERIAL_WINDOW) ?
		    "atomic,serial" : "atomic") :
		   ((mode->flags & RACELAB_MODE_SERIAL_WINDOW) ?
		    "serial" : "plain"), amp,
		   (mode->flags & RACELAB_MODE_EXPERIMENT) ? "yes" : "no",
		   (mode->flags & RACELAB_MODE_LOCKDEP_OFF) ? "yes" : "no",
		   racelab_mode_shows_here(mode, &why) ? "yes" : "no", why);
	for (d = 0; d < RACELAB_NR_DETECTORS; d++)
		seq_printf(m, " %s=%s", racelab_detector_names[d],
			   racelab_says_name(mode, d));
	seq_printf(m, " about=%s\n", mode->about);
	/* What a report of it names: it must (reports), or it may. */
	for (d = 0; d < RACELAB_NR_DETECTORS; d++)
		if (mode->kind != RACELAB_FIXED && mode->expect[d].names)
			seq_printf(m, "report mode=%s detector=%s must=%s names=%s\n",
				   mode->name, racelab_detector_names[d],
				   mode->expect[d].says == RACELAB_REPORTS ?
				   "yes" : "no", mode->expect[d].names);
}

/*
 * racelab/<scenario>/plan: everything the tests, the demo and the lab need
 * to know of a scenario, as the scenario declares it. One record per
 * line, its type first, then key=value pairs without blanks, except
 * about=, names= and pairs=, which run to the end of their line.
 */
static int racelab_plan_show(struct seq_file *m, void *v)
{
	const struct racelab_scenario *scn =
		((struct racelab_slot *)m->private)->scn;
	const struct racelab_plan *p;
	const struct racelab_knob *k;
	const struct racelab_file *f;
	unsigned int i;

	seq_printf(m, "scenario name=%s modes=%u min_cpus=%u min_threads=%u max_threads=%u reader_writer=%s amplifier=%s one_cpu_amplifier=%s detect_amplifier=%s demo_compare=%s about=%s\n",
		   scn->name, scn->nr_modes, racelab_min_cpus(scn),
		   racelab_min_threads(scn), racelab_max_threads(scn),
		   scn->write ? "yes" : "no",
		   (scn->flags & RACELAB_SCN_NO_AMP) ? "none-only" : "any",
		   scn->one_cpu_amplifier ?: "delay:1000",
		   scn->detect_amplifier ?: "delay:1000",
		   scn->demo_compare ?: "-", scn->about);
	seq_puts(m, "knobs names=");
	for (i = 0; (k = racelab_knob_at(scn, i)); i++)
		seq_printf(m, "%s%s", i ? "," : "", k->name);
	seq_puts(m, "\n");
	for (f = scn->files; f && f->name; f++)
		seq_printf(m, "file name=%s mode=%04o about=%s\n", f->name,
			   f->mode, f->about);
	if (scn->min_expected)
		seq_printf(m, "sample min_expected=%llu\n", scn->min_expected);
	if (scn->always)
		seq_printf(m, "always pairs=%s\n", scn->always);
	if (scn->kcsan_kernel) {
		seq_puts(m, "kcsan-kernel names=");
		for (i = 0; scn->kcsan_kernel[i]; i++)
			seq_printf(m, "%s%s", i ? "|" : "", scn->kcsan_kernel[i]);
		seq_puts(m, "\n");
	}
	if (scn->script)
		seq_printf(m, "schedule steps=%s threads=%d max_steps=%d\n",
			   scn->script->steps, RACELAB_SCRIPT_THREADS,
			   RACELAB_SCRIPT_MAX);
	for (p = scn->plans; p && p->amplifier; p++)
		seq_printf(m, "plan amplifier=%s duration_ms=%u racy_cpus=%u\n",
			   p->amplifier, p->duration_ms ?: RACELAB_PLAN_MS,
			   p->racy_cpus ?: 1);
	for (i = 0; i < scn->nr_modes; i++)
		racelab_mode_plan(m, scn, &scn->modes[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(racelab_plan);

static void racelab_modes_show(struct seq_file *m,
			       const struct racelab_scenario *scn)
{
	unsigned int i;

	for (i = 0; i < scn->nr_modes; i++)
		seq_printf(m, "  mode %-18s %-10s %s\n", scn->modes[i].name,
			   racelab_kind_name(scn->modes[i].kind),
			   scn->modes[i].about);
}

static int racelab_proc_show(struct seq_file *m, void *v)
{
	unsigned int i;

	seq_printf(m, "%-14s %-18s %-10s %7s %-16s %12s %12s %12s %s\n",
		   "scenario", "mode", "kind", "threads", "amplifier",
		   "expected", "observed", "anomalies", "verdict");
	for (i = 0; i < racelab_nr_slots; i++) {
		struct racelab_slot *slot = &racelab_slots[i];
		const struct racelab_result *res = &slot->last;

		mutex_lock(&slot->lock);
		if (!slot->has_last)
			seq_printf(m, "%-14s %-18s\n", slot->scn->name, "-");
		else
			seq_printf(m, "%-14s %-18s %-10s %7u %-16s %12llu %12llu %12llu %s\n",
				   slot->scn->name, res->mode->name,
				   racelab_kind_name(res->mode->kind),
				   res->threads, res->amp, res->expected,
				   res->observed, res->anomalies,
				   racelab_verdict_name(res));
		mutex_unlock(&slot->lock);
	}
	seq_puts(m, "\nmodes:\n");
	for (i = 0; i < racelab_nr_slots; i++) {
		seq_printf(m, " %s\n", racelab_slots[i].scn->name);
		racelab_modes_show(m, racelab_slots[i].scn);
	}
	return 0;
}

/**
 * racelab_debugfs_init() - create the debugfs tree and /proc/racelab
 * @slots: the scenarios' slots
 * @nr:    entries in @slots
 *
 * Return: 0 or -ENOMEM.
 */
int racelab_debugfs_init(struct racelab_slot *slots, unsigned int nr)
{
	const struct racelab_file *f;
	const struct racelab_knob *knob;
	unsigned int i, k;

	racelab_slots = slots;
	racelab_nr_slots = nr;
	racelab_dir = debugfs_create_dir("racelab", NULL);
	for (i = 0; i < nr; i++) {
		struct racelab_slot *slot = &slots[i];

		slot->dir = debugfs_create_dir(slot->scn->name, racelab_dir);
		for (k = 0; (knob = racelab_knob_at(slot->scn, k)); k++)
			debugfs_create_file(knob->name, 0600, slot->dir, slot,
					    &racelab_knob_fops);
		debugfs_create_file("run", 0600, slot->dir, slot,
				    &racelab_run_fops);
		debugfs_create_file("stats", 0400, slot->dir, slot,
				    &racelab_stats_fops);
		debugfs_create_file("plan", 0400, slot->dir, slot,
				    &racelab_plan_fops);
		for (f = slot->scn->files; f && f->name; f++)
			debugfs_create_file(f->name, f->mode, slot->dir, slot,
					    f->fops);
	}
	racelab_proc = proc_create_single("racelab", 0444, NULL,
					  racelab_proc_show);
	if (!racelab_proc) {
		debugfs_remove_recursive(racelab_dir);
		return -ENOMEM;
	}
	return 0;
}

/**
 * racelab_debugfs_exit() - stop every run, then remove the files
 *
 * No file can be open here (an open file pins the module), but runs started
 * from debugfs or at load time may still be in flight.
 */
void racelab_debugfs_exit(void)
{
	unsigned int i;

	/* Every run winds down at once, then each is waited for. */
	for (i = 0; i < racelab_nr_slots; i++)
		racelab_abort(&racelab_slots[i]);
	for (i = 0; i < racelab_nr_slots; i++)
		flush_work(&racelab_slots[i].work);
	debugfs_remove_recursive(racelab_dir);
	proc_remove(racelab_proc);
}

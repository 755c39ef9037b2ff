// SPDX-License-Identifier: GPL-2.0
/*
 * gocrash test-bed module. What its init function does is chosen by the
 * action parameter (testdata/mkdump/init loads it):
 *
 *   action=warn  hit a WARN_ON and stay loaded: the log holds a
 *                "WARNING: CPU: ... at ..." report before the panic, and the
 *                module is in the dump's module list (mod, mod -s);
 *   action=oops  write through a NULL pointer: with panic_on_oops the kernel
 *                panics inside insmod (the "oops" scenario);
 *   action=spin  spin for ever with preemption off: the soft-lockup watchdog
 *                panics from the timer interrupt (the "softlockup" scenario,
 *                softlockup_panic=1).
 *
 * The default is oops, what loading it did before it had a parameter.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/preempt.h>
#include <linux/string.h>

static char *action = "oops";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "warn, oops or spin");

static int *gocrash_target;
static unsigned long gocrash_spins;

static noinline void gocrash_write_null(int value)
{
	*gocrash_target = value;
}

static noinline void gocrash_warn(int value)
{
	WARN_ON(value != 0);
}

static noinline void gocrash_spin(void)
{
	preempt_disable();
	for (;;) {
		WRITE_ONCE(gocrash_spins, gocrash_spins + 1);
		cpu_relax();
	}
}

static int __init gocrash_oops_init(void)
{
	if (strcmp(action, "warn") == 0) {
		pr_info("gocrash_oops: hitting a WARN_ON\n");
		gocrash_warn(0x6b6b6b6b);
		return 0;
	}
	if (strcmp(action, "spin") == 0) {
		pr_info("gocrash_oops: spinning with preemption off\n");
		gocrash_spin();
	}
	pr_info("gocrash_oops: writing through a NULL pointer\n");
	gocrash_write_null(0x6b6b6b6b);
	return 0;
}

static void __exit gocrash_oops_exit(void)
{
}

module_init(gocrash_oops_init);
module_exit(gocrash_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gocrash test bed: WARN_ON, Oops or soft lockup on load");

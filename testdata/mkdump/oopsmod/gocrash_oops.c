// SPDX-License-Identifier: GPL-2.0
/*
 * gocrash test-bed module: its init function writes through a NULL
 * pointer, so loading it Oopses, and with panic_on_oops the kernel panics
 * inside insmod - the "oops" scenario of testdata/mkdump/mkdump.sh.
 */
#include <linux/module.h>
#include <linux/init.h>

static int *gocrash_target;

static noinline void gocrash_write_null(int value)
{
	*gocrash_target = value;
}

static int __init gocrash_oops_init(void)
{
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
MODULE_DESCRIPTION("gocrash test bed: Oops on load");

# SPDX-License-Identifier: GPL-2.0
#
# racelab out-of-tree build. The kernel build itself reads ./Kbuild.
#
#   make                    build against the running kernel
#   make KDIR=<tree>        build against another kernel tree
#   make modules_install    install into /lib/modules/<release>/updates
#   make clean
#   make demo               the demo in the QEMU lab  (qemu/lab demo)
#   make check              every test                (qemu/lab test)

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules modules_install clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

demo:
	qemu/lab demo

check:
	qemu/lab test

.PHONY: all modules modules_install clean demo check

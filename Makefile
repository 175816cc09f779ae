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
#   make matrix             detector matrix of the last make check

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules modules_install clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

demo:
	qemu/lab demo

check:
	qemu/lab test

# The detector matrix of the last `make check` (from its logs in qemu/out).
matrix:
	python3 qemu/matrix.py qemu/out

.PHONY: all modules modules_install clean demo check matrix

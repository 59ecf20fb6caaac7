#!/bin/sh
# Debian packages the tier-2 BlueZ test needs (run as root): QEMU (software emulation), the
# Debian kernel with its modules (hci_vhci, 9p, af_alg), BlueZ and a static busybox for the
# initramfs. dbus comes with the base system.
set -eu
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 linux-image-amd64 bluez busybox-static cpio dbus kmod >/dev/null

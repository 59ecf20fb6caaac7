#!/bin/sh
# Runs as PID 1 in the tier-2 guest (host root mounted read-only over 9p, tmpfs on /tmp, /run,
# /var/lib/bluetooth): load the Bluetooth modules, start dbus and bluetoothd, run the scenario
# (tests/bluez/scenario.py) with the repository's venv, write its output to the shared out
# directory and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp PYTHONDONTWRITEBYTECODE=1
mkdir -p /tmp/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /tmp/out
{
    echo "guest: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"
    # af_alg + algif_*: bluetoothd uses the kernel crypto API for LE keys and addresses.
    modprobe -a hci_vhci af_alg algif_hash algif_skcipher
    mkdir -p /run/dbus
    dbus-daemon --system --fork
    /usr/libexec/bluetooth/bluetoothd -n > /tmp/out/bluetoothd.log 2>&1 &
    sleep 1
    cd /work/main
    .venv/bin/python -m tests.bluez.scenario > /tmp/out/scenario.json 2> /tmp/out/scenario.err
    echo "scenario exit $?"
    echo "guest: done, up $(cut -d' ' -f1 /proc/uptime) s"
} > /tmp/out/guest.log 2>&1
sync
echo o > /proc/sysrq-trigger
sleep 5

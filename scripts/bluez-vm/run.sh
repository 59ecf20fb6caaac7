#!/bin/sh
# Boot the tier-2 guest once and run the BlueZ scenario in it (about a minute with software
# emulation). Usage: scripts/bluez-vm/run.sh OUT_DIR   (OUT_DIR receives guest.log,
# bluetoothd.log, scenario.json, scenario.err). Needs: qemu-system-x86 linux-image-amd64
# bluez busybox-static (Debian packages; .ci/run installs them).
set -eu
OUT=$(realpath "$1")
mkdir -p "$OUT"
HERE=$(dirname "$(realpath "$0")")
KVER=${KVER:-$(ls /lib/modules | sort -V | tail -n 1)}
INITRD="$OUT/initramfs.cpio.gz"
"$HERE/build-initramfs.sh" "$KVER" "$INITRD"
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 \
    -accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot \
    -kernel "/boot/vmlinuz-$KVER" -initrd "$INITRD" \
    -append "console=ttyS0 quiet panic=-1 rdinit=/init" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=out,path="$OUT",security_model=none,multidevs=remap \
    -device virtio-9p-pci,fsdev=out,mount_tag=out \
    > "$OUT/console.log" 2>&1 || echo "qemu exited with $?" >&2
cat "$OUT/guest.log" 2>/dev/null || { echo "no guest log; console:" >&2; tail -n 30 "$OUT/console.log" >&2; exit 1; }

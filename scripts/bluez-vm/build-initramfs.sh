#!/bin/sh
# Build a tiny initramfs for the tier-2 BlueZ guest: busybox + the modules needed to mount the
# host's root file system over virtio-9p (read-only), then hand over to guest-init.sh.
# Usage: build-initramfs.sh KERNEL_VERSION OUT.cpio.gz
# Needs Debian's busybox-static and linux-image-amd64 (the same kernel the guest boots).
set -eu
KVER=$1
OUT=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/lib/modules" "$WORK/proc" "$WORK/sys" "$WORK/dev" "$WORK/newroot"
cp /bin/busybox "$WORK/bin/busybox"
for applet in sh mount insmod mkdir switch_root echo cat sleep poweroff; do
    ln -s busybox "$WORK/bin/$applet"
done
# Modules in dependency order (modprobe --show-depends prints them that way).
for m in virtio_pci 9pnet_virtio 9p; do
    modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' > "$WORK/modules.list"
while read -r path; do
    name=$(basename "$path")
    case "$path" in
        *.ko.xz) xz -dc "$path" > "$WORK/lib/modules/${name%.xz}"; name=${name%.xz} ;;
        *) cp "$path" "$WORK/lib/modules/$name" ;;
    esac
    echo "$name" >> "$WORK/lib/modules/order"
done < "$WORK/modules.list"
cat > "$WORK/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m"; done < /lib/modules/order
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /newroot || {
    echo "hrvcalm-vm: cannot mount the host root"; echo o > /proc/sysrq-trigger; }
mount -t tmpfs tmp /newroot/tmp
mount -t tmpfs run /newroot/run
mount -t tmpfs varlib /newroot/var/lib/bluetooth
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /bin/sh /work/main/scripts/bluez-vm/guest-init.sh
INIT
chmod +x "$WORK/init"
(cd "$WORK" && find . -print | cpio -o -H newc --quiet | gzip -1) > "$OUT"
